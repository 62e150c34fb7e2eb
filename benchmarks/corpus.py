"""Deterministic corpus of CloudFormation templates that look like SageMaker ML environments.

    python benchmarks/corpus.py --resources 200 --templates 1000 --out benchmarks/corpus/r200x1000

Each template holds exactly ``--resources`` resources, built from "environment" units
(network, VPC endpoints, KMS, buckets with policies, roles, guardrail policy, notebook,
Studio domain, model) with a realistic spread of secure and insecure settings. The same
``--seed`` always produces byte-identical files; template ``i`` depends only on
``(seed, i, resources)``, so corpora of different sizes share their first templates.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus_blocks import Tag, Unit, build_unit, ref, sub, tags  # noqa: E402

Dumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
TEAMS = ("Fraud", "Churn", "Forecast", "Vision", "Nlp", "Recsys", "Pricing", "Risk", "Genomics", "Search")
POSTURES = {"hardened": 0.92, "mixed": 0.6, "legacy": 0.25}


def _represent_tag(dumper: yaml.SafeDumper, data: Tag) -> yaml.Node:
    if isinstance(data.value, list):
        return dumper.represent_sequence(data.tag, data.value, flow_style=True)
    return dumper.represent_scalar(data.tag, str(data.value), style="'" if data.quoted else None)


class CfnDumper(Dumper):  # type: ignore[misc, valid-type]
    """Never writes anchors or aliases: CloudFormation does not accept them."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


CfnDumper.add_representer(Tag, _represent_tag)


PARAMETERS: dict[str, dict[str, Any]] = {
    "PartnerAccountId": {"Type": "String", "Default": "444455556666"},
    "CiAccountId": {"Type": "String"},
    "DeployerExternalId": {"Type": "String", "NoEcho": True},
    "ExistingSubnetId": {"Type": "AWS::EC2::Subnet::Id", "Default": "subnet-0123456789abcdef0"},
    "ExistingRouteTableId": {"Type": "String", "Default": "rtb-0123456789abcdef0"},
    "ExistingSecurityGroupId": {"Type": "AWS::EC2::SecurityGroup::Id", "Default": "sg-0123456789abcdef0"},
    "ExistingRoleName": {"Type": "String", "Default": "ml-shared-execution"},
    "ExistingRoleArn": {"Type": "String"},
    "SharedKeyArn": {"Type": "String"},
    "S3EndpointId": {"Type": "String", "Default": "vpce-0123456789abcdef0"},
    "BackupEndpointId": {"Type": "String", "Default": "vpce-0fedcba9876543210"},
    "KmsEndpointId": {"Type": "String", "Default": "vpce-0aaaabbbbccccdddd"},
}
SUB_NAME = re.compile(r"\$\{([A-Za-z0-9]+)[}.]")


def referenced(value: Any, names: set[str]) -> set[str]:
    """Names used by ``!Ref`` or ``${Name}`` in ``!Sub`` anywhere under ``value``."""
    if isinstance(value, Tag):
        if value.tag == "!Ref":
            names.add(value.value)
        elif value.tag == "!Sub":
            names.update(SUB_NAME.findall(value.value))
        else:
            referenced(value.value, names)
    elif isinstance(value, dict):
        for item in value.values():
            referenced(item, names)
    elif isinstance(value, list):
        for item in value:
            referenced(item, names)
    return names


def template(seed: int, index: int, resources: int) -> dict[str, Any]:
    rng = random.Random(f"{seed}:{index}:{resources}")
    conditional = rng.random() < 0.3
    environment = {"Type": "String", "Default": rng.choice(["dev", "prod"]), "AllowedValues": ["dev", "staging", "prod"]}
    body: dict[str, Any] = {"AWSTemplateFormatVersion": "2010-09-09",
                            "Description": f"ML environment {index} (generated, seed {seed})",
                            "Parameters": {}, "Resources": {}}
    unit_index, used_condition = 0, False
    while len(body["Resources"]) < resources:
        name = f"{TEAMS[unit_index % len(TEAMS)]}{unit_index // len(TEAMS) or ''}"
        posture = rng.choices(list(POSTURES), weights=[5, 4, 1])[0]
        unit = Unit(rng, name, POSTURES[posture], conditional)
        build_unit(unit, resources - len(body["Resources"]))
        if not unit.resources:
            unit.add("ScratchBucket", "AWS::S3::Bucket", {"Tags": tags(unit, "scratch")})
        body["Resources"].update(unit.resources)
        used_condition |= unit.used_condition
        unit_index += 1
    names = referenced(body["Resources"], set())
    body["Parameters"] = {"Environment": environment,
                          **{key: value for key, value in PARAMETERS.items() if key in names}}
    if used_condition:
        body = {**{k: body[k] for k in ("AWSTemplateFormatVersion", "Description", "Parameters")},
                "Conditions": {"IsProduction": Tag("!Equals", [ref("Environment"), "prod"])},
                "Resources": body["Resources"]}
    if "FraudStudioDomain" in body["Resources"]:
        body["Outputs"] = {"StudioDomainId": {"Value": ref("FraudStudioDomain"),
                                              "Export": {"Name": sub("${AWS::StackName}-DomainId")}}}
    return body


def generate(out: Path, resources: int, templates: int, seed: int) -> list[Path]:
    paths = []
    for index in range(templates):
        path = out / f"team{index % 10:02d}" / f"ml-env-{index:05d}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        text = yaml.dump(template(seed, index, resources), Dumper=CfnDumper, sort_keys=False, width=120)
        path.write_text(text)
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--resources", type=int, default=200, help="resources per template (any count >= 1)")
    parser.add_argument("--templates", type=int, default=1, help="number of templates")
    parser.add_argument("--out", type=Path, required=True, help="output folder (created)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    if args.resources < 1 or args.templates < 1:
        parser.error("--resources and --templates must be at least 1")
    paths = generate(args.out, args.resources, args.templates, args.seed)
    size = sum(p.stat().st_size for p in paths)
    print(f"wrote {len(paths)} templates x {args.resources} resources, {size / 1e6:.1f} MB, to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
