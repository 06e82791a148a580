"""Where a generated project keeps what the generator needs to know about it."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from entityforge.errors import GenerationError
from entityforge.naming import PLAIN_IDENTIFIER

DEFAULT_SPEC = "entities.yaml"
DEFAULT_PACKAGE = "app"
STATE_DIR = ".entityforge"
# The spec's JSON Schema, kept in the project for editors (``generators/spec_schema``).
SCHEMA_PATH = f"{STATE_DIR}/entities.schema.json"


@dataclass(frozen=True)
class ProjectConfig:
    """``[tool.entityforge]`` of a project's ``pyproject.toml``, with defaults."""

    root: Path
    package: str = DEFAULT_PACKAGE
    spec: str = DEFAULT_SPEC

    @property
    def spec_path(self) -> Path:
        return self.root / self.spec

    @property
    def versions_dir(self) -> Path:
        return self.root / self.package / "alembic" / "versions"

    @property
    def snapshots_dir(self) -> Path:
        return self.root / self.package / "alembic" / "schema"

    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIR


def find_project_root(start: Path) -> Path:
    """The nearest directory, from ``start`` up, whose ``pyproject.toml`` has a
    ``[tool.entityforge]`` table; ``start`` itself when there is none. The path is given
    from ``start`` (``app/..``), so messages name files as the user reaches them."""
    resolved = start.resolve()
    for directory in (resolved, *resolved.parents):
        if _declares_entityforge(directory / "pyproject.toml"):
            return start if directory == resolved else start / os.path.relpath(directory, resolved)
    return start


def _declares_entityforge(pyproject: Path) -> bool:
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return False
    tool = data.get("tool")
    return isinstance(tool, dict) and isinstance(tool.get("entityforge"), dict)


def read_project_config(root: Path) -> ProjectConfig:
    """Read the project's settings; a project without ``pyproject.toml`` gets defaults."""
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file():
        return ProjectConfig(root)
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise GenerationError(
            f"{pyproject}: cannot read it: {error}", hint="fix the TOML syntax and try again"
        ) from None
    settings = data.get("tool", {}).get("entityforge", {})
    package = settings.get("package", DEFAULT_PACKAGE)
    spec = settings.get("spec", DEFAULT_SPEC)
    if not isinstance(package, str) or not PLAIN_IDENTIFIER.match(package):
        raise GenerationError(
            f"{pyproject}: [tool.entityforge] package must be a Python package name, "
            f"not {package!r}",
            hint='for example: package = "app"',
        )
    if not isinstance(spec, str) or not spec:
        raise GenerationError(
            f"{pyproject}: [tool.entityforge] spec must be a file name, not {spec!r}",
            hint='for example: spec = "entities.yaml"',
        )
    return ProjectConfig(root, package, spec)


def read_text(path: Path) -> str | None:
    """The text of a file the project holds, or None where there is none to read."""
    try:
        return path.read_text(encoding="utf-8")
    except (FileNotFoundError, IsADirectoryError, UnicodeDecodeError):
        return None
