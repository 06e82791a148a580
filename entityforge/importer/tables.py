"""One live table as a spec entity: fields, relations, uniques, indexes and checks.

What the generator would add by itself (the ``id`` key, the tenant column and its key,
timestamps and their trigger, indexes on foreign keys, the tenant policy) is recognised
and left out; everything else becomes a key of the entity, or a finding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from entityforge import naming
from entityforge.importer.findings import Finding
from entityforge.importer.live import (
    LiveColumn,
    LiveConstraint,
    LiveDatabase,
    LiveIndex,
    LiveTable,
)
from entityforge.importer.shapes import (
    TRIGGER_FUNCTION,
    TenancyShape,
    has_soft_delete,
    has_timestamps,
    is_foreign_key_to_id,
    setting_test,
)
from entityforge.importer.types import spec_default, spec_type

_ON_DELETE = {"a": "no_action", "r": "restrict", "c": "cascade", "n": "set_null"}
_SOFT_DELETE_PREDICATE = "(deleted_at IS NULL)"
Path = tuple[str | int, ...]


@dataclass
class EntityDraft:
    """An entity being imported: its spec mapping, comments by path, and findings."""

    name: str
    table: LiveTable
    scoped: bool
    doc: dict[str, Any] = field(default_factory=dict)
    notes: dict[Path, str] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    def note(self, path: Path, text: str) -> None:
        self.notes[path] = f"{self.notes[path]}; {text}" if path in self.notes else text

    def find(self, subject: str, what: str, hint: str, outcome: Any = "not imported") -> None:
        self.findings.append(Finding(subject, what, hint, outcome))

    @property
    def lead(self) -> tuple[str, ...]:
        return (self.tenant_column,) if self.scoped and self.tenant_column else ()

    tenant_column: str | None = None


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
    if tenancy is not None and not scoped and table.name != tenancy.tenant_table:
        draft.doc["tenant_scoped"] = False
    draft.doc["timestamps"] = has_timestamps(table)
    draft.doc["soft_delete"] = has_soft_delete(table)
    if table.comment:
        draft.doc["comment"] = table.comment
    skipped = _key_columns(draft) | _generated_columns(draft)
    relations = _relations(draft, entity_of, skipped)
    fields = _fields(draft, db, skipped | set(relations))
    if fields:
        draft.doc["fields"] = fields
    if relations:
        draft.doc["relations"] = {column[: -len("_id")]: r for column, r in relations.items()}
    _uniques(draft, relations)
    _indexes(draft)
    _checks(draft)
    _security(draft, tenancy)
    return draft


def _key_columns(draft: EntityDraft) -> set[str]:
    """``id`` and the tenant column, when they have the generated shape."""
    table = draft.table
    primary = table.of_kind("p")
    key = primary[0].columns if primary else ()
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
        _renamed(draft, "foreign key", fk.name)
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
    elif column.generated is not None:
        draft.find(
            subject,
            f"a generated column (GENERATED ALWAYS AS {column.generated})",
            "the spec has no generated columns; it is imported as a plain column",
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


def _uniques(draft: EntityDraft, relations: dict[str, dict[str, Any]]) -> None:
    table, unique_sets = draft.table, []
    for constraint in table.of_kind("u"):
        unique_sets.append((constraint.name, constraint.columns))
    for index in table.indexes:
        if _is_live_unique(draft, index):
            unique_sets.append((index.name, index.columns))
    multi: list[list[str]] = []
    for name, columns in unique_sets:
        own = list(
            columns[len(draft.lead) :] if columns[: len(draft.lead)] == draft.lead else columns
        )
        if own == ["id"] or (draft.scoped and columns == (draft.tenant_column, "id")):
            continue
        if len(own) == 1 and own[0] in relations:
            relations[own[0]]["kind"] = "one_to_one"
        elif len(own) == 1 and own[0] in draft.doc.get("fields", {}):
            _set(draft.doc["fields"], own[0], "unique", True)
        elif all(c in draft.doc.get("fields", {}) or c in relations for c in own):
            multi.append(own)
        else:
            draft.find(
                f"unique {name} on {table.name}",
                "it covers columns the spec does not hold",
                "declare it again once those columns are fields",
            )
            continue
        if name != naming.unique_name(table.name, tuple(columns)):
            _renamed(draft, "unique constraint", name)
    if multi:
        draft.doc["unique"] = multi


def _is_live_unique(draft: EntityDraft, index: LiveIndex) -> bool:
    """A unique index that holds a field's or the entity's uniqueness among live rows."""
    return (
        index.unique
        and index.constraint is None
        and bool(draft.doc["soft_delete"])
        and index.where == _SOFT_DELETE_PREDICATE
        and not index.has_expressions
    )


def _indexes(draft: EntityDraft) -> None:
    table, declared = draft.table, []
    fk_indexes = {naming.index_name(table.name, fk.columns) for fk in table.of_kind("f")}
    for index in table.indexes:
        if index.constraint is not None or _is_live_unique(draft, index):
            continue
        if index.name in fk_indexes and index.method == "btree" and not index.where:
            continue
        entry = _index_entry(draft, index)
        if entry is not None:
            declared.append(entry)
    if declared:
        draft.doc["indexes"] = declared


def _index_entry(draft: EntityDraft, index: LiveIndex) -> dict[str, Any] | None:
    subject = f"index {index.name} on {draft.table.name}"
    if index.has_expressions:
        draft.find(
            subject,
            f"an expression index ({index.definition})",
            "the spec indexes columns only; create it in a revision of your own",
        )
        return None
    columns, opclasses = list(index.columns), list(index.opclasses)
    if draft.lead and tuple(columns[: len(draft.lead)]) == draft.lead:
        columns, opclasses = columns[len(draft.lead) :], opclasses[len(draft.lead) :]
    using = index.method
    if opclasses and all(op == "gin_trgm_ops" for op in opclasses) and using == "gin":
        using = "trgm"
    elif any(opclasses):
        draft.find(
            subject,
            f"operator classes {', '.join(o for o in opclasses if o)}",
            "the spec chooses operator classes itself",
            "changed",
        )
    if using not in ("btree", "gin", "gist", "brin", "trgm"):
        draft.find(subject, f"the {index.method} method", "use btree, gin, gist, brin or trgm")
        return None
    entry: dict[str, Any] = {"columns": columns}
    if index.unique:
        entry["unique"] = True
    if using != "btree":
        entry["using"] = using
    where = index.where
    if where and index.unique and draft.doc["soft_delete"]:
        # The generator adds "AND deleted_at IS NULL" to a unique index of its own accord.
        where = re.sub(r"^\((.*) AND \(deleted_at IS NULL\)\)$", r"\1", where, flags=re.S)
    if where:
        entry["where"] = where
    entry["name"] = index.name
    return entry


def _checks(draft: EntityDraft) -> None:
    table, declared = draft.table, []
    fields = draft.doc.get("fields", {})
    prefix = f"ck_{table.name}_"
    for check in table.of_kind("c"):
        expression = re.sub(r"^CHECK \((.*)\)( NOT VALID)?$", r"\1", check.definition, flags=re.S)
        if check.definition.endswith(" NOT VALID"):
            draft.find(
                f"check {check.name}",
                "it is NOT VALID (existing rows are unchecked)",
                "validate it before generating, or the revision validates it",
                "changed",
            )
        column = next((c for c in fields if check.name == naming.check_name(table.name, c)), None)
        if column is not None and check.columns == (column,):
            _set(fields, column, "check", expression)
            continue
        if _enum_check(fields, table.name, check.name, check.columns, expression):
            continue
        if not check.name.startswith(prefix):
            _renamed(draft, "check", check.name)
            own = check.columns[0] if len(check.columns) == 1 else None
            if own in fields and not (isinstance(fields[own], dict) and "check" in fields[own]):
                _set(fields, own, "check", expression)
                continue
        short = check.name[len(prefix) :] if check.name.startswith(prefix) else check.name
        if not naming.SNAKE_CASE.match(short):
            short = re.sub(r"[^a-z0-9]+", "_", short.lower()).strip("_") or "check"
        declared.append({"name": short, "expression": expression})
    for exclusion in table.of_kind("x"):
        draft.find(
            f"exclusion constraint {exclusion.name}",
            exclusion.definition,
            "create it in a revision of your own",
        )
    if declared:
        draft.doc["checks"] = declared


def _security(draft: EntityDraft, tenancy: TenancyShape | None) -> None:
    table = draft.table
    for policy in table.policies:
        test = setting_test(policy.using)
        generated = (
            policy.name == naming.TENANT_POLICY and test is not None and tenancy is not None
        )
        if generated and (test[0] == tenancy.column or table.name == tenancy.tenant_table):
            continue
        draft.find(
            f"policy {policy.name} on {table.name}",
            f"{'permissive' if policy.permissive else 'restrictive'} {policy.command} "
            f"USING {policy.using} WITH CHECK {policy.check}",
            "the spec's tenant policy is generated; add others in a revision of your own",
        )
    if (
        table.row_security
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
        draft.find(
            f"trigger {trigger.name} on {table.name}",
            trigger.definition,
            "the spec generates only the updated_at trigger; keep this one in a revision "
            "of your own",
        )
    if table.partition or table.kind == "p":
        draft.find(
            f"table {table.name}", "it is partitioned", "the spec makes plain tables", "changed"
        )


def _renamed(draft: EntityDraft, kind: str, name: str) -> None:
    draft.find(
        f"{kind} {name} on {draft.table.name}",
        "its name does not follow the naming convention; the generated one differs",
        "rename it in the database first, or accept the rename",
        "changed",
    )


def fold_field_indexes(entity: dict[str, Any]) -> None:
    """A plain one-column index of a field, under its conventional name, is the field's
    ``index`` key."""
    fields, declared = entity.get("fields", {}), entity.get("indexes", [])
    for entry in list(declared):
        plain = set(entry) <= {"columns", "using"} and len(entry["columns"]) == 1
        if plain and entry["columns"][0] in fields:
            _set(fields, entry["columns"][0], "index", entry.get("using", True))
            declared.remove(entry)
    if "indexes" in entity and not declared:
        del entity["indexes"]


_ENUM_CHECK = re.compile(
    r"^\(\((\w+)\)::text = ANY \(\(ARRAY\[(.*)\]\)::text\[\]\)\)$", flags=re.S
)
_ENUM_LABEL = re.compile(r"'((?:[^']|'')*)'::character varying(?:, |$)")


def _enum_check(
    fields: dict[str, Any], table: str, name: str, columns: tuple[str, ...], expression: str
) -> bool:
    """An enum field stored as varchar(63): its check ``ck_<table>_<field>_values`` on
    the labels makes it an enum field again. Whether the check was one."""
    if len(columns) != 1 or columns[0] not in fields:
        return False
    column = columns[0]
    spec = fields[column]
    kind = spec if isinstance(spec, str) else spec.get("type")
    match = _ENUM_CHECK.match(expression)
    if name != naming.check_name(table, f"{column}_values") or kind != "string(63)" or not match:
        return False
    labels = [label.replace("''", "'") for label in _ENUM_LABEL.findall(match.group(2))]
    rest = {} if isinstance(spec, str) else {k: v for k, v in spec.items() if k != "type"}
    fields[column] = {"type": "enum", "values": labels, **rest}
    return True


def _set(fields: dict[str, Any], name: str, key: str, value: Any) -> None:
    spec = fields[name]
    fields[name] = {"type": spec, key: value} if isinstance(spec, str) else {**spec, key: value}
