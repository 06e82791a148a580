"""The validated, immutable model of a spec: what every later stage sees.

The builder (``entityforge.spec``) turns a raw YAML document into these values; no
later stage ever sees a dict from the spec. Everything is frozen: derive with
``dataclasses.replace``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal, TypeAlias

FieldTypeName = Literal[
    "string",
    "text",
    "smallint",
    "integer",
    "bigint",
    "decimal",
    "float",
    "boolean",
    "date",
    "datetime",
    "time",
    "interval",
    "uuid",
    "json",
    "enum",
    "bytes",
    "array",
    "tstzrange",
    "daterange",
    "int4range",
    "int8range",
    "numrange",
]
FIELD_TYPES: tuple[str, ...] = FieldTypeName.__args__  # type: ignore[attr-defined]
SearchTypeName = Literal["tsvector", "tsquery"]
"""The types of full-text search: an entity's ``search`` column and the queries it
answers. No field declares them; the columns and functions ``search`` implies do."""
SEARCH_TYPES: tuple[str, ...] = SearchTypeName.__args__  # type: ignore[attr-defined]
ColumnTypeName: TypeAlias = FieldTypeName | SearchTypeName


@dataclass(frozen=True)
class Spelling:
    """How a field type is written in PostgreSQL, SQLAlchemy and Python.

    ``sql`` is the type as a cast target and ``udt`` as the catalog names it
    (``information_schema.columns.udt_name``), both None where parameters decide
    (``varchar(200)``, an enum's own type, an array of its item). ``sqlalchemy`` is the
    type's class, in ``sqlalchemy.dialects.postgresql`` when ``dialect``. ``python`` is
    what a value of the column is: a builtin, ``module.name`` (the module imported),
    ``(module, name)`` (the name imported), or None where the column decides (an enum's
    class, a json value's shape, an array's items).
    """

    sqlalchemy: str
    sql: str | None = None
    udt: str | None = None
    python: str | tuple[str, str] | None = None
    dialect: bool = False


SPELLINGS: dict[str, Spelling] = {
    "string": Spelling("String", python="str"),
    "text": Spelling("Text", "text", "text", "str"),
    "smallint": Spelling("SmallInteger", "smallint", "int2", "int"),
    "integer": Spelling("Integer", "integer", "int4", "int"),
    "bigint": Spelling("BigInteger", "bigint", "int8", "int"),
    "decimal": Spelling("Numeric", python=("decimal", "Decimal")),
    "float": Spelling("Double", "double precision", "float8", "float"),
    "boolean": Spelling("Boolean", "boolean", "bool", "bool"),
    "date": Spelling("Date", "date", "date", ("datetime", "date")),
    "datetime": Spelling("DateTime", "timestamptz", "timestamptz", ("datetime", "datetime")),
    "time": Spelling("Time", "time", "time", ("datetime", "time")),
    "interval": Spelling("Interval", "interval", "interval", ("datetime", "timedelta")),
    "uuid": Spelling("Uuid", "uuid", "uuid", "uuid.UUID"),
    "json": Spelling("JSONB", "jsonb", "jsonb", dialect=True),
    "enum": Spelling("Enum"),
    "bytes": Spelling("LargeBinary", "bytea", "bytea", "bytes"),
    "array": Spelling("ARRAY", dialect=True),
    "tstzrange": Spelling("TSTZRANGE", "tstzrange", "tstzrange", dialect=True),
    "daterange": Spelling("DATERANGE", "daterange", "daterange", dialect=True),
    "int4range": Spelling("INT4RANGE", "int4range", "int4range", dialect=True),
    "int8range": Spelling("INT8RANGE", "int8range", "int8range", dialect=True),
    "numrange": Spelling("NUMRANGE", "numrange", "numrange", dialect=True),
    "tsvector": Spelling("TSVECTOR", "tsvector", "tsvector", "str", dialect=True),
    "tsquery": Spelling("TSQUERY", "tsquery", "tsquery", "str", dialect=True),
}
"""Every field type's spelling: the one table a new type is added to."""
RANGE_ELEMENTS: dict[str, FieldTypeName] = {
    "tstzrange": "datetime",
    "daterange": "date",
    "int4range": "integer",
    "int8range": "bigint",
    "numrange": "decimal",
}
"""The range types and the type of their bounds: a value is a ``Range`` of it."""
INTEGER_BITS = {"smallint": 16, "integer": 32, "bigint": 64}
"""The integer types and their widths; the rest (largest value, digits) follows."""
INTEGER_LIMITS = {name: 2 ** (bits - 1) - 1 for name, bits in INTEGER_BITS.items()}

IndexMethod = Literal["btree", "gin", "gist", "brin", "trgm"]
INDEX_METHODS: tuple[str, ...] = IndexMethod.__args__  # type: ignore[attr-defined]

EnumStorage = Literal["check", "native"]

RelationKind = Literal["many_to_one", "one_to_one", "many_to_many"]
RELATION_KINDS: tuple[str, ...] = RelationKind.__args__  # type: ignore[attr-defined]

OnDelete = Literal["cascade", "set_null", "restrict", "no_action"]
ON_DELETE_ACTIONS: tuple[str, ...] = OnDelete.__args__  # type: ignore[attr-defined]

# A literal default as the spec wrote it: JSON-like data, frozen.
JsonValue: TypeAlias = (
    "None | bool | int | float | str | tuple[JsonValue, ...] | tuple[tuple[str, JsonValue], ...]"
)


@dataclass(frozen=True)
class DefaultValue:
    """A literal default value (``default:`` in the spec).

    ``value`` holds scalars as they are; a mapping is a tuple of ``(key, value)`` pairs
    in the spec's order and a list is a tuple, so the whole value stays hashable.
    ``kind`` says which: ``scalar``, ``object`` or ``array``.
    """

    value: JsonValue
    kind: Literal["scalar", "object", "array"] = "scalar"


@dataclass(frozen=True)
class ColumnType:
    """A field's type with its parameters.

    ``enum_name`` is the PostgreSQL type name of an enum, in the schema ``enum_schema``
    (``None``: public); ``item`` the element type of an array (never itself an array or
    an enum).
    """

    name: ColumnTypeName
    max_length: int | None = None
    precision: int | None = None
    scale: int | None = None
    values: tuple[str, ...] = ()
    enum_name: str | None = None
    item: ColumnType | None = None
    enum_schema: str | None = None


@dataclass(frozen=True)
class Field:
    """A column declared under ``fields``.

    ``generated`` is the parsed, immutable SQL expression of a stored generated column
    (``GENERATED ALWAYS AS (...) STORED``): the database computes the value, nobody
    writes it.
    """

    name: str
    type: ColumnType
    nullable: bool = False
    default: DefaultValue | None = None
    default_sql: str | None = None
    unique: bool = False
    index: IndexMethod | None = None
    check: str | None = None
    comment: str | None = None
    renamed_from: str | None = None
    example: DefaultValue | None = None
    generated: str | None = None


@dataclass(frozen=True)
class Relation:
    """A relation declared under ``relations``.

    For ``many_to_one`` and ``one_to_one`` ``column`` is the foreign-key column on this
    entity (``<name>_id``). For ``many_to_many`` ``junction_table`` names the junction
    table and ``source_column``/``target_column`` its two key columns.
    """

    name: str
    kind: RelationKind
    target: str
    nullable: bool = False
    on_delete: OnDelete = "restrict"
    back_populates: str | None = None
    column: str | None = None
    junction_table: str | None = None
    source_column: str | None = None
    target_column: str | None = None
    renamed_from: str | None = None
    comment: str | None = None


@dataclass(frozen=True)
class IndexSpec:
    """An index declared under ``indexes`` (columns as the spec names them).

    ``expressions`` are parsed SQL, indexed after ``columns``; ``include`` are the
    covering columns a btree index stores beside its keys.
    """

    columns: tuple[str, ...]
    unique: bool = False
    using: IndexMethod = "btree"
    where: str | None = None
    name: str | None = None
    expressions: tuple[str, ...] = ()
    include: tuple[str, ...] = ()


@dataclass(frozen=True)
class CheckSpec:
    """A table check declared under ``checks``: a name and a parsed SQL expression."""

    name: str
    expression: str


PolicyCommand = Literal["select", "insert", "update", "delete", "all"]
POLICY_COMMANDS: tuple[str, ...] = PolicyCommand.__args__  # type: ignore[attr-defined]
RoleKind = Literal["reader", "writer", "admin"]
ROLE_KINDS: tuple[str, ...] = RoleKind.__args__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class PolicySpec:
    """A restrictive row-level policy declared under ``policies``.

    ``commands`` are the commands it restricts, in the spec's order; ``using`` and
    ``check`` are parsed SQL (``None`` where not given); ``roles`` are role kinds, so a
    role renamed under ``roles:`` keeps its policies.
    """

    name: str
    commands: tuple[PolicyCommand, ...]
    using: str | None = None
    check: str | None = None
    roles: tuple[RoleKind, ...] = ("writer",)


@dataclass(frozen=True)
class ExclusionSpec:
    """An exclusion constraint declared under ``exclude``: no two rows whose ``elements``
    (a column or a parsed SQL expression, and an operator) all hold together.

    ``where`` limits it to the rows a parsed predicate holds for."""

    name: str
    elements: tuple[tuple[str, str], ...]
    using: str = "gist"
    where: str | None = None


SearchWeight = Literal["A", "B", "C", "D"]
SEARCH_WEIGHTS: tuple[str, ...] = SearchWeight.__args__  # type: ignore[attr-defined]


PartitionInterval = Literal["day", "week", "month", "year"]
PARTITION_INTERVALS: tuple[str, ...] = PartitionInterval.__args__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class PartitionSpec:
    """A partitioned table (``partition``): ``by`` range of a datetime or date ``column``,
    one partition per ``interval`` (the current one and ``premake`` ahead, and a default
    partition for the rest), or ``by`` hash of the tenant column into ``partitions``."""

    by: Literal["range", "hash"]
    column: str
    interval: PartitionInterval | None = None
    premake: int = 0
    partitions: int = 0


@dataclass(frozen=True)
class SearchSpec:
    """Full-text search (``search``): the fields read, each with its weight (``A``
    ranks highest), and the text search configuration that makes their words lexemes.

    ``column`` is the stored generated ``tsvector`` the entity's fields hold it in,
    and a GIN index serves it.
    """

    fields: tuple[tuple[str, SearchWeight], ...]
    language: str = "simple"
    column: str = "search_vector"


@dataclass(frozen=True)
class Entity:
    """An entity: one table, its fields and relations.

    ``writable``: a global entity (not tenant-scoped, tenancy on) whose rows the writer
    may insert, update and delete; other global tables are read-only to it. ``audit``:
    triggers record every change of its rows in an append-only history table. ``schema``
    is the PostgreSQL schema its table lives in; ``None`` is ``public``, named unqualified.
    """

    name: str
    table: str
    tenant_scoped: bool
    timestamps: bool
    soft_delete: bool
    writable: bool = False
    fields: tuple[Field, ...] = ()
    relations: tuple[Relation, ...] = ()
    indexes: tuple[IndexSpec, ...] = ()
    unique: tuple[tuple[str, ...], ...] = ()
    checks: tuple[CheckSpec, ...] = ()
    policies: tuple[PolicySpec, ...] = ()
    comment: str | None = None
    renamed_from: str | None = None
    exclusions: tuple[ExclusionSpec, ...] = ()
    search: SearchSpec | None = None
    audit: bool = False
    schema: str | None = None
    partition: PartitionSpec | None = None

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)

    def relation(self, name: str) -> Relation | None:
        return next((r for r in self.relations if r.name == name), None)


@dataclass(frozen=True)
class ViewColumn:
    """An output column of a view: its name and the type the query gives it."""

    name: str
    type: ColumnType
    nullable: bool = True


@dataclass(frozen=True)
class ViewSource:
    """A table or view a view's query reads, and the columns of it the query names."""

    relation: str
    columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class View:
    """A view declared under ``views``: its parsed query and what it was checked to give.

    ``relation`` is the name the application reads it by; ``columns`` are the query's
    output columns, typed from the spec's columns; ``key`` identifies a row (the
    model's primary key): ``unique`` with the tenant column first on a tenant-scoped
    view, or ``id`` where the query selects it. ``unique`` on a materialized view is
    also its unique index, which lets it refresh concurrently.
    """

    name: str
    relation: str
    query: str
    columns: tuple[ViewColumn, ...]
    sources: tuple[ViewSource, ...]
    key: tuple[str, ...]
    materialized: bool = False
    unique: tuple[str, ...] = ()
    tenant_scoped: bool = False
    comment: str | None = None

    def column(self, name: str) -> ViewColumn | None:
        return next((c for c in self.columns if c.name == name), None)


Distribution = Literal["citus"]
DISTRIBUTIONS: tuple[str, ...] = Distribution.__args__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Tenancy:
    """Multi-tenancy: which entity is the tenant, the column and the setting.

    ``distribution``: ``citus`` distributes the tables by the tenant column where the
    ``citus`` extension is installed.
    """

    entity: str
    column: str = "tenant_id"
    setting: str = "app.tenant_id"
    distribution: Distribution | None = None


@dataclass(frozen=True)
class Roles:
    """The database roles the migrations create and grant to."""

    reader: str = "app_reader"
    writer: str = "app_writer"
    admin: str = "app_admin"


@dataclass(frozen=True)
class Schema:
    """A whole validated spec.

    ``enum_storage`` (``defaults: {enums: ...}``): ``check`` stores every enum as
    ``varchar`` with a ``CHECK`` on its values, ``native`` as a PostgreSQL enum type;
    ``None`` (not given) stores new enum columns the ``check`` way and keeps the native
    type of a column whose recorded schema has one.
    """

    entities: tuple[Entity, ...]
    tenancy: Tenancy | None = None
    roles: Roles = field(default_factory=Roles)
    version: int = 1
    enum_storage: EnumStorage | None = None
    views: tuple[View, ...] = ()

    def entity(self, name: str) -> Entity:
        return self._entities_by_name[name]

    def relations_to(self, name: str) -> tuple[tuple[Entity, Relation], ...]:
        """``(owner, relation)`` of every relation targeting entity ``name``, in spec order."""
        return self._relations_by_target.get(name, ())

    @cached_property
    def _entities_by_name(self) -> dict[str, Entity]:
        return {entity.name: entity for entity in self.entities}

    @cached_property
    def _relations_by_target(self) -> dict[str, tuple[tuple[Entity, Relation], ...]]:
        found: dict[str, list[tuple[Entity, Relation]]] = {}
        for owner in self.entities:
            for relation in owner.relations:
                found.setdefault(relation.target, []).append((owner, relation))
        return {target: tuple(pairs) for target, pairs in found.items()}

    @property
    def tenant_entity(self) -> Entity | None:
        return self.entity(self.tenancy.entity) if self.tenancy else None
