"""Output files: checked before any work starts, written so that a crash never leaves half a report.

A report is written to a temporary file in its own folder and renamed over the destination only when
every output of the run is complete, so an earlier report survives a failed run intact and a reader
never sees a truncated one. Renaming replaces a symlink itself, never its target (a CI checkout may
hold ``sagefence.sarif`` as a committed symlink). An output may not be one of the run's input files,
nor named twice.
"""

from __future__ import annotations

import os
import re
import secrets
import stat
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TextIO

_TEMPLATE_SUFFIXES = (".yaml", ".yml", ".json", ".template")
_RESOURCES_KEY = re.compile(r'^(Resources\s*:|\s*"Resources"\s*:)', re.MULTILINE)


class OutputPathError(Exception):
    """An output path that cannot or must not be written: a usage error, found before the run starts."""


class OutputWriteError(Exception):
    """Writing an output failed part way (disk full, folder removed): nothing was replaced."""


def is_stdout(path: str | None) -> bool:
    return path is None or path == "-"


def location(path: str) -> Path:
    """The directory entry a write replaces: the folder resolved, the last name kept (a symlink is not followed)."""
    target = Path(path)
    return target.parent.resolve() / target.name


def check_outputs(paths: Sequence[str | None], inputs: Sequence[str] = (), input_folders: Sequence[str] = ()) -> None:
    """Raise OutputPathError unless every file path can be written, is named once and is not an input.

    ``inputs`` are files the run reads; ``input_folders`` are folders walked for templates, where an
    existing output file that looks like a template (a top-level ``Resources`` key) counts as an input.
    """
    seen: dict[Path, str] = {}
    to_stdout = 0
    for path in paths:
        if path is None or is_stdout(path):
            to_stdout += 1
            if to_stdout > 1:
                raise OutputPathError("several formats would be written to stdout: give each its own --output")
            continue
        where = location(path)
        if where in seen:
            raise OutputPathError(f"--output {path} is given for two formats; each format needs its own file")
        seen[where] = path
        _check_not_input(path, inputs, input_folders)
        check_writable(path)


def check_writable(path: str) -> None:
    target = Path(path)
    if target.is_dir() and not target.is_symlink():
        raise OutputPathError(f"--output {path} is a folder, not a file")
    folder = target.parent
    if not folder.is_dir():
        raise OutputPathError(f"--output {path}: folder {folder} does not exist")
    _probe(folder, f"--output {path}")


def prepare_folder(folder: str) -> None:
    """An --output-dir is made if missing (as before); it must then be a writable folder."""
    path = Path(folder)
    if path.exists() and not path.is_dir():
        raise OutputPathError(f"--output-dir {folder} is a file, not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputPathError(f"--output-dir {folder}: cannot create it: {exc.strerror or exc}") from exc
    _probe(path, f"--output-dir {folder}")


def _probe(folder: Path, label: str) -> None:
    """Create and remove a file: the only reliable test (permissions, read-only mounts, ACLs, root)."""
    try:
        handle, name = _create_temp(folder / ".sagefence-probe")
    except OSError as exc:
        raise OutputPathError(f"{label}: cannot write to folder {folder}: {exc.strerror or exc}") from exc
    os.close(handle)
    os.unlink(name)


def _resolved(path: str) -> Path:
    """The path with symlinks resolved; a symlink loop (RuntimeError before Python 3.13, OSError after)
    is compared as written, made absolute."""
    try:
        return Path(path).resolve()
    except (OSError, RuntimeError):
        return Path(os.path.abspath(path))


def _check_not_input(path: str, inputs: Sequence[str], input_folders: Sequence[str]) -> None:
    candidates = {location(path), _resolved(path)}
    for raw in inputs:
        if _resolved(raw) in candidates:
            raise OutputPathError(f"--output {path} is an input file ({raw}); write the report elsewhere")
    target = Path(path)
    if not target.is_file() or not target.name.lower().endswith(_TEMPLATE_SUFFIXES):
        return
    for raw in input_folders:
        folder = _resolved(raw)
        if any(folder in c.parents for c in candidates) and _looks_like_template(target):
            raise OutputPathError(f"--output {path} is a template in the scanned folder {raw}; "
                                  "write the report elsewhere")


def _looks_like_template(path: Path) -> bool:
    try:
        return bool(_RESOURCES_KEY.search(path.read_text(encoding="utf-8", errors="replace")))
    except OSError:
        return False


def _create_temp(stem: Path) -> tuple[int, str]:
    """A new file next to ``stem`` (mode 0666 less the umask, like ``open``), never an existing one."""
    while True:
        name = f"{stem.parent / ('.' + stem.name.lstrip('.'))}.{secrets.token_hex(4)}.tmp"
        try:
            return os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), name
        except FileExistsError:
            continue


class StagedOutputs:
    """Outputs written to temporary files, renamed into place by ``commit`` or removed by ``discard``."""

    def __init__(self) -> None:
        self._pending: list[tuple[str, str]] = []

    @contextmanager
    def open(self, path: str) -> Iterator[TextIO]:
        target = Path(path)
        try:
            handle, temp = _create_temp(target)
        except OSError as exc:
            raise OutputWriteError(f"cannot write {path}: {exc.strerror or exc}") from exc
        self._pending.append((temp, path))
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            try:
                yield out
                out.flush()
                os.fsync(out.fileno())
            except OSError as exc:
                raise OutputWriteError(f"cannot write {path}: {exc.strerror or exc}") from exc
        _keep_mode(target, temp)

    def commit(self) -> None:
        while self._pending:
            temp, path = self._pending[0]
            try:
                os.replace(temp, path)
            except OSError as exc:
                raise OutputWriteError(f"cannot write {path}: {exc.strerror or exc}") from exc
            self._pending.pop(0)

    def discard(self) -> None:
        for temp, _ in self._pending:
            with suppress(OSError):
                os.unlink(temp)
        self._pending.clear()


def _keep_mode(target: Path, temp: str) -> None:
    """A replaced regular file keeps its permissions (a report shared read-only stays so)."""
    try:
        info = target.lstat()
    except OSError:
        return
    if stat.S_ISREG(info.st_mode):
        os.chmod(temp, stat.S_IMODE(info.st_mode))


@contextmanager
def staged() -> Iterator[StagedOutputs]:
    """Every output of a run, or none: committed when the block ends normally, discarded otherwise."""
    outputs = StagedOutputs()
    try:
        yield outputs
        outputs.commit()
    finally:
        outputs.discard()
