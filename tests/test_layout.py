"""The layout is the pipeline: each stage imports only the stages before it.

A generation runs spec → schema → catalog → migrate → generators → output, driven by
the pipeline and the CLI. Each stage is a package (or module) of ``entityforge``;
``generators/`` is installed as ``entityforge.generators``. An import from a later stage
into an earlier one (at module level or inside a function) fails this test.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Earliest first; a stage may import itself and anything listed before it.
STAGES = (
    ("errors", "memo", "naming", "schema", "parse_tree", "project"),
    ("catalog",),
    ("rows",),
    ("spec",),
    ("migrate",),
    ("generators",),
    ("output",),
    ("importer",),
    ("pipeline",),
    ("cli", "__main__", ""),
)
RANK = {name: rank for rank, names in enumerate(STAGES) for name in names}


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[0] == "generators":
        parts.insert(0, "entityforge")
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _stage(module: str) -> str:
    """``entityforge.migrate.diff.keys`` → ``migrate``; the package itself → ``""``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
            # ``from entityforge import naming`` imports the module ``entityforge.naming``.
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return {name for name in found if name.startswith("entityforge.")}


def _sources() -> list[Path]:
    paths = [*(ROOT / "entityforge").rglob("*.py"), *(ROOT / "generators").rglob("*.py")]
    return sorted(path for path in paths if "project_template" not in path.parts)


def test_every_stage_is_placed() -> None:
    stages = {_stage(_module(path)) for path in _sources()}
    assert stages <= set(RANK), f"modules outside every stage: {sorted(stages - set(RANK))}"


def test_imports_point_from_later_stages_to_earlier_ones() -> None:
    backwards = []
    for path in _sources():
        source = _stage(_module(path))
        for target in sorted(_imports(path)):
            stage = _stage(target)
            if stage in RANK and RANK[stage] > RANK[source]:
                backwards.append(f"{path.relative_to(ROOT)} ({source}) imports {target}")
    assert not backwards, "imports against the pipeline:\n" + "\n".join(backwards)
