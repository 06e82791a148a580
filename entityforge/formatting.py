"""Formatting of generated Python: black, the style the generated project checks."""

from __future__ import annotations

from collections.abc import Mapping

import black

from entityforge.errors import GenerationError

LINE_LENGTH = 99
BLACK_MODE = black.Mode(line_length=LINE_LENGTH, target_versions={black.TargetVersion.PY311})


def format_python(path: str, text: str) -> str:
    """Format one module; a render that is not valid Python is a bug, reported as such."""
    try:
        return black.format_str(text, mode=BLACK_MODE)
    except black.InvalidInput as error:
        raise GenerationError(f"generated {path} is not valid Python: {error}") from None


def format_outputs(outputs: Mapping[str, str]) -> dict[str, str]:
    return {
        path: format_python(path, text) if path.endswith(".py") else text
        for path, text in outputs.items()
    }
