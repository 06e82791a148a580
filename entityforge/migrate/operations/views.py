"""Views created and dropped, and the views a revision recreates around its changes.

A view holds no rows of its own (a materialized one holds what its query gives, which a
refresh gives again), so a changed view is dropped and created rather than altered, and
so is every view reading a column whose type changes, that is dropped, or that belongs
to a table being renamed or dropped: PostgreSQL refuses those changes under a view.
``view_changes`` returns the drops, which a revision runs before everything else, and
the creations, which it runs after its other changes in its transaction; a view over
views comes after them and goes before them.
"""

from __future__ import annotations

from dataclasses import dataclass

from entityforge.catalog import Catalog, Table
from entityforge.migrate.operations import Operation
from entityforge.migrate.operations.partitions import rebuilt_tables
from entityforge.schema import Roles, Tenancy, View


@dataclass(frozen=True)
class CreateView(Operation):
    """A view with its grants; a materialized one owned by the admin, who refreshes it,
    with its unique index, read through a view filtering on the tenant when it is
    tenant-scoped. ``tenancy`` and ``roles`` are the catalog's."""

    view: View
    roles: Roles
    tenancy: Tenancy | None = None

    def reverse(self) -> DropView:
        return DropView(self.view, self.roles, self.tenancy)


@dataclass(frozen=True)
class DropView(Operation):
    view: View
    roles: Roles
    tenancy: Tenancy | None = None

    def reverse(self) -> CreateView:
        return CreateView(self.view, self.roles, self.tenancy)


@dataclass(frozen=True)
class ViewChanges:
    """The views a revision drops first and those it creates last."""

    drops: tuple[Operation, ...]
    creations: tuple[Operation, ...]


def view_changes(current: Catalog, target: Catalog) -> ViewChanges:
    """Drop the views of ``current`` that ``target`` lacks, has otherwise, or whose
    sources change; create those of ``target`` that are not kept as they are."""
    stale = _stale_views(current, target)
    kept = {view for view in current.views if view.name not in stale}
    drops = [
        DropView(view, current.roles, current.tenancy)
        for view in reversed(current.views)
        if view.name in stale
    ]
    creations = [
        CreateView(view, target.roles, target.tenancy) for view in target.views if view not in kept
    ]
    return ViewChanges(tuple(drops), tuple(creations))


def _stale_views(current: Catalog, target: Catalog) -> set[str]:
    wanted = set(target.views)
    before = {table.name: table for table in current.tables}
    after = {table.name: table for table in target.tables}
    stale: set[str] = set()
    relations = {view.relation: view.name for view in current.views}
    rebuilt = rebuilt_tables(current, target)
    for view in current.views:  # in creation order: what a view reads comes first
        changed = view not in wanted or (current.roles, current.tenancy) != (
            target.roles,
            target.tenancy,
        )
        for source in view.sources:
            if source.relation in relations:
                changed = changed or relations[source.relation] in stale
            else:
                changed = changed or source.relation in rebuilt
                changed = changed or not _keeps_columns(
                    before.get(source.relation), after.get(source.relation), source.columns
                )
        if changed:
            stale.add(view.name)
    return stale


def _keeps_columns(before: Table | None, after: Table | None, columns: tuple[str, ...]) -> bool:
    """Whether the table keeps its name and ``columns`` with their types."""
    if before is None or after is None:
        return False
    old = {column.name: (column.type, column.generated) for column in before.columns}
    new = {column.name: (column.type, column.generated) for column in after.columns}
    return all(name in new and old.get(name) == new[name] for name in columns)
