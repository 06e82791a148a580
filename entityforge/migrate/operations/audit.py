"""The triggers that write an audited table's history (``catalog.Audit``).

Statement-level ``AFTER`` triggers over transition tables call one function per table,
``SECURITY DEFINER`` and owned by the admin role (which may write history and bypasses
row-level security), with a fixed ``search_path`` and qualified names, so that the
writer, which only reads history, still has every change it makes recorded. The
function and its three triggers are created and dropped together; a change of the
columns an update compares, or a rename, replaces them.
"""

from __future__ import annotations

from dataclasses import dataclass

from entityforge.catalog import Audit, Catalog, Table
from entityforge.migrate.operations import Operation


@dataclass(frozen=True)
class AuditTrigger:
    """Everything the function's and triggers' SQL depends on: ``table`` is the audited
    table's name where the revision creates or drops them, ``admin`` the owner."""

    table: str
    audit: Audit
    admin: str
    schema: str | None = None
    """The schema the audited table and its history live in (None: public)."""


@dataclass(frozen=True)
class CreateAuditTrigger(Operation):
    trigger: AuditTrigger

    def reverse(self) -> DropAuditTrigger:
        return DropAuditTrigger(self.trigger)

    @property
    def table(self) -> str:
        return self.trigger.table


@dataclass(frozen=True)
class DropAuditTrigger(Operation):
    trigger: AuditTrigger

    def reverse(self) -> CreateAuditTrigger:
        return CreateAuditTrigger(self.trigger)

    @property
    def table(self) -> str:
        return self.trigger.table


def audit_triggers(table: Table, catalog: Catalog) -> list[CreateAuditTrigger]:
    """The creation of ``table``'s history triggers, if it is audited."""
    if table.audit is None:
        return []
    return [
        CreateAuditTrigger(
            AuditTrigger(table.name, table.audit, catalog.roles.admin, table.schema)
        )
    ]
