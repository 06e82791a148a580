"""Loading ``entities.yaml``: YAML with positions → raw model → validated ``Schema``.

``load_schema`` and ``load_schema_text`` raise only ``SpecError`` (one problem) or
``SpecErrors`` (several), each message starting ``FILE:LINE:COLUMN:`` with a hint.
"""

from __future__ import annotations

from pathlib import Path

from entityforge.errors import Location, SpecError
from entityforge.schema import Schema
from entityforge.spec.builder import build_schema
from entityforge.spec.document import parse_document
from entityforge.spec.raw import validate_raw
from entityforge.spec.sql import SqlExpression, SqlExpressionError, parse_expression

__all__ = [
    "SqlExpression",
    "SqlExpressionError",
    "load_schema",
    "load_schema_text",
    "parse_expression",
]


def load_schema(path: str | Path) -> Schema:
    """Read, validate and build the spec at ``path`` (named in errors as given)."""
    filename = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise SpecError(
            f"cannot read the spec: {error.strerror or error}",
            Location(filename, 1, 1),
            hint="check the path, or run 'entityforge init' to create a spec",
        ) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        raise SpecError(
            "the spec is not valid UTF-8",
            Location(filename, line, column),
            hint="save the file as UTF-8",
        ) from None
    return load_schema_text(text, filename)


def load_schema_text(text: str, filename: str = "entities.yaml") -> Schema:
    """Validate and build a spec given as text; ``filename`` is used in error messages."""
    document = parse_document(text, filename)
    raw = validate_raw(document)
    return build_schema(document, raw)
