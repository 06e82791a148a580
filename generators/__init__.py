"""One generator per emitted artefact; each is a pure function from context to files.

A generator takes a ``GenerationContext`` and returns ``{relative path: text}``. It
never touches the disk; the pipeline formats and writes what they return.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from entityforge.catalog import Catalog, build_catalog
from entityforge.generators.reuse import Reuse
from entityforge.migrate.history import recorded_state
from entityforge.schema import Schema


@dataclass(frozen=True)
class GenerationContext:
    """What every generator sees: the schema, its catalog and the project's package."""

    schema: Schema
    package: str = "app"
    revisions: tuple[tuple[str, str], ...] = ()
    """Existing revision files of the project as ``(file name, text)``, oldest first."""
    snapshots: tuple[tuple[str, str], ...] = ()
    """The schema snapshots of the revision heads as ``(file name, text)``."""
    message: str | None = None
    """The new revision's message, when the user gave one (``-m``)."""
    allow_destructive: bool = False
    """Whether the new revision may drop tables, columns or enum values, or narrow types."""
    allow_rewrite: bool = False
    """Whether the new revision may rewrite tables (volatile defaults, type changes)."""
    expand: bool = False
    """Whether the spec's column renames are made in two steps (``migrate.expand``)."""
    contract: bool = False
    """Whether the new revision ends the two-step renames the history holds."""
    reuse: Reuse = field(default_factory=Reuse, compare=False)
    """The last generation's copies of entity modules whose render would not change."""

    @cached_property
    def recorded(self) -> Catalog | None:
        """The schema the project's revisions lead to; None before the first one."""
        return recorded_state(self.revisions, self.snapshots)

    @cached_property
    def catalog(self) -> Catalog:
        """The spec's catalog; enum columns the recorded schema stores in enum types
        keep them unless the spec opts out (``defaults: {enums: check}``)."""
        return build_catalog(self.schema, self.native_enums)

    @cached_property
    def native_enums(self) -> frozenset[str]:
        """The enum types the recorded schema keeps."""
        recorded = self.recorded
        return frozenset(enum.name for enum in recorded.enums) if recorded else frozenset()
