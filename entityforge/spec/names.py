"""Checks of the names a spec gives or leads to: case, length, reserved words."""

from __future__ import annotations

import keyword
import re

from entityforge import naming
from entityforge.spec.document import DocPath
from entityforge.spec.issues import Issues

_SNAKE_HINT = "use lower-case letters, digits and single underscores, starting with a letter"


def check_identifier(
    issues: Issues,
    path: DocPath,
    name: str,
    what: str,
    *,
    pattern: re.Pattern[str] = naming.SNAKE_CASE,
    on_key: bool = False,
) -> bool:
    """Record an error unless ``name`` matches ``pattern`` and fits in 63 bytes."""
    report = issues.at_key if on_key else issues.at_value
    if not pattern.match(name):
        report(path, f"{what} {name!r} is not {_pattern_label(pattern)}", _pattern_hint(pattern))
        return False
    if len(name.encode()) > naming.MAX_IDENTIFIER_BYTES:
        report(
            path,
            f"{what} '{name}' is {len(name.encode())} bytes long, "
            f"over PostgreSQL's {naming.MAX_IDENTIFIER_BYTES}",
            "choose a shorter name",
        )
        return False
    return True


def check_entity_name(issues: Issues, path: DocPath, name: str, what: str = "entity") -> bool:
    """Entity (and view) names are PascalCase class names a generated module can use."""
    if not naming.PASCAL_CASE.match(name):
        issues.at_key(
            path,
            f"{what} name {name!r} is not PascalCase",
            hint=(
                f"write it as a class name, e.g. '{naming.pascal_case(naming.snake_case(name))}'"
                if re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name)
                else "start with an upper-case letter; use only letters and digits"
            ),
        )
        return False
    if keyword.iskeyword(name) or name in naming.GENERATED_CODE_NAMES:
        issues.at_key(
            path,
            f"{what} name '{name}' is reserved in the generated code",
            hint=f"choose another name, e.g. '{name}Entry' (set 'table:' to keep a table name)",
        )
        return False
    return True


def _pattern_label(pattern: re.Pattern[str]) -> str:
    if pattern is naming.SNAKE_CASE:
        return "snake_case"
    if pattern is naming.PASCAL_CASE:
        return "PascalCase"
    if pattern is naming.SCHEMA_NAME:
        return "a plain lower-case name"
    return "a valid name"


def _pattern_hint(pattern: re.Pattern[str]) -> str:
    if pattern is naming.SNAKE_CASE:
        return _SNAKE_HINT + ", e.g. 'due_at'"
    if pattern is naming.PLAIN_IDENTIFIER:
        return "use lower-case letters, digits and underscores, e.g. 'app_writer'"
    if pattern is naming.PASCAL_CASE:
        return "write it as a class name, e.g. 'TaskDetail'"
    if pattern is naming.SCHEMA_NAME:
        return (
            "use lower-case letters, digits and underscores, starting with a letter, "
            "e.g. 'booking'"
        )
    return _SNAKE_HINT
