from __future__ import annotations

import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from sagefence.sources.cfn_yaml import MAX_FILE_BYTES, TemplateReadError, parse_text, read_document


def test_short_forms_become_long_forms() -> None:
    doc = parse_text("""
Resources:
  A:
    Type: T
    Properties:
      Ref1: !Ref X
      Att: !GetAtt B.Arn
      AttList: !GetAtt [B, Arn]
      Sub: !Sub '${AWS::Region}-x'
      SubList: !Sub ['${a}', {a: 1}]
      If: !If [C, 1, 2]
      Join: !Join [',', [a, b]]
      Select: !Select [0, !GetAZs '']
      Map: !FindInMap [M, a, b]
      Imp: !ImportValue shared-vpc
      B64: !Base64 x
      Split: !Split [',', !ImportValue list]
      Cidr: !Cidr [10.0.0.0/16, 2, 8]
      Cond: !Condition C
Conditions:
  C: !And [!Equals [a, b], !Not [!Or [!Condition D, !Equals [1, 1]]]]
""")
    props = doc["Resources"]["A"]["Properties"]
    assert props["Ref1"] == {"Ref": "X"}
    assert props["Att"] == {"Fn::GetAtt": ["B", "Arn"]} == props["AttList"]
    assert props["Sub"] == {"Fn::Sub": "${AWS::Region}-x"}
    assert props["Select"] == {"Fn::Select": [0, {"Fn::GetAZs": ""}]}
    assert props["Split"] == {"Fn::Split": [",", {"Fn::ImportValue": "list"}]}
    assert props["Cond"] == {"Condition": "C"}
    assert doc["Conditions"]["C"]["Fn::And"][1] == {"Fn::Not": [{"Fn::Or": [{"Condition": "D"}, {"Fn::Equals": [1, 1]}]}]}


def test_resource_lines_yaml_and_json() -> None:
    doc = parse_text("AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  A:\n    Type: T\n\n  B:\n    Type: T\n")
    assert doc["Resources"].key_lines == {"A": 3, "B": 6}
    doc = parse_text('{\n "Resources": {\n  "A": {"Type": "T"},\n\n  "B": {"Type": "T"}\n }\n}', json_first=True)
    assert doc["Resources"].key_lines == {"A": 3, "B": 5}


@pytest.mark.parametrize(("text", "line", "words"), [
    ("Resources:\n  A:\n    Type: [x\n", 4, "malformed YAML"),
    ("Resources:\n  A: !Bogus x\n", 2, "unknown YAML tag !Bogus"),
    ("Resources:\n  A: &anchor\n    Type: T\n", 2, "anchors"),
    ("Resources:\n  A:\n    Type: T\n  B:\n    <<: {Type: T}\n", 5, "merge keys"),
    ("a: 1\n\tb: 2\n", 2, "malformed YAML"),
])
def test_malformed_yaml_names_the_line(text: str, line: int, words: str) -> None:
    with pytest.raises(TemplateReadError) as info:
        parse_text(text)
    assert info.value.line == line
    assert words in str(info.value)


def test_malformed_json_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text('{\n  "Resources": {\n    "A": {"Type": "T",}\n  }\n}\n')
    with pytest.raises(TemplateReadError) as info:
        read_document(path)
    assert info.value.line == 3 and "malformed JSON" in str(info.value)


def test_alias_bomb_is_refused_fast_with_bounded_memory() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 12):
        prev, cur = chr(96 + i), chr(97 + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    bomb = "Resources:\n  X: {Type: T}\n" + "\n".join(lines) + "\n"
    tracemalloc.start()
    started = time.perf_counter()
    with pytest.raises(TemplateReadError, match="anchors"):
        parse_text(bomb)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 5 * 1024 * 1024, peak  # 9**12 expanded items would need terabytes
    assert elapsed < 5  # a generous bound: expansion would never finish


def test_huge_file_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as f:
        f.truncate(MAX_FILE_BYTES + 1)
    with pytest.raises(TemplateReadError, match="over the 10485760 byte limit"):
        read_document(path)


def test_ampersand_in_strings_is_not_an_anchor() -> None:
    doc = parse_text("Resources:\n  A:\n    Type: T\n    Properties: {D: 'R&D *team*', E: a & b}\n")
    assert doc["Resources"]["A"]["Properties"] == {"D": "R&D *team*", "E": "a & b"}


REPO = Path(__file__).resolve().parents[2]
EDGE_CASES = [
    "a: 1\nb: -0\nc: +12_000\nd: 1.5e3\ne: .inf\nf: -.NaN\ng: yes\nh: Off\ni: ~\nj: null\nk: ''\nl: 012\nm: 0x1F\n",
    "n: 2024-01-01\no: 1:30\np: !!str 12\nq: !!int '7'\nr: !!float 1\ns: !!binary aGk=\nt: !!set {x, y}\n",
    "Resources:\n  A:\n    Type: T\n    Properties:\n      X: !GetAtt B.Arn\n      Y: !GetAtt [B, Arn]\n"
    "      Z: !Sub ['${a}', {a: !Ref P}]\n      W: !If [C, !Join ['', [a, !Select [0, !GetAZs '']]], !Ref AWS::NoValue]\n"
    "      V: !Equals [!Ref P, 'x']\n      U: {1: a, 2.5: b, true: c, null: d}\n      S: !GetAZs\n",
    "[1, [2, [3, {a: [4]}]], 'x']\n",
    "just a string\n",
    "? [a, b]\n: x\n",
    "!Ref x: y\n",
    "a: !Nope x\n",
]


def _stock(text: str) -> Any:
    from sagefence.sources import cfn_yaml

    class Stock(cfn_yaml._BaseLoader):  # PyYAML's own resolution and construction, our tags and int rules
        yaml_implicit_resolvers = cfn_yaml._Loader.yaml_implicit_resolvers
        yaml_constructors = cfn_yaml._Loader.yaml_constructors
        yaml_multi_constructors = cfn_yaml._Loader.yaml_multi_constructors

    loader = Stock(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def _outcome(load: Any, text: str) -> tuple[str, Any]:
    try:
        return "ok", load(text)
    except Exception as exc:  # noqa: BLE001 - both ways must fail the same way
        return "error", (type(exc).__name__, str(exc).split("\n")[-1])


REPO_YAML = [p for p in sorted(REPO.glob("tests/fixtures/**/*.y*ml")) + sorted(REPO.glob("examples/**/*.yaml"))
             if "&" not in p.read_text(encoding="utf-8") and "<<" not in p.read_text(encoding="utf-8")]


@pytest.mark.parametrize("text", EDGE_CASES + [p.read_text(encoding="utf-8") for p in REPO_YAML],
                         ids=[f"edge{i}" for i in range(len(EDGE_CASES))] + [str(p.relative_to(REPO)) for p in REPO_YAML])
def test_the_fast_construction_builds_what_pyyaml_builds(text: str) -> None:
    from sagefence.sources import cfn_yaml

    def fast(source: str) -> Any:
        loader = cfn_yaml._Loader(source)
        try:
            return cfn_yaml._construct(loader, loader.get_single_node())
        finally:
            loader.dispose()

    got, want = _outcome(fast, text), _outcome(_stock, text)
    assert got == want
    assert repr(got) == repr(want)  # the same types too (1 == 1.0 == True would hide a difference)
