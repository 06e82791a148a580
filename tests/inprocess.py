"""Generated projects made and migrated inside the test process: the fast path.

``generate_project`` runs the real pipeline (render → black → plan → atomic write) into
a directory whose ``pyproject.toml`` names a package of its own, so several projects can
be imported by one process without their modules colliding. ``run_alembic`` runs an
Alembic command on a connection handed to the project's ``env.py``; ``imported``
imports the project's package for the duration of a block and forgets it afterwards.
"""

from __future__ import annotations

import importlib
import shutil
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from entityforge import pipeline


def unique_package(prefix: str = "gen") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


# What a new project's pyproject.toml says about the package, its tests and its style.
PROJECT_CONFIG = """\
[tool.entityforge]
package = "{package}"
spec = "entities.yaml"

[tool.pytest.ini_options]
testpaths = ["tests"]
asyncio_mode = "auto"
asyncio_default_fixture_loop_scope = "session"
asyncio_default_test_loop_scope = "session"

[tool.ruff]
line-length = 99
target-version = "py311"
extend-exclude = [".entityforge"]

[tool.ruff.lint]
select = ["E", "F", "W", "I", "UP", "B", "SIM"]

[tool.ruff.lint.isort]
known-first-party = ["{package}"]
"""


def write_project_config(root: Path, package: str) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(PROJECT_CONFIG.format(package=package))


def generate_project(
    root: Path,
    spec_text: str,
    package: str,
    options: pipeline.Options | None = None,
) -> pipeline.Plan:
    """Write ``spec_text`` as the project's spec and generate; return the applied plan."""
    if not (root / "pyproject.toml").is_file():
        write_project_config(root, package)
    (root / "entities.yaml").write_text(spec_text, encoding="utf-8")
    plan = pipeline.generate(root, options=options or pipeline.Options())
    pipeline.apply_plan(plan)
    return plan


def forget_package(package: str) -> None:
    for name in [module for module in sys.modules if module.split(".")[0] == package]:
        del sys.modules[name]


@contextmanager
def imported(root: Path, package: str) -> Iterator[ModuleType]:
    """Import ``package`` from ``root``; forget it and restore ``sys.path`` afterwards."""
    saved_path = list(sys.path)
    sys.path.insert(0, str(root))
    importlib.invalidate_caches()
    forget_package(package)
    try:
        yield importlib.import_module(package)
    finally:
        sys.path[:] = saved_path
        forget_package(package)


def run_alembic(root: Path, package: str, url: str, action: str, *arguments: Any) -> None:
    """``alembic <action> <arguments>`` in this process, on one connection to ``url``.

    The project's modules are imported afresh (the models may have been regenerated).
    """
    for cache in root.rglob("__pycache__"):
        shutil.rmtree(cache, ignore_errors=True)
    config = Config(str(root / "alembic.ini"))
    engine = create_engine(url, poolclass=NullPool)
    saved_path = list(sys.path)
    forget_package(package)
    importlib.invalidate_caches()
    try:
        # As the CLI does: env.py's ``context.begin_transaction()`` begins and commits.
        with engine.connect() as connection:
            config.attributes["connection"] = connection
            getattr(command, action)(config, *arguments)
    finally:
        engine.dispose()
        sys.path[:] = saved_path
        forget_package(package)
