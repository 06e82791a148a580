"""``.entityforge/entities.schema.json``: the spec's JSON Schema, kept in the project.

The spec's first line (``# yaml-language-server: $schema=...``) points editors at this
copy: it works offline, needs no path into an installed package, and follows the
version of entityforge the project generates with.
"""

from __future__ import annotations

from entityforge.generators import GenerationContext
from entityforge.project import SCHEMA_PATH
from entityforge.spec.json_schema import SCHEMA_FILE


def generate(ctx: GenerationContext) -> dict[str, str]:
    return {SCHEMA_PATH: SCHEMA_FILE.read_text(encoding="utf-8")}
