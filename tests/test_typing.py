"""entityforge type-checks under ``mypy --strict`` (``[tool.mypy]`` in pyproject.toml).

Installed, the top-level ``generators/`` folder is the package ``entityforge.generators``
(``[tool.setuptools.package-dir]``), a mapping mypy cannot follow: on the repository
itself it finds no ``entityforge.generators``. So mypy runs on a link tree laid out as
installed: an ``entityforge/`` holding a link to each entry of the repository's, plus
``entityforge/generators`` linking to ``generators/``. Its messages name the
repository's files.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _link_tree(tree: Path) -> None:
    package = tree / "entityforge"
    package.mkdir()
    for entry in (ROOT / "entityforge").iterdir():
        (package / entry.name).symlink_to(entry)
    (package / "generators").symlink_to(ROOT / "generators")


def _repository_paths(output: str, tree: Path) -> str:
    """mypy's output with the link tree's paths as the repository's."""
    output = output.replace(f"{tree}/", f"{ROOT}/")
    return output.replace("entityforge/generators/", "generators/")


def test_the_package_type_checks_strictly(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    _link_tree(tree)
    config = ROOT / "pyproject.toml"
    command = [sys.executable, "-m", "mypy", "--config-file", str(config), "-p", "entityforge"]
    result = subprocess.run(
        [*command, "--cache-dir", str(tmp_path / "cache")],
        cwd=tree,
        capture_output=True,
        text=True,
        check=False,
    )
    status = result.returncode
    assert status == 0, _repository_paths(result.stdout + result.stderr, tree)
