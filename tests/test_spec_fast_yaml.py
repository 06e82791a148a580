"""libyaml composes a spec into exactly what ruamel.yaml would: same data, positions, errors."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.synthetic import synthetic_spec
from entityforge.errors import EntityforgeError
from entityforge.spec import document
from entityforge.spec.fast_yaml import compose_fast
from tests.test_spec_errors import _DATA, MALFORMED, dump

ROOT = Path(__file__).resolve().parents[1]
SPEC_FILES = sorted((ROOT / "tests" / "specs").glob("*.yaml")) + [
    ROOT / "entityforge" / "examples" / "entities.yaml"
]

TRICKY = [
    "a: yes\nb: no\nc: on\nd: off\ne: y\nf: NO\n",
    "a: 017\nb: 0o17\nc: 0x1F\nd: 1_000\ne: 1e3\nf: .inf\ng: -.NaN\nh: +12\n",
    "a: 2001-12-14\nb: 2001-12-14t21:59:43.10-05:00\nc: 12:30\nd: 1:20:30\n",
    "a: ~\nb: null\nc:\nd: ''\ne: \"\"\nf: Null\n",
    "a: !!str 12\nb: !!int '7'\nc: !custom x\nd: !!binary aGk=\n",
    "base: &base {x: 1, y: 2}\none:\n  <<: *base\n  y: 3\ntwo:\n  <<: [*base, {z: 4}]\n",
    "a: |\n  line one\n  line two\n\nb: >-\n  folded\n  text\n\n  para\n",
    "c: 'it''s'\nd: \"tab\\there \\u00e9\"\n",
    "a: [1, [2, [3, {b: c}]], {d: [e, f]}]\nb: {? complex : key}\n",
    "? [a, b]\n: c\n1: one\ntrue: t\nnull: n\n",
    "a: b\na: c\n",
    "ünïcode: ✓\n'quoted key': \"x\"\nemoji: 😀\n",
    "# comment\na: b # trailing\n  # indented comment\nc: d\n",
    "a: =\nb: <<\n",
    "a: x\n...\n",
    "--- \na: x\n",
    "%YAML 1.1\n---\na: yes\n",
    "a: b: c\n",
    "a: [\n",
    "a: 'unterminated\n",
    'a: "\\/"\n',
    "a:\n- 1\n-  2\n- - 3\n  - 4\n",
    "a: &x 1\nb: *y\n",
    "key with spaces: value with: colon\nurl: http://x.y/z?a=b#c\n",
    "a: 'multi\n  line\n\n  single'\nb: plain\n  continued\n",
    "{a: 1, b: [x, y]}\n",
    "- just\n- a list\n",
    "scalar only\n",
]


def _compose(text: str, fast: bool, monkeypatch: pytest.MonkeyPatch) -> Any:
    """``parse_document``'s data and positions, or the error it raises."""
    with monkeypatch.context() as patch:
        if not fast:
            patch.setattr(document, "compose_fast", lambda text: None)
        try:
            parsed = document.parse_document(text, "entities.yaml")
        except (EntityforgeError, RecursionError) as error:
            return ("error", type(error).__name__, str(error))
    return ("ok", parsed.data, dict(parsed.positions))


def _assert_same(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _compose(text, True, monkeypatch) == _compose(text, False, monkeypatch), text


@pytest.mark.parametrize("text", TRICKY)
def test_tricky_yaml_composes_as_ruamel_does(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _assert_same(text, monkeypatch)


@pytest.mark.parametrize("path", SPEC_FILES, ids=lambda path: path.stem)
def test_spec_files_compose_as_ruamel_does(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = path.read_text(encoding="utf-8")
    # A block scalar (a view's query over several lines) is ruamel's to compose.
    if not re.search(r":\s*[>|][-+]?\s*$", text, re.MULTILINE):
        assert compose_fast(text) is not None
    _assert_same(text, monkeypatch)


def test_malformed_specs_compose_as_ruamel_does(monkeypatch: pytest.MonkeyPatch) -> None:
    for case in MALFORMED:
        _assert_same(textwrap.dedent(case.values[0]), monkeypatch)


def test_synthetic_spec_composes_as_ruamel_does(monkeypatch: pytest.MonkeyPatch) -> None:
    _assert_same(synthetic_spec(40), monkeypatch)


def test_what_libyaml_refuses_is_left_to_ruamel() -> None:
    assert compose_fast("%YAML 1.1\n---\na: yes\n") is None
    assert compose_fast("a: [\n") is None
    assert compose_fast("a: 1\n---\nb: 2\n") is None
    assert compose_fast("") is None


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(_DATA)
def test_fuzz_yaml_data_composes_as_ruamel_does(data: Any) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        _assert_same(dump(data), monkeypatch)


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.text(alphabet=st.sampled_from("ab:- \n[]{},'\"&*!|>#?%@`\t1"), max_size=40))
def test_fuzz_yaml_syntax_composes_as_ruamel_does(text: str) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        _assert_same(text, monkeypatch)
