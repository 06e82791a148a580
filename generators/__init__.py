"""One generator per emitted artefact; each is a pure function from context to files.

A generator takes a ``GenerationContext`` and returns ``{relative path: text}``. It
never touches the disk; the pipeline formats and writes what they return.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from entityforge.catalog import Catalog, build_catalog
from entityforge.schema import Schema

if TYPE_CHECKING:
    from entityforge.generators.migrations import History


@dataclass(frozen=True)
class GenerationContext:
    """What every generator sees: the schema, its catalog and the project's package."""

    schema: Schema
    package: str = "app"
    revisions: tuple[tuple[str, str], ...] = ()
    """Existing revision files of the project as ``(file name, text)``, oldest first."""
    message: str | None = None
    """The new revision's message, when the user gave one (``-m``)."""
    allow_destructive: bool = False
    """Whether the new revision may drop tables, columns or enum values, or narrow types."""
    allow_rewrite: bool = False
    """Whether the new revision may rewrite tables (volatile defaults, type changes)."""

    @cached_property
    def history(self) -> History:
        """The head of the revisions and the schema the newest of them records."""
        from entityforge.generators.migrations import read_history

        return read_history(self.revisions)

    @cached_property
    def catalog(self) -> Catalog:
        """The spec's catalog; enum columns the recorded schema stores in enum types
        keep them unless the spec opts out (``defaults: {enums: check}``)."""
        recorded = self.history.state if self.revisions else None
        native = frozenset(enum.name for enum in recorded.enums) if recorded else frozenset()
        return build_catalog(self.schema, native)
