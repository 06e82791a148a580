"""One live table as a spec entity: fields, relations, uniques, indexes and checks.

What the generator would add by itself (the ``id`` key, the tenant column and its key,
timestamps and their trigger, indexes on foreign keys, the tenant policy) is recognised
and left out; everything else becomes a key of the entity, or a finding.
"""

from __future__ import annotations

from typing import Any

from entityforge import naming
from entityforge.importer.constraints import add_checks, add_indexes, add_uniques
from entityforge.importer.draft import EntityDraft, renamed
from entityforge.importer.live import (
    LiveColumn,
    LiveConstraint,
    LiveDatabase,
    LiveTable,
)
from entityforge.importer.partitions import range_column, read_partition
from entityforge.importer.policies import is_granted_roles_policy
from entityforge.importer.search import search_columns
from entityforge.importer.shapes import (
    TRIGGER_FUNCTION,
    TenancyShape,
    has_soft_delete,
    has_timestamps,
    is_audited,
    is_foreign_key_to_id,
    setting_test,
)
from entityforge.importer.types import spec_default, spec_type
from entityforge.spec.sql import SqlExpressionError, parse_expression

_ON_DELETE = {"a": "no_action", "r": "restrict", "c": "cascade", "n": "set_null"}


def entity_draft(
    db: LiveDatabase,
    table: LiveTable,
    name: str,
    tenancy: TenancyShape | None,
    entity_of: dict[str, str],
) -> EntityDraft:
    scoped = tenancy is not None and table.name in tenancy.scoped_tables
    draft = EntityDraft(name, table, scoped, tenant_column=tenancy.column if tenancy else None)
    if table.name != naming.table_name(name):
        draft.doc["table"] = table.name
        draft.note(("table",), f"{name} would default to {naming.table_name(name)}")
    if table.schema != naming.DEFAULT_SCHEMA:
        draft.doc["schema"] = table.schema
    if tenancy is not None and not scoped and table.name != tenancy.tenant_table:
        draft.doc["tenant_scoped"] = False
    draft.doc["timestamps"] = has_timestamps(table)
    draft.doc["soft_delete"] = has_soft_delete(table)
    if is_audited(table, frozenset(t.name for t in db.tables)):
        draft.doc["audit"] = True
    if table.comment:
        draft.doc["comment"] = table.comment
    partition = read_partition(table, draft.tenant_column if scoped else None)
    if isinstance(partition, dict):
        draft.doc["partition"] = partition
    elif partition is not None:
        draft.find(
            f"table {table.name}",
            partition,
            "the spec partitions by range of a datetime or date (with its maintenance "
            "function) or by hash of the tenant column",
            "changed",
        )
    skipped = _key_columns(draft) | _generated_columns(draft) | search_columns(draft)
    relations = _relations(draft, entity_of, skipped)
    fields = _fields(draft, db, skipped | set(relations))
    if fields:
        draft.doc["fields"] = fields
    if relations:
        draft.doc["relations"] = {column[: -len("_id")]: r for column, r in relations.items()}
    add_uniques(draft, relations)
    add_indexes(draft)
    add_checks(draft)
    _security(draft, tenancy)
    return draft


def _key_columns(draft: EntityDraft) -> set[str]:
    """``id`` and the tenant column, when they have the generated shape."""
    table = draft.table
    primary = table.of_kind("p")
    key = primary[0].columns if primary else ()
    partitioned_by = range_column(draft.doc.get("partition"))
    if partitioned_by is not None and key[-1:] == (partitioned_by,):
        key = key[:-1]
    id_column = next((c for c in table.columns if c.name == "id"), None)
    if id_column is not None and id_column.type.name == "uuid" and key[-1:] == ("id",):
        skipped = {"id"}
    else:
        skipped = {"id"} if id_column is not None else set()
        shown = ", ".join(f"{c} {table.column(c).type.display}" for c in key) or "none"
        draft.find(
            f"table {table.name}",
            f"its primary key ({shown}) is not a uuid id",
            "the spec gives every table an 'id uuid' key; keep the old key as a unique field "
            "and move references to id with a revision of your own",
            "changed",
        )
        if id_column is not None:
            draft.find(
                f"column {table.name}.id",
                f"{id_column.type.display} id is replaced by the generated uuid id",
                "copy its values into a field of another name before switching keys",
                "changed",
            )
    if draft.scoped and draft.tenant_column:
        skipped.add(draft.tenant_column)
    return skipped


def _generated_columns(draft: EntityDraft) -> set[str]:
    skipped = set()
    if draft.doc["timestamps"]:
        skipped |= {"created_at", "updated_at"}
    if draft.doc["soft_delete"]:
        skipped.add("deleted_at")
    return skipped


def _relations(
    draft: EntityDraft, entity_of: dict[str, str], skipped: set[str]
) -> dict[str, dict[str, Any]]:
    table, relations = draft.table, {}
    for fk in table.of_kind("f"):
        column = fk.columns[-1]
        if column in skipped and fk.columns == draft.lead:
            continue
        target = entity_of.get(fk.referred_table or "")
        shape = is_foreign_key_to_id(fk, draft.tenant_column if draft.scoped else None)
        if not (shape and target and column.endswith("_id") and column not in relations):
            draft.find(
                f"foreign key {fk.name} on {table.name}",
                f"{fk.definition} is not a relation the spec can declare",
                "relations reference an entity's id through a column named <relation>_id; "
                "the column is imported as a plain field",
            )
            continue
        relation = _relation(draft, fk, target)
        relations[column] = relation
    return relations


def _relation(draft: EntityDraft, fk: LiveConstraint, target: str) -> dict[str, Any]:
    column = draft.table.column(fk.columns[-1])
    relation: dict[str, Any] = {"kind": "many_to_one", "target": target}
    if column.type.name != "uuid":
        draft.find(
            f"column {draft.table.name}.{column.name}",
            f"{column.type.display} becomes uuid (a relation's column references a uuid id)",
            "map the old keys to the new ids in a revision of your own",
            "changed",
        )
    if column.nullable:
        relation["nullable"] = True
    on_delete = _ON_DELETE.get(fk.on_delete)
    if on_delete is None:
        draft.find(
            f"foreign key {fk.name}",
            "ON DELETE SET DEFAULT has no spec equivalent; it becomes restrict",
            "use set_null or cascade, or keep restrict and clean up in the application",
            "changed",
        )
        on_delete = "restrict"
    if on_delete != "restrict":
        relation["on_delete"] = on_delete
    if column.comment:
        relation["comment"] = column.comment
    if fk.name != naming.foreign_key_name(draft.table.name, fk.columns, fk.referred_table or ""):
        renamed(draft, "foreign key", fk.name)
    return relation


def _fields(draft: EntityDraft, db: LiveDatabase, skipped: set[str]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for column in draft.table.columns:
        if column.name in skipped:
            continue
        if not naming.SNAKE_CASE.match(column.name):
            draft.find(
                f"column {draft.table.name}.{column.name}",
                "its name is not snake_case, which field names must be",
                "rename the column (renamed_from keeps its data when you regenerate)",
            )
            continue
        fields[column.name] = _field(draft, db, column)
    return fields


def _field(draft: EntityDraft, db: LiveDatabase, column: LiveColumn) -> Any:
    subject = f"column {draft.table.name}.{column.name}"
    imported = spec_type(column.type, db.enums)
    spec: dict[str, Any] = (
        dict(imported.value) if isinstance(imported.value, dict) else {"type": imported.value}
    )
    if imported.change:
        draft.find(subject, imported.change, "check the field's type", "changed")
        draft.note(("fields", column.name), imported.change)
    if column.type.kind == "enum":
        expected = naming.enum_type_name(draft.name, column.name)
        if column.type.name != expected:
            draft.find(
                subject,
                f"enum type {column.type.name} becomes {expected}",
                "enum types are named <entity>_<field>",
                "changed",
            )
    if column.nullable:
        spec["nullable"] = True
    if column.identity or (column.default or "").startswith("nextval("):
        draft.find(
            subject,
            f"its values come from a sequence ({column.default or 'identity'})",
            "the spec has no serial columns; it is imported without the default",
            "changed",
        )
        draft.note(("fields", column.name), "was serial; no default")
    elif column.generated is not None and spec_expression(column.generated):
        spec["generated"] = column.generated
    elif column.generated is not None:
        draft.find(
            subject,
            f"a generated column (GENERATED ALWAYS AS {column.generated})",
            "the spec cannot state its expression; it is imported as a plain column",
        )
    else:
        default = spec_default(column)
        if default.has_literal:
            spec["default"] = default.literal
        elif default.sql is not None:
            spec["default_sql"] = default.sql
    if column.comment:
        spec["comment"] = column.comment
    return spec["type"] if list(spec) == ["type"] else spec


def spec_expression(text: str) -> bool:
    """Whether the spec can state an expression as PostgreSQL prints it."""
    try:
        parse_expression(text)
    except SqlExpressionError:
        return False
    return True


def _security(draft: EntityDraft, tenancy: TenancyShape | None) -> None:
    table = draft.table
    granted = any(is_granted_roles_policy(policy) for policy in table.policies)
    for policy in table.policies:
        if not policy.permissive or (granted and is_granted_roles_policy(policy)):
            continue  # the entity's policies (entityforge.importer.policies)
        test = setting_test(policy.using)
        if (
            policy.name == naming.TENANT_POLICY
            and test is not None
            and tenancy is not None
            and (test[0] == tenancy.column or table.name == tenancy.tenant_table)
        ):
            continue  # the spec's tenant policy
        draft.find(
            f"policy {policy.name} on {table.name}",
            f"{'permissive' if policy.permissive else 'restrictive'} {policy.command} "
            f"USING {policy.using} WITH CHECK {policy.check}",
            "the spec's tenant policy and the permissive granted_roles beside restrictive "
            "policies are generated; add other permissive ones in a revision of your own",
        )
    if (
        table.row_security
        and not granted
        and not draft.scoped
        and not (tenancy and table.name == tenancy.tenant_table)
    ):
        draft.find(
            f"table {table.name}",
            "row-level security is on without the tenant shape",
            "only tenant-scoped tables get row-level security",
            "changed",
        )
    for trigger in table.triggers:
        if trigger.function == TRIGGER_FUNCTION and draft.doc["timestamps"]:
            continue
        if trigger.function == naming.history_function(table.name) and draft.doc.get("audit"):
            continue
        draft.find(
            f"trigger {trigger.name} on {table.name}",
            trigger.definition,
            "the spec generates only the updated_at trigger; keep this one in a revision "
            "of your own",
        )
