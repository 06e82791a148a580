"""Building one entity: its settings, table, fields, relations and constraints."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from entityforge import naming
from entityforge.schema import ColumnType, Entity, Field, IndexSpec, Relation, Roles, Tenancy
from entityforge.spec.constraints import Columns, build_checks, build_indexes, build_uniques
from entityforge.spec.document import DocPath
from entityforge.spec.exclusions import build_exclusions
from entityforge.spec.fields import build_field
from entityforge.spec.issues import Issues
from entityforge.spec.names import check_identifier
from entityforge.spec.partitions import build_partition
from entityforge.spec.policies import build_policies
from entityforge.spec.raw import RawDefaults, RawEntity
from entityforge.spec.relations import build_relation, relation_column
from entityforge.spec.search import SEARCH_COLUMN, build_search

UUID = ColumnType("uuid")
TIMESTAMP = ColumnType("datetime")
RESERVED_TABLES = frozenset({"alembic_version"})
TIMESTAMP_COLUMNS = ("created_at", "updated_at", "deleted_at")


@dataclass(frozen=True)
class EntityContext:
    """What building one entity needs to know about the whole spec."""

    tenancy: Tenancy | None
    defaults: RawDefaults
    entity_names: tuple[str, ...]
    roles: Roles = Roles()


def generated_columns(entity: Entity, tenancy: Tenancy | None) -> dict[str, str]:
    """The columns the generator adds to an entity's table, each with why."""
    columns = {"id": "every table has an 'id uuid' primary key"}
    if tenancy is not None:
        columns[tenancy.column] = (
            "tenant-scoped tables get the tenant column from 'tenancy'"
            if entity.tenant_scoped
            else f"'{tenancy.column}' is the tenant column's name; other tables may not use it"
        )
    if entity.timestamps:
        columns["created_at"] = "'timestamps' adds created_at and updated_at"
        columns["updated_at"] = "'timestamps' adds created_at and updated_at"
    if entity.soft_delete:
        columns["deleted_at"] = "'soft_delete' adds deleted_at"
    return columns


def build_entity(
    issues: Issues, name: str, raw: RawEntity | None, context: EntityContext
) -> Entity:
    """The ``Entity`` named ``name``; errors are recorded in ``issues``."""
    raw = raw or RawEntity()
    base: DocPath = ("entities", name)
    entity = Entity(
        name=name,
        table=_table(issues, base, name, raw),
        schema=_schema(issues, base, raw),
        tenant_scoped=_tenant_scoped(issues, base, name, raw, context.tenancy),
        writable=_writable(issues, base, name, raw, context.tenancy),
        audit=_audit(issues, base, name, raw, context.tenancy),
        timestamps=context.defaults.timestamps if raw.timestamps is None else raw.timestamps,
        soft_delete=context.defaults.soft_delete if raw.soft_delete is None else raw.soft_delete,
        comment=check_comment(issues, base, raw.comment),
        renamed_from=raw.renamed_from,
    )
    generated = generated_columns(entity, context.tenancy)
    if raw.search is not None:
        generated[SEARCH_COLUMN] = (
            "'search' keeps the searched words in search_vector; other columns may not use it"
        )
    _check_names(issues, base, name, raw, generated)
    column_names = dict.fromkeys([*generated, *(raw.fields or {})])
    for relation_name, raw_relation in (raw.relations or {}).items():
        column = relation_column(raw_relation, relation_name)
        if column:
            column_names[column] = None
    fields = _fields(issues, base, name, raw, column_names)
    if raw.search is not None:
        search = build_search(issues, base + ("search",), raw.search, fields)
        if search is not None:
            entity = replace(entity, search=search[0])
            fields += (search[1],)
    relations = _relations(issues, base, entity, raw, context)
    columns = _column_types(entity, generated, fields, relations, column_names)
    return _with_constraints(issues, base, raw, entity, fields, relations, columns, context)


def _with_constraints(
    issues: Issues,
    base: DocPath,
    raw: RawEntity,
    entity: Entity,
    fields: tuple[Field, ...],
    relations: tuple[Relation, ...],
    columns: Columns,
    context: EntityContext,
) -> Entity:
    tenant = context.tenancy.column if context.tenancy else None
    implied_indexes = [IndexSpec((f.name,), using=f.index) for f in fields if f.index]
    implied_uniques = [(f.name,) for f in fields if f.unique]
    implied_uniques += [(r.column,) for r in relations if r.kind == "one_to_one" and r.column]
    entity = replace(
        entity,
        fields=fields,
        relations=relations,
        indexes=build_indexes(issues, base, raw.indexes or [], implied_indexes, columns, tenant),
        unique=build_uniques(issues, base, raw.unique or [], implied_uniques, columns, tenant),
        checks=build_checks(issues, base, raw.checks or [], fields, columns),
        exclusions=build_exclusions(
            issues,
            base,
            raw.exclude or [],
            columns,
            tenant,
            {f.name for f in fields if f.check} | {c.name for c in raw.checks or []},
        ),
        policies=build_policies(issues, base, raw.policies or [], columns, context.roles),
    )
    if raw.partition is None:
        return entity
    if entity.schema is not None:
        issues.at_key(
            base + ("partition",),
            f"entity '{entity.name}' lives in schema '{entity.schema}'; a partitioned table "
            "is made in public",
            hint="its partitions and their maintenance function are made in public: remove "
            "'schema' or 'partition'",
        )
        return entity
    partition = build_partition(issues, base, raw.partition, entity, context.tenancy)
    return replace(entity, partition=partition)


def _table(issues: Issues, base: DocPath, name: str, raw: RawEntity) -> str:
    if raw.table is None:
        table = naming.table_name(name)
        if len(table.encode()) > naming.MAX_IDENTIFIER_BYTES:
            issues.at_key(
                base,
                f"the table name '{table}' made from entity '{name}' is over "
                f"PostgreSQL's {naming.MAX_IDENTIFIER_BYTES} bytes",
                hint="set a shorter 'table:' for this entity",
            )
        return table
    table_ok = check_identifier(issues, base + ("table",), raw.table, "table name")
    if table_ok and raw.table in RESERVED_TABLES:
        issues.at_value(
            base + ("table",),
            f"the table name '{raw.table}' is reserved by Alembic",
            hint="choose another table name",
        )
    return raw.table


def _schema(issues: Issues, base: DocPath, raw: RawEntity) -> str | None:
    """The entity's PostgreSQL schema: a plain identifier, not one PostgreSQL keeps for
    itself; ``public`` (the default) is ``None``."""
    name = raw.schema_
    if name is None or name == naming.DEFAULT_SCHEMA:
        return None
    path = base + ("schema",)
    if not check_identifier(issues, path, name, "schema name", pattern=naming.SCHEMA_NAME):
        return None
    if name.startswith("pg_") or name in naming.SYSTEM_SCHEMAS:
        issues.at_value(
            path,
            f"the schema name '{name}' is reserved by PostgreSQL",
            hint="choose another name, e.g. 'booking'; names starting with 'pg_' are PostgreSQL's",
        )
        return None
    return name


def _tenant_scoped(
    issues: Issues, base: DocPath, name: str, raw: RawEntity, tenancy: Tenancy | None
) -> bool:
    if tenancy is None:
        if raw.tenant_scoped:
            issues.at_value(
                base + ("tenant_scoped",),
                f"entity '{name}' is tenant_scoped, but the spec has no tenancy",
                hint="add a 'tenancy:' section naming the tenant entity, or remove this key",
            )
        return False
    if name == tenancy.entity:
        if raw.tenant_scoped:
            issues.at_value(
                base + ("tenant_scoped",),
                f"the tenant entity '{name}' cannot be tenant-scoped itself",
                hint="remove 'tenant_scoped: true'",
            )
        return False
    return True if raw.tenant_scoped is None else raw.tenant_scoped


def _writable(
    issues: Issues, base: DocPath, name: str, raw: RawEntity, tenancy: Tenancy | None
) -> bool:
    """``writable`` means something on a global entity of a multi-tenant spec only."""
    if raw.writable is None:
        return False
    path = base + ("writable",)
    if tenancy is None:
        issues.at_value(
            path,
            f"entity '{name}' says 'writable', but the spec has no tenancy",
            hint="without tenancy the writer may change every table; remove this key",
        )
    elif name == tenancy.entity:
        issues.at_value(
            path,
            f"the tenant entity '{name}' cannot be 'writable'",
            hint="tenants are created and removed by the admin role (app.db.create_tenant); "
            "remove this key",
        )
    elif raw.tenant_scoped is not False:
        issues.at_value(
            path,
            f"entity '{name}' is tenant-scoped: the writer may already change its tenant's rows",
            hint="'writable' is for global entities; add 'tenant_scoped: false' or remove "
            "this key",
        )
    else:
        return raw.writable
    return False


def _audit(
    issues: Issues, base: DocPath, name: str, raw: RawEntity, tenancy: Tenancy | None
) -> bool:
    """Any entity but the tenant entity may keep a history of its rows."""
    if not raw.audit:
        return False
    if tenancy is not None and name == tenancy.entity:
        issues.at_value(
            base + ("audit",),
            f"the tenant entity '{name}' cannot be audited",
            hint="tenants are created and removed by the admin role; audit the entities "
            "that belong to them, or remove this key",
        )
        return False
    return True


def check_comment(issues: Issues, path: DocPath, comment: str | None) -> str | None:
    if comment is not None and "\x00" in comment:
        issues.at_value(
            path + ("comment",),
            "a comment may not contain a NUL character",
            hint="PostgreSQL text cannot hold \\0; remove it",
        )
    return comment


def _check_names(
    issues: Issues, base: DocPath, entity: str, raw: RawEntity, generated: dict[str, str]
) -> None:
    """Fields, relations and the columns they add share one namespace with generated ones."""
    taken: dict[str, str] = {name: f"the generated column '{name}'" for name in generated}
    entries: list[tuple[str, str, str | None, DocPath]] = []
    for name in raw.fields or {}:
        entries.append((name, f"field '{name}'", "field name", base + ("fields", name)))
    for name, relation in (raw.relations or {}).items():
        path = base + ("relations", name)
        entries.append((name, f"relation '{name}'", "relation name", path))
        column = relation_column(relation, name)
        if column:
            entries.append((column, f"the column '{column}' of relation '{name}'", None, path))
    for name, label, what, path in entries:
        if what and not check_identifier(issues, path, name, what, on_key=True):
            continue
        if name in taken:
            issues.at_key(
                path,
                f"{label} of entity '{entity}' collides with {taken[name]}",
                hint=generated.get(name, "a table's columns and attributes need distinct names")
                + "; rename one of them",
            )
            continue
        taken[name] = label


def _fields(
    issues: Issues, base: DocPath, entity: str, raw: RawEntity, columns: dict[str, None]
) -> tuple[Field, ...]:
    fields = []
    generated = {name for name, raw_field in (raw.fields or {}).items() if raw_field.generated}
    for name, raw_field in (raw.fields or {}).items():
        path = base + ("fields", name)
        check_comment(issues, path, raw_field.comment)
        if raw_field.renamed_from is not None:
            _check_renamed_column(issues, path, raw_field.renamed_from, columns)
        field = build_field(issues, path, entity, name, raw_field, columns, generated)
        if field is not None:
            fields.append(field)
    return tuple(fields)


def _check_renamed_column(
    issues: Issues, path: DocPath, old: str, columns: dict[str, None]
) -> None:
    if check_identifier(issues, path + ("renamed_from",), old, "renamed_from") and old in columns:
        issues.at_value(
            path + ("renamed_from",),
            f"renamed_from names '{old}', which is still a column of this table",
            hint="renamed_from is the column's old name, which no longer exists",
        )


def _relations(
    issues: Issues, base: DocPath, entity: Entity, raw: RawEntity, context: EntityContext
) -> tuple[Relation, ...]:
    relations = []
    for name, raw_relation in (raw.relations or {}).items():
        path = base + ("relations", name)
        check_comment(issues, path, raw_relation.comment)
        relation = build_relation(
            issues, path, entity.name, name, raw_relation, context.entity_names, context.tenancy
        )
        if relation is not None:
            relations.append(relation)
    return tuple(relations)


def _column_types(
    entity: Entity,
    generated: dict[str, str],
    fields: Sequence[Field],
    relations: Sequence[Relation],
    names: dict[str, None],
) -> Columns:
    """Every column name of the table with its type (``None`` where it is unknown)."""
    types: dict[str, ColumnType | None] = dict.fromkeys(names)
    for name in generated:
        types[name] = TIMESTAMP if name in TIMESTAMP_COLUMNS else UUID
    for field in fields:
        types[field.name] = field.type
    for relation in relations:
        if relation.column:
            types[relation.column] = UUID
    return types
