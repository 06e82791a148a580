"""Formatting of generated Python: black, the style the generated project checks.

black is the slow step of a generation, so a module is formatted only when its
rendered text changed: the digest of the rendered text of each module is kept with
the last generated copies, and an unchanged render reuses the formatted text.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import black

from entityforge.errors import GenerationError

LINE_LENGTH = 99
BLACK_MODE = black.Mode(line_length=LINE_LENGTH, target_versions={black.TargetVersion.PY311})


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def format_python(path: str, text: str) -> str:
    """Format one module; a render that is not valid Python is a bug, reported as such."""
    try:
        return black.format_str(text, mode=BLACK_MODE)
    except black.InvalidInput as error:
        raise GenerationError(f"generated {path} is not valid Python: {error}") from None


def format_outputs(
    outputs: Mapping[str, str],
    previous: Mapping[str, str] | None = None,
    formatted_before: Mapping[str, str] | None = None,
) -> tuple[dict[str, str], dict[str, str]]:
    """Format every Python output; return the texts and the digests of their renders.

    ``previous`` maps a path to the digest of its last render and ``formatted_before``
    to the text that render was formatted into; a render with the same digest reuses it.
    """
    previous = previous or {}
    formatted_before = formatted_before or {}
    texts: dict[str, str] = {}
    digests: dict[str, str] = {}
    for path, text in outputs.items():
        if not path.endswith(".py"):
            texts[path] = text
            continue
        digests[path] = digest(text)
        cached = formatted_before.get(path)
        if cached is not None and previous.get(path) == digests[path]:
            texts[path] = cached
        else:
            texts[path] = format_python(path, text)
    return texts, digests
