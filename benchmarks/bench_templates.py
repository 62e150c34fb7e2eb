"""Template scan cost: sagefence against checkov and cfn-lint on the same generated corpus.

    python benchmarks/bench_templates.py --json-out benchmarks/out/templates.json

Whole-process wall time (perf_counter around the subprocess) and peak memory (max RSS of
the process tree's largest process, from GNU time's ``-v -o``; without it, from
``getrusage(RUSAGE_CHILDREN)`` in a small wrapper process). Each tool gets one warm-up
run (whose output is kept and sanity-checked: did it really look at the resources?)
and then ``--runs`` measured runs; the table shows median and min-max, and the ratio
of each run to sagefence's run of the same index. Also measured: start-up
(``--version``) and the floor, a process that only parses the same files with PyYAML's
C loader and a constructor for the CloudFormation tags.

checkov and cfn-lint are installed, pinned, each into its own venv under
``benchmarks/.venvs/<tool>`` on first use. GNU time is the Debian package ``time``
(``apt-get install time``); it is optional. By default every process is pinned to one
CPU with ``taskset`` (``--cpus``), so tools that fork workers (checkov) are compared
on the same single core and the benchmark leaves the other core alone.

Scenarios: ``small`` is one template of 20 resources; ``large`` is 1,000 templates of
200 resources, times ``--scale`` (checkov needs about 10 ms and cfn-lint about 14 ms
per resource here, so the full large scenario takes hours; the report says what ran).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from corpus import generate  # noqa: E402

VENVS = HERE / ".venvs"
PINS = {"checkov": "3.3.30", "cfn-lint": "1.58.0"}
GNU_TIME = Path("/usr/bin/time")
RUSAGE_WRAPPER = (
    "import resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[2:]).returncode\n"
    "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "open(sys.argv[1], 'w').write(f'Maximum resident set size (kbytes): {peak}\\n')\n"
    "sys.exit(code)\n"
)
PARSE_FLOOR = (
    "import sys, pathlib, yaml\n"
    "class Loader(yaml.CSafeLoader):\n"
    "    pass\n"
    "def tagged(loader, suffix, node):\n"
    "    if isinstance(node, yaml.ScalarNode):\n"
    "        return {suffix: loader.construct_scalar(node)}\n"
    "    if isinstance(node, yaml.SequenceNode):\n"
    "        return {suffix: loader.construct_sequence(node, deep=True)}\n"
    "    return {suffix: loader.construct_mapping(node, deep=True)}\n"
    "Loader.add_multi_constructor('!', tagged)\n"
    "count = 0\n"
    "for path in sorted(pathlib.Path(sys.argv[1]).rglob('*.yaml')):\n"
    "    with open(path, 'rb') as handle:\n"
    "        count += len(yaml.load(handle, Loader=Loader)['Resources'])\n"
    "print(count)\n"
)


@dataclass
class Tool:
    name: str
    version_cmd: list[str]
    scan_cmd: list[str]
    ok_codes: frozenset[int]


@dataclass
class Run:
    wall_s: float
    max_rss_kb: int | None
    exit_code: int | None
    stderr_tail: str = ""


@dataclass
class Series:
    status: str = "ok"
    runs: list[Run] = field(default_factory=list)
    note: str = ""
    sanity: str = ""
    ratio_to_sagefence: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        walls = [r.wall_s for r in self.runs]
        rss = [r.max_rss_kb for r in self.runs if r.max_rss_kb]
        out: dict[str, Any] = {"status": self.status, "note": self.note, "sanity": self.sanity,
                               "runs": [asdict(r) for r in self.runs]}
        if walls:
            out.update(median_s=statistics.median(walls), min_s=min(walls), max_s=max(walls),
                       max_rss_mb=max(rss) / 1024 if rss else None)
        if self.ratio_to_sagefence:
            out.update(ratio_to_sagefence=self.ratio_to_sagefence,
                       ratio_median=statistics.median(self.ratio_to_sagefence))
        return out


def pinned(cmd: list[str], cpus: str | None) -> list[str]:
    if cpus and shutil.which("taskset"):
        return ["taskset", "-c", cpus, *cmd]
    return cmd


def measure(cmd: list[str], timeout: float, stdout_path: Path | None = None) -> Run:
    """Run ``cmd`` once; wall time from here, peak RSS from GNU time or a rusage wrapper."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "time.txt"
        if GNU_TIME.exists():
            full = [str(GNU_TIME), "-v", "-o", str(report), *cmd]
        else:
            full = [sys.executable, "-c", RUSAGE_WRAPPER, str(report), *cmd]
        out = open(stdout_path, "wb") if stdout_path else subprocess.DEVNULL  # noqa: SIM115
        start = time.perf_counter()
        proc = subprocess.Popen(full, stdout=out, stderr=subprocess.PIPE, start_new_session=True)
        try:
            _, err = proc.communicate(timeout=timeout)
            wall = time.perf_counter() - start
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the tool's own session: checkov's workers too
            proc.communicate()
            return Run(timeout, None, None, f"timed out after {timeout:.0f} s")
        finally:
            if stdout_path:
                out.close()  # type: ignore[union-attr]
        text = report.read_text() if report.exists() else ""
        match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
        return Run(wall, int(match.group(1)) if match else None, proc.returncode, err.decode(errors="replace")[-600:])


def ensure_venv(name: str) -> Path:
    """Install ``name`` at its pinned version into benchmarks/.venvs/<name>; returns its bin folder."""
    target = VENVS / name
    binary = target / "bin" / name
    if not binary.exists():
        print(f"installing {name}=={PINS[name]} into {target} (a few minutes) ...", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(target)
        subprocess.run([str(target / "bin" / "python"), "-m", "pip", "install", "-q", f"{name}=={PINS[name]}"],
                       check=True, timeout=1800)
    return target / "bin"


def sagefence_venv() -> Path:
    """The work tree installed (not editable) into benchmarks/.venvs/sagefence, like the other tools in
    theirs: every tool then starts from a venv of its own, not from an interpreter whose site-packages
    and .pth files cost each process tens of milliseconds. Reinstalled once per benchmark run."""
    target = VENVS / "sagefence"
    python = target / "bin" / "python"
    if not python.exists():
        venv.EnvBuilder(with_pip=True, clear=True).create(target)
        subprocess.run([str(python), "-m", "pip", "install", "-q", str(HERE.parent)], check=True, timeout=1800)
    elif not getattr(sagefence_venv, "fresh", False):
        subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall",
                        str(HERE.parent)], check=True, timeout=600)
    sagefence_venv.fresh = True  # type: ignore[attr-defined]
    return target / "bin"


def tools(corpus: Path, output: Path, wanted: list[str]) -> list[Tool]:
    found = []
    floor_python = sys.executable
    if "sagefence" in wanted:
        binary = str(sagefence_venv() / "sagefence")
        floor_python = str(sagefence_venv() / "python")
        found.append(Tool("sagefence", [binary, "--version"],
                          [binary, "scan", "templates", str(corpus), "--format", "json", "--output", str(output)],
                          frozenset({0, 1})))
    if "checkov" in wanted:
        binary = str(ensure_venv("checkov") / "checkov")
        found.append(Tool("checkov", [binary, "--version"],
                          [binary, "-d", str(corpus), "--framework", "cloudformation", "--quiet", "--compact",
                           "-o", "json"], frozenset({0, 1})))
    if "cfn-lint" in wanted:
        binary = str(ensure_venv("cfn-lint") / "cfn-lint")
        found.append(Tool("cfn-lint", [binary, "--version"], [binary, f"{corpus}/**/*.yaml"],
                          frozenset(range(0, 16, 2))))
    found.append(Tool("yaml-floor", [floor_python, "-c", "import yaml"],
                      [floor_python, "-c", PARSE_FLOOR, str(corpus)], frozenset({0})))
    return found


def sanity(tool: str, stdout: Path, output: Path) -> str:
    """One line saying how much work the warm-up run really did; ValueError if its output is unusable."""
    text = stdout.read_text(errors="replace") if stdout.exists() else ""
    try:
        if tool == "sagefence":
            document = json.loads(output.read_text())
            summary, findings = document.get("summary", {}), document.get("findings", [])
            rules = len({f.get("rule_id") for f in findings})
            return f"{len(findings)} findings of {rules} rules, {len(document.get('errors', []))} errors, " \
                   f"fail {sum(summary.get('fail', {}).values())}, pass {summary.get('pass')}, " \
                   f"unknown {summary.get('unknown')}"
        if tool == "checkov":
            reports = json.loads(text)
            reports = reports if isinstance(reports, list) else [reports]
            s = reports[0].get("summary", {})
            return f"{s.get('resource_count')} resources, {s.get('passed')} passed, {s.get('failed')} failed, " \
                   f"{s.get('parsing_errors')} parsing errors"
        if tool == "cfn-lint":
            return f"{len(re.findall(r'^[EWI][0-9]{4} ', text, re.M))} matches"
        return f"{int(text)} resources parsed"
    except (OSError, ValueError, IndexError, AttributeError) as exc:
        raise ValueError(f"unreadable output: {exc}") from exc


def series(tool: Tool, runs: int, timeout: float, cpus: str | None, workdir: Path, output: Path,
           warm_up: bool = True) -> Series:
    """One warm-up run (its output checked by ``sanity``), then ``runs`` measured runs. Without
    ``warm_up`` the checked run is the first measured one (for runs that take half an hour)."""
    result = Series()
    stdout = workdir / f"{tool.name}.stdout"
    warm = measure(pinned(tool.scan_cmd, cpus), timeout, stdout)
    if warm.exit_code not in tool.ok_codes:
        result.status = "failed" if warm.exit_code is not None else "timeout"
        result.note = f"warm-up exit {warm.exit_code}: {warm.stderr_tail.strip()[-300:]}"
        return result
    try:
        result.sanity = sanity(tool.name, stdout, output)
    except ValueError as exc:
        result.status, result.note = "failed", f"warm-up exit {warm.exit_code}, {exc}: {warm.stderr_tail.strip()}"
        return result
    scan_cmd = ["/dev/null" if part == str(output) else part for part in tool.scan_cmd]
    if not warm_up:
        result.runs.append(warm)
        runs -= 1
    for _ in range(runs):
        run = measure(pinned(scan_cmd, cpus), timeout)
        result.runs.append(run)
        if run.exit_code not in tool.ok_codes:
            result.status = "failed" if run.exit_code is not None else "timeout"
            result.note = f"exit {run.exit_code}: {run.stderr_tail.strip()[-300:]}"
            break
    return result


def scenario(name: str, templates: int, resources: int, args: argparse.Namespace) -> dict[str, Any]:
    corpus = args.corpus_dir / f"r{resources}x{templates}-seed{args.seed}"
    files = sorted(corpus.rglob("*.yaml")) if corpus.exists() else []
    if len(files) != templates:
        shutil.rmtree(corpus, ignore_errors=True)
        files = generate(corpus, resources, templates, args.seed)
    size = sum(f.stat().st_size for f in files)
    print(f"\n== {name}: {templates} templates x {resources} resources ({size / 1e6:.1f} MB) in {corpus}", flush=True)
    workdir = args.out_dir / name
    workdir.mkdir(parents=True, exist_ok=True)
    output = workdir / "sagefence.json"
    output.unlink(missing_ok=True)
    results: dict[str, Series] = {}
    for tool in tools(corpus, output, args.tools):
        print(f"   {tool.name} ...", flush=True)
        results[tool.name] = series(tool, args.runs, args.timeout, args.cpus, workdir, output, args.warm_up)
    base = results.get("sagefence")
    for tool_name, res in results.items():
        if base and base.status == "ok" and res.status == "ok" and tool_name != "sagefence":
            res.ratio_to_sagefence = [r.wall_s / b.wall_s for r, b in zip(res.runs, base.runs, strict=True)]
    return {"name": name, "templates": templates, "resources_per_template": resources,
            "resources": templates * resources, "bytes": size, "corpus": str(corpus),
            "results": {k: v.summary() for k, v in results.items()}}


def startup(args: argparse.Namespace) -> dict[str, Any]:
    print("\n== start-up (--version)", flush=True)
    found = tools(Path("."), Path("/dev/null"), args.tools)
    found.append(Tool("python", [str(sagefence_venv() / "python"), "-c", "pass"], [], frozenset({0})))
    out: dict[str, Any] = {}
    for tool in found:
        res = Series()
        for index in range(args.runs + 1):
            run = measure(pinned(tool.version_cmd, args.cpus), 120)
            if run.exit_code != 0:
                res.status, res.note = "failed", f"exit {run.exit_code}: {run.stderr_tail.strip()[-300:]}"
                break
            if index:
                res.runs.append(run)
        out[tool.name] = {"version": version_of(tool), "command": tool.version_cmd, **res.summary()}
    return out


def version_of(tool: Tool) -> str:
    """The last line the tool prints for its version command (yaml-floor: PyYAML's version)."""
    cmd = tool.version_cmd
    if tool.name == "yaml-floor":
        cmd = [cmd[0], "-c", "import yaml; print('PyYAML', yaml.__version__, 'libyaml', yaml.__with_libyaml__)"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    lines = proc.stdout.strip().splitlines()
    return lines[-1] if proc.returncode == 0 and lines else ""


def fmt_range(values: dict[str, Any]) -> str:
    if "median_s" not in values:
        return f"{values['status']}: {' '.join(values['note'].split())[-200:]}"
    return f"{values['median_s']:8.3f} s  [{values['min_s']:.3f}-{values['max_s']:.3f}]"


def table(report: dict[str, Any]) -> str:
    lines = [f"{'scenario':<22}{'tool':<12}{'median wall [min-max]':<34}{'peak RSS':>10}  {'x sagefence':<10}"]
    rows = [("start-up", report["startup"])] + [
        (f"{s['name']} {s['templates']}x{s['resources_per_template']}", s["results"]) for s in report["scenarios"]]
    for label, results in rows:
        for tool, values in results.items():
            rss = f"{values['max_rss_mb']:.0f} MB" if values.get("max_rss_mb") else "-"
            ratio = "-"
            if values.get("ratio_median"):
                ratios = values["ratio_to_sagefence"]
                ratio = f"{values['ratio_median']:.1f} [{min(ratios):.1f}-{max(ratios):.1f}]"
            lines.append(f"{label:<22}{tool:<12}{fmt_range(values):<34}{rss:>10}  {ratio}")
        for tool, values in results.items():
            if values.get("sanity"):
                lines.append(f"{'':<22}{tool:<12}warm-up: {values['sanity']}")
    return "\n".join(lines)


def sagefence_tree() -> dict[str, Any]:
    """Which sagefence was measured: HEAD and the package files changed in the work tree."""
    def git(*args: str) -> str:
        proc = subprocess.run(["git", "-C", str(HERE.parent), *args], capture_output=True, text=True,
                              timeout=30, check=False)
        return proc.stdout.rstrip("\n")

    return {"head": git("rev-parse", "--short", "HEAD"),
            "uncommitted": git("status", "--porcelain", "--", "sagefence").splitlines()}


def write_report(report: dict[str, Any], path: Path | None) -> None:
    """The full report as JSON, when asked for (both benchmarks)."""
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2))
    print(f"\nwrote {path}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="measured runs per tool, after one warm-up")
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the 1,000 templates of 'large'")
    parser.add_argument("--scenarios", default="small,large")
    parser.add_argument("--tools", default="sagefence,checkov,cfn-lint")
    parser.add_argument("--cpus", default="0", help="taskset CPU list for every process; '' to not pin")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per run")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-warm-up", dest="warm_up", action="store_false",
                        help="the first run (whose output is checked) is measured too: for the full-size corpus")
    parser.add_argument("--corpus-dir", type=Path, default=HERE / "corpus")
    parser.add_argument("--out-dir", type=Path, default=HERE / "out" / "templates")
    parser.add_argument("--json-out", type=Path, help="write the full report here")
    args = parser.parse_args(argv)
    args.tools = [t for t in args.tools.split(",") if t]
    large = max(1, round(1000 * args.scale))
    plan = {"small": (1, 20), "large": (large, 200)}
    report: dict[str, Any] = {
        "machine": {"python": sys.version.split()[0], "platform": platform.platform(), "cpus": os.cpu_count(),
                    "pinned_to_cpus": args.cpus or None, "gnu_time": GNU_TIME.exists(),
                    "load_average_at_start": os.getloadavg()},
        "settings": {"runs": args.runs, "scale": args.scale, "seed": args.seed, "pins": PINS,
                     "warm_up": args.warm_up, "scenarios": args.scenarios},
        "sagefence_tree": sagefence_tree(),
        "startup": startup(args), "scenarios": []}
    for name in args.scenarios.split(","):
        templates, resources = plan[name]
        report["scenarios"].append(scenario(name, templates, resources, args))
    report["machine"]["load_average_at_end"] = os.getloadavg()
    print("\n" + table(report))
    write_report(report, args.json_out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
