"""The one Jinja environment every generator renders with."""

from __future__ import annotations

import textwrap
from functools import cache
from typing import Any

import jinja2


def python_literal(value: Any) -> str:
    """A Python literal for data from the spec: always ``repr``, never pasted text."""
    return repr(value)


def comment(text: str, width: int = 97) -> str:
    """``text`` as ``#`` comment lines of at most ``width + 2`` characters."""
    return "\n".join(f"# {line}" for line in textwrap.wrap(text, width, break_long_words=False))


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("entityforge.generators", "templates"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
        # Compiling the templates is a tenth of a small generation; the compiled code is
        # kept (keyed by each template's source) in the temporary directory.
        bytecode_cache=jinja2.FileSystemBytecodeCache(),
    )
    env.filters["py"] = python_literal
    env.filters["comment"] = comment
    return env


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)
