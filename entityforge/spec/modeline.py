"""The spec's first line: where editors find its JSON Schema.

``# yaml-language-server: $schema=PATH`` is read by yaml-language-server (VS Code's YAML
extension, and the editors built on it); a relative path is resolved against the spec's
own directory, so the schema copy that ``entityforge generate`` keeps in the project
serves a spec at the project's root, offline.
"""

from __future__ import annotations

import re

from entityforge.project import SCHEMA_PATH

SCHEMA_LINE = f"# yaml-language-server: $schema={SCHEMA_PATH}\n"
_ANY_SCHEMA_LINE = re.compile(r"#\s*yaml-language-server:\s*\$schema=")


def with_schema_line(text: str) -> str:
    """``text`` with the schema line first, unless it names a schema already."""
    first = text.split("\n", 1)[0]
    if _ANY_SCHEMA_LINE.match(first):
        return text
    return SCHEMA_LINE + text
