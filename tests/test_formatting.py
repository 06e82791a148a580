"""ruff format writes exactly what black writes, on everything entityforge renders.

The generator formats with ``ruff format`` (one subprocess, milliseconds) and the
generated project checks its code with black; these tests hold the two to the same
bytes on every test spec, the example, synthetic specs and a second revision.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from bench.synthetic import synthetic_spec
from entityforge.errors import GenerationError
from entityforge.output import formatting
from entityforge.output.formatting import format_modules, format_outputs, format_python
from entityforge.output.writer import write_atomic
from entityforge.pipeline import render_project
from entityforge.project import ProjectConfig
from entityforge.spec import load_schema, load_schema_text

ROOT = Path(__file__).resolve().parents[1]
SPEC_FILES = sorted((ROOT / "tests" / "specs").glob("*.yaml")) + [
    ROOT / "entityforge" / "examples" / "entities.yaml"
]
SYNTHETIC_SIZES = (1, 25)

pytestmark = pytest.mark.skipif(
    formatting.ruff_executable() is None, reason="ruff is not installed"
)


def _python_outputs(outputs: dict[str, str]) -> dict[str, str]:
    return {path: text for path, text in outputs.items() if path.endswith(".py")}


def _assert_ruff_is_black(modules: dict[str, str]) -> None:
    by_ruff = format_modules(modules)
    differing = []
    for path, text in sorted(modules.items()):
        by_black = format_python(path, text)
        if by_ruff[path] != by_black:
            diff = difflib.unified_diff(
                by_black.splitlines(keepends=True),
                by_ruff[path].splitlines(keepends=True),
                fromfile=f"black/{path}",
                tofile=f"ruff/{path}",
            )
            differing.append("".join(diff))
    assert not differing, "\n".join(differing)


@pytest.mark.parametrize("spec", SPEC_FILES, ids=lambda path: path.stem)
def test_ruff_formats_like_black_on_the_test_specs(spec: Path, tmp_path: Path) -> None:
    outputs = render_project(load_schema(spec), ProjectConfig(tmp_path))
    _assert_ruff_is_black(_python_outputs(outputs))


@pytest.mark.parametrize("count", SYNTHETIC_SIZES)
def test_ruff_formats_like_black_on_synthetic_specs(count: int, tmp_path: Path) -> None:
    outputs = render_project(load_schema_text(synthetic_spec(count)), ProjectConfig(tmp_path))
    _assert_ruff_is_black(_python_outputs(outputs))


def test_ruff_formats_like_black_on_a_second_revision(tmp_path: Path) -> None:
    """The next revision (a new column, table and index) and the regenerated modules."""
    config = ProjectConfig(tmp_path)
    first = render_project(load_schema_text(synthetic_spec(6)), config)
    for path, text in first.items():
        if "/alembic/versions/" in path:
            write_atomic(tmp_path / path, format_python(path, text))
        elif "/alembic/schema/" in path:
            write_atomic(tmp_path / path, text)
    changed = synthetic_spec(6).replace(
        "      name: string(200)\n",
        "      name: string(200)\n"
        "      plan: {type: enum, values: [free, paid], default: free, index: true}\n",
        1,
    ) + (
        "  Extra:\n    fields:\n      note: {type: text, nullable: true, index: trgm}\n"
        "    relations:\n      owner: {kind: many_to_one, target: Entity0001}\n"
    )
    second = render_project(load_schema_text(changed), config)
    assert any("/alembic/versions/0002_" in path for path in second)
    _assert_ruff_is_black(_python_outputs(second))


def test_black_formats_when_ruff_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(formatting, "ruff_executable", lambda: None)
    text = "x = {'a':1}\n"
    assert format_modules({"m.py": text}) == {"m.py": format_python("m.py", text)}


def test_invalid_python_is_reported_by_black() -> None:
    with pytest.raises(GenerationError, match="generated broken.py is not valid Python"):
        format_modules({"fine.py": "x = 1\n", "broken.py": "def broken(:\n"})


def test_an_unchanged_render_reuses_its_formatted_text() -> None:
    outputs = {"a.py": "x = {'a':1}\n", "b.py": "y = 2\n", "README.md": "text\n"}
    texts, digests = format_outputs(outputs)
    assert texts == {"a.py": 'x = {"a": 1}\n', "b.py": "y = 2\n", "README.md": "text\n"}
    assert set(digests) == {"a.py", "b.py"}
    reused, _ = format_outputs(outputs, digests, {"a.py": "kept\n", "b.py": "kept too\n"})
    assert reused["a.py"] == "kept\n" and reused["b.py"] == "kept too\n"
    changed = {**outputs, "b.py": "y = 3\n"}
    again, _ = format_outputs(changed, digests, {"a.py": "kept\n", "b.py": "kept too\n"})
    assert again["a.py"] == "kept\n" and again["b.py"] == "y = 3\n"
