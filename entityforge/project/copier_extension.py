"""Jinja extensions the project template loads: paths relative to where copier ran, and
the version of entityforge that makes the project.

copier runs the template's tasks inside the new project, so a relative
``entities_file`` answer would be looked up there. The ``from_invocation_dir`` filter
resolves it against the directory copier was started from, which is what a user
typing ``--data entities_file=base.yaml`` means.
"""

from __future__ import annotations

import importlib.metadata
import os
from pathlib import Path

from jinja2 import Environment
from jinja2.ext import Extension


class InvocationDirectory(Extension):
    """Adds the ``from_invocation_dir`` filter (``~`` is expanded, absolute paths kept)."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        invoked_in = Path(os.getcwd())

        def from_invocation_dir(path: str) -> str:
            return str(invoked_in / Path(path).expanduser()) if path else path

        environment.filters["from_invocation_dir"] = from_invocation_dir


class GeneratorVersion(Extension):
    """Adds ``entityforge_version``: the project pins it, so ``generate --check`` in CI
    runs the generator that made the files it checks."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.globals["entityforge_version"] = importlib.metadata.version("entityforge")
