"""The table privileges each of the three roles holds."""

from __future__ import annotations

from entityforge.catalog import READ, WRITE, Catalog, Table

ROLE_SLOTS = ("reader", "writer", "admin")


def role_privileges(catalog: Catalog) -> tuple[tuple[str, bool], ...]:
    """``(role, bypasses RLS)`` for the reader, writer and admin.

    A catalog without tables stands for the empty database: it has no roles either.
    """
    if not catalog.tables:
        return ()
    roles = catalog.roles
    return ((roles.reader, False), (roles.writer, False), (roles.admin, True))


def table_privileges(catalog: Catalog, table: Table) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``(role, privileges)`` on ``table``: the reader reads, the admin writes, and the
    writer holds what the table grants it (``Table.writer_privileges``)."""
    roles = catalog.roles
    return ((roles.reader, READ), (roles.writer, table.writer_privileges), (roles.admin, WRITE))
