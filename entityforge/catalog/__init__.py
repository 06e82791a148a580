"""The physical database a schema leads to: tables, columns, keys, indexes, enum types.

``build_catalog`` is a pure function of a ``Schema``. Models and migrations are both
rendered from the catalog, so they cannot disagree about a name, a column or an index.
Each revision records the catalog it leads to; the next revision is the difference.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property, lru_cache
from typing import Literal

from pglast import ast

from entityforge import naming
from entityforge.catalog.policies import Policy, entity_policies
from entityforge.parse_tree import references, select_target
from entityforge.schema import (
    RANGE_ELEMENTS,
    ColumnType,
    DefaultValue,
    Entity,
    ExclusionSpec,
    Field,
    PartitionSpec,
    Relation,
    Roles,
    Schema,
    Tenancy,
    View,
)

READ = ("SELECT",)
WRITE = ("SELECT", "INSERT", "UPDATE", "DELETE")
# The tenant table: the writer reads and renames its own tenant; the admin makes tenants.
TENANT_ROW = ("SELECT", "UPDATE")

UUID = ColumnType("uuid")
TIMESTAMPTZ = ColumnType("datetime")
SOFT_DELETE_PREDICATE = "deleted_at IS NULL"
# The length of an enum column stored as varchar: PostgreSQL's limit on enum labels,
# which every label of a spec keeps, so that adding a label never widens the column.
ENUM_LENGTH = 63
# Every id's server default: a time-ordered UUID (``entityforge.migrate.operations.ids``).
ID_DEFAULT = "uuidv7()"
# What a unique key's values may take in a btree index row, with room to spare below
# PostgreSQL's limit of 2,704 bytes. A key whose values could take more holds the MD5
# digest of its text in their place (what PostgreSQL's own error hint advises), so that
# no value the column's type accepts is refused for its length.
KEY_ROW_BUDGET = 2_600
# The most bytes a character takes in UTF-8.
_CHARACTER_BYTES = 4
# Widths of the fixed-size values a key may hold (PostgreSQL's ``typlen``, rounded up).
_FIXED_WIDTHS = {"uuid": 16, "date": 4, "datetime": 8, "time": 8, "smallint": 2}

ColumnRole = Literal[
    "id", "tenant", "field", "reference", "created_at", "updated_at", "deleted_at"
]

_ON_DELETE_SQL = {
    "cascade": "CASCADE",
    "set_null": "SET NULL",
    "restrict": "RESTRICT",
    "no_action": "NO ACTION",
}


@dataclass(frozen=True)
class Column:
    """``renamed_from`` is the column's previous name as the spec declares it (never DDL).

    ``generated`` is the expression of a stored generated column, which the database
    computes from the row's other columns and nobody writes."""

    name: str
    type: ColumnType
    nullable: bool = False
    default: DefaultValue | None = None
    default_sql: str | None = None
    comment: str | None = None
    role: ColumnRole = "field"
    renamed_from: str | None = None
    generated: str | None = None

    @property
    def searched(self) -> bool:
        """Whether this is a full-text search column (``search``): the weighted words of
        the searched fields, for the database's index; no API reads or writes it."""
        return self.type.name == "tsvector"


@dataclass(frozen=True)
class ForeignKey:
    """``on_delete`` is SQL (``SET NULL``); ``set_null_columns`` limits what SET NULL nulls."""

    name: str
    columns: tuple[str, ...]
    referred_table: str
    referred_columns: tuple[str, ...]
    on_delete: str = "RESTRICT"
    set_null_columns: tuple[str, ...] = ()
    referred_schema: str | None = None

    @property
    def referred_qualified(self) -> str:
        """The referred table as SQL reaches it (``naming.qualified_name``)."""
        return naming.qualified_name(self.referred_schema, self.referred_table)

    @property
    def on_delete_clause(self) -> str:
        if self.set_null_columns:
            return f"{self.on_delete} ({', '.join(self.set_null_columns)})"
        return self.on_delete


@dataclass(frozen=True)
class UniqueConstraint:
    name: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class IndexColumn:
    """An indexed column, or with ``expression`` an indexed SQL expression (``name`` is
    then its parsed text); ``hashed`` indexes the MD5 digest of the value's text in its
    place (see ``KEY_ROW_BUDGET``)."""

    name: str
    opclass: str | None = None
    hashed: bool = False
    expression: bool = False

    @property
    def sql(self) -> str:
        """The element as it stands in the index's column list."""
        if not self.expression:
            return f"md5({naming.quote_identifier(self.name)})" if self.hashed else self.name
        if not self.hashed:
            return f"({self.name})"
        # The cast as PostgreSQL prints it back, so that comparing the two agrees: a call
        # is cast as it is, an operator's result in parentheses.
        call = isinstance(select_target(self.name), ast.FuncCall)
        return f"md5({self.name}::text)" if call else f"md5(({self.name})::text)"

    @property
    def reads(self) -> tuple[str, ...]:
        """The columns the element's value comes from."""
        return references(self.name).order if self.expression else (self.name,)


@dataclass(frozen=True)
class Index:
    """``method`` is the access method (``btree``, ``gin``, ``gist``, ``brin``);
    ``include`` the covering columns a btree index stores beside its keys."""

    name: str
    columns: tuple[IndexColumn, ...]
    unique: bool = False
    method: str = "btree"
    where: str | None = None
    include: tuple[str, ...] = ()

    @property
    def column_names(self) -> tuple[str, ...]:
        """The columns the index's keys read, each once, in order."""
        return tuple(dict.fromkeys(name for column in self.columns for name in column.reads))

    @property
    def leading_columns(self) -> tuple[str, ...]:
        """The columns the index holds as they are, up to its first hashed one or
        expression: what it can serve a lookup or a foreign key by."""
        plain = []
        for column in self.columns:
            if column.hashed or column.expression:
                break
            plain.append(column.name)
        return tuple(plain)


@dataclass(frozen=True)
class CheckConstraint:
    """``short_name`` is the name before the ``ck_<table>_`` convention is applied;
    ``values`` are the labels the check of an enum column stored as ``varchar`` allows."""

    name: str
    short_name: str
    expression: str
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class ExclusionElement(IndexColumn):
    """An element of an exclusion constraint's index (a column, or with ``expression``
    a parsed SQL expression) and the operator that compares it between two rows."""

    operator: str = "="


@dataclass(frozen=True)
class ExclusionConstraint:
    """No two rows for which every element's operator holds (``EXCLUDE USING gist``);
    ``where`` limits it to the rows the predicate holds for."""

    name: str
    short_name: str
    elements: tuple[ExclusionElement, ...]
    method: str = "gist"
    where: str | None = None

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(name for element in self.elements for name in element.reads))


@dataclass(frozen=True)
class Search:
    """A search a GIN index of a tenant table serves, through a function (guarantee 12).

    ``@>`` on json and arrays and trigram ``ILIKE`` are not leakproof: below the tenant
    policy they are filters, never index conditions. ``function`` (``SECURITY DEFINER``,
    owned by the admin role, which bypasses row-level security) returns the ids of the
    rows of the tenant the setting names whose ``column`` matches its argument, reading
    the index for both; ``operator`` is ``@>``, ``ILIKE`` or, for a full-text search
    column, ``@@``.
    """

    function: str
    column: str
    operator: str


@dataclass(frozen=True)
class ColumnSync:
    """A column renamed in two steps (expand/contract), while both names exist: ``name``
    is the new column, ``old`` the column code deployed before it still uses. A trigger
    keeps the two equal until a later revision contracts (drops ``old``)."""

    name: str
    old: str


@dataclass(frozen=True)
class Audit:
    """The history an audited entity's table keeps: statement-level triggers named
    ``triggers`` (on insert, update and delete) call ``function``, which appends the
    statement's rows to ``history``. An update records, for each row, the new values of
    the ``compared`` columns that changed. ``tenant`` is the tenant column both tables
    carry, if any. The names are kept as they were made, so that a revision renaming the
    table knows which trigger and function to replace."""

    history: str
    function: str
    triggers: tuple[str, str, str]
    compared: tuple[str, ...]
    tenant: str | None = None
    unrecorded: tuple[str, ...] = ()
    """Columns the history never holds: full-text search columns, which repeat the
    searched fields' words (up to 1 MB a row)."""


@dataclass(frozen=True)
class Table:
    """``renamed_from`` is the table's previous name as the spec declares it: for an
    entity's table its ``renamed_from`` (the old entity name or the old table name), for
    a junction table the junction's old name. It names no database object.

    ``writer_privileges`` are what the writer role holds on the table; ``tenant_policy``
    marks the tenant table. ``tenant_key`` is, on a table without the tenant column whose
    rows each belong to one tenant, the column its row-level security compares with the
    setting: ``id`` on the tenant table, the column referring to the tenant table on a
    junction of the tenant entity. Their defaults are what revisions recorded before
    any existed.

    ``audit`` is the history an audited entity's table keeps; ``history_of`` names, on
    a history table, the table whose history it holds.

    ``schema`` is the PostgreSQL schema the table lives in, ``None`` for ``public``; names
    are unique across schemas, so ``name`` alone keys a table in the catalog and in the
    recorded state, and ``qualified_name`` is how SQL reaches it.

    ``partition`` partitions the table (its primary key then includes the partition
    column, or leads with it for a hash of the tenant column).
    """

    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[ForeignKey, ...] = ()
    uniques: tuple[UniqueConstraint, ...] = ()
    indexes: tuple[Index, ...] = ()
    checks: tuple[CheckConstraint, ...] = ()
    comment: str | None = None
    tenant_scoped: bool = False
    updated_at_trigger: bool = False
    entity: str | None = None
    renamed_from: str | None = None
    writer_privileges: tuple[str, ...] = WRITE
    tenant_policy: bool = False
    tenant_key: str | None = None
    searches: tuple[Search, ...] = ()
    syncs: tuple[ColumnSync, ...] = ()
    exclusions: tuple[ExclusionConstraint, ...] = ()
    policies: tuple[Policy, ...] = ()
    audit: Audit | None = None
    history_of: str | None = None
    schema: str | None = None
    partition: PartitionSpec | None = None

    @property
    def qualified_name(self) -> str:
        return naming.qualified_name(self.schema, self.name)

    @property
    def has_tenant_policy(self) -> bool:
        """Whether row-level security keeps the table's rows to the setting's tenant."""
        return self.tenant_scoped or self.tenant_key is not None

    @property
    def granted_roles_policy(self) -> bool:
        """A table with restrictive policies and no tenant policy: a permissive policy lets
        the roles granted the table through, which the restrictive ones then narrow."""
        return bool(self.policies) and not self.has_tenant_policy

    @property
    def primary_key_name(self) -> str:
        return naming.primary_key_name(self.name)

    @property
    def partition_by(self) -> str | None:
        """``PARTITION BY``'s clause (``RANGE (recorded_at)``) of a partitioned table."""
        if self.partition is None:
            return None
        return f"{self.partition.by.upper()} ({naming.quote_identifier(self.partition.column)})"

    def column(self, name: str) -> Column:
        return next(column for column in self.columns if column.name == name)


@dataclass(frozen=True)
class EnumType:
    """``schema``: where the type lives, its entity's schema (``None``: public)."""

    name: str
    values: tuple[str, ...]
    schema: str | None = None

    @property
    def qualified_name(self) -> str:
        return naming.qualified_name(self.schema, self.name)


@dataclass(frozen=True)
class Catalog:
    tables: tuple[Table, ...]
    enums: tuple[EnumType, ...] = ()
    extensions: tuple[str, ...] = ()
    roles: Roles = Roles()
    tenancy: Tenancy | None = None
    views: tuple[View, ...] = ()
    """The spec's views, in the order they can be created (each after what it reads)."""

    def table(self, name: str) -> Table:
        return self._tables_by_name[name]

    @property
    def schemas(self) -> tuple[str, ...]:
        """The schemas other than ``public`` the tables live in, sorted."""
        return tuple(sorted({table.schema for table in self.tables if table.schema}))

    @cached_property
    def _tables_by_name(self) -> dict[str, Table]:
        return {table.name: table for table in self.tables}

    @property
    def needs_updated_at_function(self) -> bool:
        return any(table.updated_at_trigger for table in self.tables)

    @property
    def needs_uuidv7_function(self) -> bool:
        return any(c.default_sql == ID_DEFAULT for t in self.tables for c in t.columns)


@lru_cache(maxsize=8)
def build_catalog(schema: Schema, native_enums: frozenset[str] = frozenset()) -> Catalog:
    """Derive every table, key, index and type the schema's database holds.

    ``native_enums`` names the enum types the recorded schema has: their columns keep
    them unless the spec says ``defaults: {enums: check}``. Both are immutable, and so is
    the catalog: validating a spec and generating from it build it once.
    """
    schema = _with_enum_storage(schema, native_enums)
    tables = [_entity_table(schema, entity) for entity in schema.entities]
    tables += [
        _junction_table(schema, entity, relation)
        for entity in schema.entities
        for relation in entity.relations
        if relation.kind == "many_to_many"
    ]
    tables = [_add_searches(table) for table in tables]
    tables += [history_table(table) for table in tables if table.audit]
    tables = [_add_foreign_key_indexes(table) for table in tables]
    enums = tuple(
        EnumType(field.type.enum_name, field.type.values, field.type.enum_schema)
        for entity in schema.entities
        for field in entity.fields
        if field.type.name == "enum" and field.type.enum_name
    )
    return Catalog(
        tables=tuple(tables),
        enums=enums,
        extensions=_extensions(tables),
        roles=schema.roles,
        tenancy=schema.tenancy,
        views=schema.views,
    )


def _with_enum_storage(schema: Schema, native_enums: frozenset[str]) -> Schema:
    """The schema with ``enum_name`` left only on the enum fields stored natively: all
    of them, none, or (no ``defaults: {enums: ...}``) those whose type, under its name
    before the spec's renames, the recorded schema has."""

    def storage(entity: Entity, field: Field) -> Field:
        type_ = field.type
        if type_.name != "enum":
            return field
        native = schema.enum_storage == "native" or (
            schema.enum_storage is None and bool(_enum_names_before(entity, field) & native_enums)
        )
        if not native:
            return replace(field, type=replace(type_, enum_name=None))
        # The type lives beside its table.
        return replace(field, type=replace(type_, enum_schema=entity.schema))

    entities = tuple(
        replace(entity, fields=tuple(storage(entity, f) for f in entity.fields))
        for entity in schema.entities
    )
    return replace(schema, entities=entities)


def _enum_names_before(entity: Entity, field: Field) -> set[str]:
    """The names the field's enum type may have had before the spec's renames."""
    entity_names = {entity.name, _name_before_rename(entity)}
    field_names = {field.name, field.renamed_from or field.name}
    return {naming.enum_type_name(e, f) for e in entity_names for f in field_names}


def enum_check(table: str, column: str, values: tuple[str, ...]) -> CheckConstraint:
    """The check of an enum column stored as ``varchar``: its value is one of the labels.

    Equality of ``varchar`` is leakproof, so, unlike a native enum's, row-level security
    lets it be an index condition (guarantee 12).
    """
    labels = ", ".join("'" + value.replace("'", "''") + "'" for value in values)
    short = f"{column}_values"
    expression = f"{naming.quote_identifier(column)} IN ({labels})"
    return CheckConstraint(naming.check_name(table, short), short, expression, values)


def is_tenant_composite(schema: Schema, source: Entity, target: Entity) -> bool:
    """A reference between two tenant-scoped tables carries the tenant column."""
    return schema.tenancy is not None and source.tenant_scoped and target.tenant_scoped


def _entity_table(schema: Schema, entity: Entity) -> Table:
    tenant_column = schema.tenancy.column if schema.tenancy else None
    scoped = entity.tenant_scoped and tenant_column is not None
    lead: tuple[str, ...] = (tenant_column,) if scoped and tenant_column else ()
    columns = [Column("id", UUID, default_sql=ID_DEFAULT, role="id")]
    foreign_keys: list[ForeignKey] = []
    if scoped and schema.tenancy and tenant_column:
        tenant = schema.entity(schema.tenancy.entity)
        # The key's first column, first in the table too.
        columns.insert(0, Column(tenant_column, UUID, role="tenant"))
        foreign_keys.append(
            ForeignKey(
                naming.foreign_key_name(entity.table, (tenant_column,), tenant.table),
                (tenant_column,),
                tenant.table,
                ("id",),
                referred_schema=tenant.schema,
            )
        )
    columns += [
        Column(
            f.name,
            f.type,
            f.nullable,
            f.default,
            f.default_sql,
            f.comment,
            renamed_from=f.renamed_from,
            generated=f.generated,
        )
        for f in entity.fields
    ]
    for relation in entity.relations:
        if relation.kind == "many_to_many" or relation.column is None:
            continue
        columns.append(
            Column(
                relation.column,
                UUID,
                relation.nullable,
                comment=relation.comment,
                role="reference",
                renamed_from=(
                    naming.relation_column(relation.renamed_from)
                    if relation.renamed_from
                    else None
                ),
            )
        )
        foreign_keys.append(_relation_foreign_key(schema, entity, relation))
    if entity.timestamps:
        columns.append(Column("created_at", TIMESTAMPTZ, default_sql="now()", role="created_at"))
        columns.append(Column("updated_at", TIMESTAMPTZ, default_sql="now()", role="updated_at"))
    if entity.soft_delete:
        columns.append(Column("deleted_at", TIMESTAMPTZ, nullable=True, role="deleted_at"))

    unique_sets: list[tuple[str, ...]] = [(f.name,) for f in entity.fields if f.unique]
    unique_sets += [(r.column,) for r in entity.relations if r.kind == "one_to_one" and r.column]
    unique_sets += list(entity.unique)
    uniques: list[UniqueConstraint] = []
    indexes: list[Index] = []
    types = {column.name: column.type for column in columns}
    for columns_ in unique_sets:
        full = lead + tuple(columns_)
        name = naming.unique_name(entity.table, full)
        elements = key_elements(tuple(map(IndexColumn, full)), types)
        if entity.soft_delete or any(element.hashed for element in elements):
            where = SOFT_DELETE_PREDICATE if entity.soft_delete else None
            indexes.append(Index(name, elements, True, where=where))
        else:
            uniques.append(UniqueConstraint(name, full))
    indexes += _field_indexes(entity, lead)
    indexes += _declared_indexes(entity, lead, types)
    checks = [
        CheckConstraint(naming.check_name(entity.table, f.name), f.name, f.check)
        for f in entity.fields
        if f.check
    ]
    checks += [
        CheckConstraint(naming.check_name(entity.table, c.name), c.name, c.expression)
        for c in entity.checks
    ]
    checks += [
        enum_check(entity.table, f.name, f.type.values)
        for f in entity.fields
        if f.type.name == "enum" and f.type.enum_name is None
    ]
    is_tenant_table = schema.tenancy is not None and entity.name == schema.tenancy.entity
    exclusions = tuple(_exclusion(entity, lead, spec) for spec in entity.exclusions)
    partition = entity.partition
    key_tail = (partition.column,) if partition and partition.by == "range" else ()
    return Table(
        partition=partition,
        exclusions=exclusions,
        name=entity.table,
        columns=tuple(columns),
        primary_key=lead + ("id",) + key_tail,
        writer_privileges=writer_privileges(schema, entity),
        tenant_policy=is_tenant_table,
        tenant_key="id" if is_tenant_table else None,
        foreign_keys=tuple(foreign_keys),
        uniques=tuple(uniques),
        indexes=_dedupe_index_names(entity.table, indexes),
        checks=tuple(checks),
        comment=entity.comment,
        tenant_scoped=scoped,
        updated_at_trigger=entity.timestamps,
        entity=entity.name,
        renamed_from=entity.renamed_from,
        policies=entity_policies(entity, _table_schemas(schema) if entity.policies else {}),
        audit=_audit(entity, tuple(columns)) if entity.audit else None,
        schema=entity.schema,
    )


# What an audited row's history records of an update: the columns it may change, the
# tenant column, the id and updated_at (which moves on every update) aside.
_UNAUDITED_ROLES = ("id", "tenant", "updated_at")
HISTORY_OPERATIONS = ("insert", "update", "delete")


def _audit(entity: Entity, columns: tuple[Column, ...]) -> Audit:
    tenant = next((column.name for column in columns if column.role == "tenant"), None)
    triggers = tuple(naming.history_trigger(entity.table, op) for op in HISTORY_OPERATIONS)
    return Audit(
        history=naming.history_table(entity.table),
        function=naming.history_function(entity.table),
        triggers=(triggers[0], triggers[1], triggers[2]),
        compared=tuple(
            c.name for c in columns if c.role not in _UNAUDITED_ROLES and not c.searched
        ),
        tenant=tenant,
        unrecorded=tuple(c.name for c in columns if c.searched),
    )


def history_table(source: Table) -> Table:
    """The append-only history of an audited entity's table: one row per row a statement
    inserted, updated or deleted, with the operation, when (the statement's start), who
    (``app.user_id`` as it was set, text, so that no value of it can fail a write) and
    the changed values. Tenant-scoped like its source; the writer only reads it."""
    assert source.audit is not None
    name = source.audit.history
    lead: tuple[str, ...] = (source.audit.tenant,) if source.audit.tenant else ()
    columns = [column for column in source.columns if column.role == "tenant"]
    columns += [
        Column("id", UUID, default_sql=ID_DEFAULT, role="id"),
        Column("row_id", UUID, comment=f"The id of the {source.name} row that changed"),
        Column(
            "operation", ColumnType("string", max_length=6), comment="insert, update or delete"
        ),
        Column(
            "changed_at",
            TIMESTAMPTZ,
            default_sql="statement_timestamp()",
            comment="When the statement that made the change started",
        ),
        Column(
            "actor",
            ColumnType("text"),
            nullable=True,
            comment="The setting app.user_id of the transaction, when set",
        ),
        Column(
            "changes",
            ColumnType("json"),
            comment="The new row on insert, the old row on delete, the changed columns' new "
            "values on update",
        ),
    ]
    foreign_keys = tuple(
        replace(fk, name=naming.foreign_key_name(name, fk.columns, fk.referred_table))
        for fk in source.foreign_keys
        if fk.columns == lead
    )
    row_key = lead + ("row_id",)
    return Table(
        name=name,
        columns=tuple(columns),
        primary_key=lead + ("id",),
        foreign_keys=foreign_keys if lead else (),
        indexes=(Index(naming.index_name(name, row_key), tuple(map(IndexColumn, row_key))),),
        checks=(enum_check(name, "operation", HISTORY_OPERATIONS),),
        comment=f"Append-only history of {source.name}, written by its triggers.",
        tenant_scoped=source.tenant_scoped,
        writer_privileges=READ,
        history_of=source.name,
        schema=source.schema,
    )


def _table_schemas(schema: Schema) -> dict[str, str]:
    """The schema of every table outside public, junctions (their owner's) included."""
    found = {entity.table: entity.schema for entity in schema.entities if entity.schema}
    found |= {
        relation.junction_table: entity.schema
        for entity in schema.entities
        for relation in entity.relations
        if relation.junction_table and entity.schema
    }
    return found


def _exclusion(entity: Entity, lead: tuple[str, ...], spec: ExclusionSpec) -> ExclusionConstraint:
    """The constraint, the tenant column joining with ``=`` first; among live rows only
    on a soft-delete table."""
    columns = {f.name for f in entity.fields} | {r.column for r in entity.relations if r.column}
    elements = tuple(ExclusionElement(column, operator="=") for column in lead) + tuple(
        ExclusionElement(subject, expression=subject not in columns, operator=operator)
        for subject, operator in spec.elements
    )
    where = spec.where
    if entity.soft_delete:
        where = f"({where}) AND {SOFT_DELETE_PREDICATE}" if where else SOFT_DELETE_PREDICATE
    name = naming.exclusion_name(entity.table, spec.name)
    return ExclusionConstraint(name, spec.name, elements, spec.using, where)


def writer_privileges(schema: Schema, entity: Entity) -> tuple[str, ...]:
    """What the writer may do with the rows of ``entity``'s table (and its junctions).

    With tenancy on, the tenant table is the writer's to read and update (its own row,
    row-level security sees to that), and a global table is read-only unless ``writable``.
    """
    if schema.tenancy is None or entity.tenant_scoped or entity.writable:
        return WRITE
    if entity.name == schema.tenancy.entity:
        return TENANT_ROW
    return READ


def _relation_foreign_key(schema: Schema, entity: Entity, relation: Relation) -> ForeignKey:
    assert relation.column is not None
    target = schema.entity(relation.target)
    on_delete = _ON_DELETE_SQL[relation.on_delete]
    if is_tenant_composite(schema, entity, target) and schema.tenancy:
        columns: tuple[str, ...] = (schema.tenancy.column, relation.column)
        referred: tuple[str, ...] = (schema.tenancy.column, "id")
        set_null = (relation.column,) if relation.on_delete == "set_null" else ()
    else:
        columns, referred, set_null = (relation.column,), ("id",), ()
    return ForeignKey(
        naming.foreign_key_name(entity.table, columns, target.table),
        columns,
        target.table,
        referred,
        on_delete,
        set_null,
        target.schema,
    )


def _field_indexes(entity: Entity, lead: tuple[str, ...]) -> list[Index]:
    indexes = []
    for f in entity.fields:
        if f.index is None:
            continue
        indexes.append(_index(entity.table, lead, (f.name,), f.index, unique=False, where=None))
    return indexes


def key_elements(
    elements: tuple[IndexColumn, ...], types: dict[str, ColumnType]
) -> tuple[IndexColumn, ...]:
    """The elements of a unique key: as they are while their values fit
    ``KEY_ROW_BUDGET``; otherwise every unbounded one (a ``text`` column, an expression
    over one), then the widest ``string`` columns and expressions until the rest fit,
    hashed. An expression's width is taken as that of the columns it reads."""
    widths = [_element_width(element, types) for element in elements]
    hashed = {position for position, width in enumerate(widths) if width is None}
    rest = sum(width or 0 for position, width in enumerate(widths) if position not in hashed)
    for position in sorted(range(len(widths)), key=lambda p: widths[p] or 0, reverse=True):
        if rest <= KEY_ROW_BUDGET or position in hashed:
            continue
        element = elements[position]
        if element.expression or types[element.name].name == "string":
            hashed.add(position)
            rest -= widths[position] or 0
    return tuple(
        replace(element, hashed=position in hashed) for position, element in enumerate(elements)
    )


def _element_width(element: IndexColumn, types: dict[str, ColumnType]) -> int | None:
    widths = [_width(types[name]) for name in element.reads]
    return None if None in widths else sum(width or 0 for width in widths)


def value_width(column_type: ColumnType) -> int | None:
    """The most bytes a value of the type takes in an index row; None where nothing
    bounds it (text, json, bytes, arrays)."""
    if column_type.name in ("json", "bytes", "array"):
        return None
    return _width(column_type)


def _width(column_type: ColumnType) -> int | None:
    """The most bytes a value of the type takes in an index row; None for text, which
    has no bound. Types a unique key does not hold long values of count 8."""
    if column_type.name == "text":
        return None
    if column_type.name == "string":
        return (column_type.max_length or 0) * _CHARACTER_BYTES + 4
    if column_type.name == "enum":
        return ENUM_LENGTH * _CHARACTER_BYTES + 4
    return _FIXED_WIDTHS.get(column_type.name, 8)


def _declared_indexes(
    entity: Entity, lead: tuple[str, ...], types: dict[str, ColumnType]
) -> list[Index]:
    indexes = []
    for spec in entity.indexes:
        where = spec.where
        if spec.unique and entity.soft_delete:
            where = f"({where}) AND {SOFT_DELETE_PREDICATE}" if where else SOFT_DELETE_PREDICATE
        index = _index(
            entity.table, lead, spec.columns, spec.using, spec.unique, where, spec.expressions
        )
        if index.unique and index.method == "btree":
            index = replace(index, columns=key_elements(index.columns, types))
        if spec.name:
            index = replace(index, name=naming.truncate(spec.name))
        indexes.append(replace(index, include=spec.include))
    return indexes


def _index(
    table: str,
    lead: tuple[str, ...],
    columns: tuple[str, ...],
    using: str,
    unique: bool,
    where: str | None,
    expressions: tuple[str, ...] = (),
) -> Index:
    method = "gin" if using == "trgm" else using
    opclass = "gin_trgm_ops" if using == "trgm" else None
    if using == "brin":
        # A BRIN index summarizes block ranges: a leading tenant column only adds to
        # what it reads (every range holds many tenants), so it is left out.
        lead = ()
    elements = tuple(IndexColumn(c) for c in lead) + tuple(
        IndexColumn(c, opclass) for c in columns
    )
    elements += tuple(IndexColumn(e, expression=True) for e in expressions)
    suffix = "" if using == "btree" else using
    if where:
        suffix = f"{suffix}_partial" if suffix else "partial"
    prefix_name = naming.unique_name if unique else naming.index_name
    labels = lead + columns + tuple(map(naming.expression_label, expressions))
    name = (
        prefix_name(table, labels)
        if not suffix
        else naming.truncate(f"{prefix_name(table, labels)}_{suffix}")
    )
    return Index(name, elements, unique, method, where)


def _dedupe_index_names(table: str, indexes: list[Index]) -> tuple[Index, ...]:
    seen: set[str] = set()
    result = []
    for index in indexes:
        name, n = index.name, 2
        while name in seen:
            name, n = naming.truncate(f"{index.name}_{n}"), n + 1
        seen.add(name)
        result.append(replace(index, name=name))
    return tuple(result)


def _junction_table(schema: Schema, entity: Entity, relation: Relation) -> Table:
    assert relation.junction_table and relation.source_column and relation.target_column
    target = schema.entity(relation.target)
    scoped = schema.tenancy is not None and entity.tenant_scoped
    name = relation.junction_table
    src, tgt = relation.source_column, relation.target_column
    columns: list[Column] = []
    foreign_keys: list[ForeignKey] = []
    lead: tuple[str, ...] = ()
    if scoped and schema.tenancy:
        tenant_column = schema.tenancy.column
        tenant = schema.entity(schema.tenancy.entity)
        lead = (tenant_column,)
        columns.append(Column(tenant_column, UUID, role="tenant"))
        foreign_keys.append(
            ForeignKey(
                naming.foreign_key_name(name, lead, tenant.table),
                lead,
                tenant.table,
                ("id",),
                referred_schema=tenant.schema,
            )
        )
    tenant_key = _junction_tenant_key(schema, entity, target, relation) if not scoped else None
    old = _junction_before_renames(schema, entity, relation)
    columns += [
        Column(src, UUID, role="reference", renamed_from=_changed(old.source_column, src)),
        Column(tgt, UUID, role="reference", renamed_from=_changed(old.target_column, tgt)),
    ]
    for column, far in ((src, entity), (tgt, target)):
        composite = bool(lead) and far.tenant_scoped
        cols = lead + (column,) if composite else (column,)
        referred = lead + ("id",) if composite else ("id",)
        foreign_keys.append(
            ForeignKey(
                naming.foreign_key_name(name, cols, far.table),
                cols,
                far.table,
                referred,
                "CASCADE",
                referred_schema=far.schema,
            )
        )
    return Table(
        name=name,
        columns=tuple(columns),
        primary_key=lead + (src, tgt),
        writer_privileges=WRITE if scoped or tenant_key else writer_privileges(schema, entity),
        foreign_keys=tuple(foreign_keys),
        tenant_scoped=scoped,
        tenant_key=tenant_key,
        renamed_from=_changed(old.junction_table, name),
        schema=entity.schema,
    )


def _junction_tenant_key(
    schema: Schema, entity: Entity, target: Entity, relation: Relation
) -> str | None:
    """The column of a junction of the tenant entity that refers to the tenant table: its
    rows are one tenant's links, so row-level security compares that column with the
    setting and the writer keeps its own links. ``None`` for other junctions."""
    if schema.tenancy is None:
        return None
    if entity.name == schema.tenancy.entity:
        return relation.source_column
    if target.name == schema.tenancy.entity:
        return relation.target_column
    return None


def _junction_before_renames(schema: Schema, entity: Entity, relation: Relation) -> Relation:
    """The junction's table and columns under the names its entities and relation had
    before the ``renamed_from`` the spec declares (an entity renamed from a table name
    keeps its name here: the old entity name is not known)."""
    source = _name_before_rename(entity)
    target = _name_before_rename(schema.entity(relation.target))
    old_relation = relation.renamed_from or relation.name
    source_column, target_column = naming.junction_columns(source, target, old_relation)
    return replace(
        relation,
        junction_table=naming.junction_table(source, old_relation),
        source_column=source_column,
        target_column=target_column,
    )


def _name_before_rename(entity: Entity) -> str:
    old = entity.renamed_from
    return old if old is not None and naming.PASCAL_CASE.match(old) else entity.name


def _changed(old: str | None, new: str) -> str | None:
    return old if old is not None and old != new else None


def _add_searches(table: Table) -> Table:
    """A search function for each column a GIN index of a tenant table searches."""
    if not table.tenant_scoped:
        return table
    searches: dict[str, Search] = {}
    for index in table.indexes:
        if index.method != "gin" or index.where is not None:
            continue
        for item in index.columns:
            if item.expression:
                continue
            kind = table.column(item.name).type.name
            if item.opclass == "gin_trgm_ops":
                operator, verb = "ILIKE", "ilike"
            elif kind in ("json", "array"):
                operator, verb = "@>", "contains"
            elif kind == "tsvector":
                operator, verb = "@@", "match"
            else:
                continue
            name = naming.truncate(f"{table.name}_{item.name}_{verb}")
            searches.setdefault(item.name, Search(name, item.name, operator))
    return replace(table, searches=tuple(searches.values())) if searches else table


def _add_foreign_key_indexes(table: Table) -> Table:
    """Make every foreign key's columns the leading columns of some full index."""
    leading: list[tuple[str, ...]] = [table.primary_key]
    leading += [unique.columns for unique in table.uniques]
    leading += [index.leading_columns for index in table.indexes if index.where is None]
    added: list[Index] = []
    for fk in table.foreign_keys:
        width = len(fk.columns)
        if any(columns[:width] == fk.columns for columns in leading):
            continue
        index = Index(
            naming.index_name(table.name, fk.columns), tuple(IndexColumn(c) for c in fk.columns)
        )
        added.append(index)
        leading.append(fk.columns)
    if not added:
        return table
    return replace(table, indexes=_dedupe_index_names(table.name, [*table.indexes, *added]))


def _extensions(tables: list[Table]) -> tuple[str, ...]:
    needed: set[str] = set()
    for table in tables:
        for exclusion in table.exclusions:
            if any(
                not element.expression
                and table.column(element.name).type.name not in RANGE_ELEMENTS
                for element in exclusion.elements
            ):
                needed.add("btree_gist")
        for index in table.indexes:
            if any(c.opclass == "gin_trgm_ops" for c in index.columns):
                needed.add("pg_trgm")
            scalar = any(
                c.opclass is None
                and not c.expression
                and table.column(c.name).type.name not in ("json", "array")
                for c in index.columns
            )
            if index.method == "gin" and scalar:
                needed.add("btree_gin")
            if index.method == "gist" and scalar:
                needed.add("btree_gist")
    return tuple(sorted(needed))
