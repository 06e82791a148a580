"""``.entityforge/entities.schema.json``: the spec's JSON Schema, kept in the project.

The spec's first line (``# yaml-language-server: $schema=...``) points editors at this
copy: it works offline, needs no path into an installed package, and follows the
version of entityforge the project generates with.
"""

from __future__ import annotations

from entityforge.generators import GenerationContext
from entityforge.project import STATE_DIR
from entityforge.spec.json_schema import SCHEMA_FILE

SCHEMA_PATH = f"{STATE_DIR}/entities.schema.json"


def generate(ctx: GenerationContext) -> dict[str, str]:
    return {SCHEMA_PATH: SCHEMA_FILE.read_text(encoding="utf-8")}
