"""The table privileges each of the three roles holds."""

from __future__ import annotations

from entityforge.catalog import Catalog

READ = ("SELECT",)
WRITE = ("SELECT", "INSERT", "UPDATE", "DELETE")
ROLE_SLOTS = ("reader", "writer", "admin")


def role_privileges(catalog: Catalog) -> tuple[tuple[str, bool, tuple[str, ...]], ...]:
    """``(role, bypasses RLS, table privileges)`` for the reader, writer and admin.

    A catalog without tables stands for the empty database: it has no roles either.
    """
    if not catalog.tables:
        return ()
    roles = catalog.roles
    return ((roles.reader, False, READ), (roles.writer, False, WRITE), (roles.admin, True, WRITE))
