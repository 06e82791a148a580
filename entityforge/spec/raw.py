"""The raw spec: a pydantic copy of the document's shape, before any meaning is checked.

These models only say which keys exist and what kind of value each holds; unknown keys
are refused (``extra="forbid"``) and nothing is coerced (``strict=True``): ``"1"`` is
not a number and ``yes`` is not a boolean. Pydantic's errors are translated into
``SpecError``\\ s that point at the key or value in the file.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import ErrorDetails

from entityforge.errors import SpecError
from entityforge.spec.document import DocPath, Document, describe_path
from entityforge.spec.issues import combine_errors, did_you_mean, show_value


class RawModel(BaseModel):
    model_config = ConfigDict(
        extra="forbid", strict=True, frozen=True, use_attribute_docstrings=True
    )


class RawTenancy(RawModel):
    entity: str
    """The tenant entity (PascalCase): the table every tenant-scoped row belongs to.
    Never tenant-scoped itself."""
    column: str = "tenant_id"
    """The tenant column added to every tenant-scoped table (default tenant_id)."""
    setting: str = "app.tenant_id"
    """The PostgreSQL setting the row-level-security policies read the current tenant from
    (default app.tenant_id)."""
    distribution: str | None = None
    """citus: distribute the tables by the tenant column where the citus extension is
    installed (skipped elsewhere); global tables become reference tables."""


class RawRoles(RawModel):
    reader: str = "app_reader"
    """The role granted SELECT only (default app_reader)."""
    writer: str = "app_writer"
    """The application's role: CRUD, owns nothing, row-level security applies (default
    app_writer)."""
    admin: str = "app_admin"
    """The role that bypasses row-level security, for operators and cross-tenant jobs (default
    app_admin)."""


class RawDefaults(RawModel):
    timestamps: bool = True
    """Give every entity created_at and updated_at (timestamptz, updated_at moved by a trigger)
    unless it says otherwise (default true)."""
    soft_delete: bool = False
    """Give every entity a deleted_at column; unique constraints then hold among live rows only
    (default false)."""
    enums: Literal["check", "native"] | None = None
    """How enum fields are stored: check (varchar with a CHECK on the labels, whose equality
    row-level security lets indexes use) or native (PostgreSQL enum types). Not given: new
    enum columns use check, and columns the recorded schema keeps in enum types stay."""


class RawItemType(RawModel):
    """The element type of an array (``of``): a type expression or this mapping."""

    type: str
    """The items' type: a type name, optionally with parameters (string(40), decimal(12,2))."""
    max_length: int | None = None
    """The items' maximum length (string items)."""
    precision: int | None = None
    """Total significant digits (decimal items)."""
    scale: int | None = None
    """Digits after the point (decimal items)."""


class RawField(RawModel):
    type: str
    """The column's type: string, text, smallint, integer, bigint, decimal, float, boolean, date,
    datetime (timestamptz), time, interval, uuid, json (jsonb), enum, bytes or array;
    string(200) and decimal(12,2) give parameters inline."""
    max_length: int | None = None
    """The maximum length of a string (varchar(n)); required for string unless written string(n).
    The maximum length of a string (varchar(n)); required for string unless written string(n)."""
    precision: int | None = None
    """Total significant digits of a decimal (numeric(p, s))."""
    scale: int | None = None
    """Digits after the point of a decimal; needs precision."""
    values: list[str] | None = None
    """The labels of an enum, in order."""
    of: RawItemType | None = None
    """The item type of an array: a type expression (text, string(40)) or a mapping with type and
    its parameters."""
    nullable: bool = False
    """Whether the column accepts NULL (default false: NOT NULL)."""
    default: Any = None
    """A literal server default: a string, number, boolean, {} or []."""
    default_sql: str | None = None
    """A SQL expression as the server default, such as now(); parsed, never pasted raw."""
    unique: bool = False
    """A unique constraint on this column (leading with the tenant column on tenant-scoped
    tables)."""
    index: bool | str | None = None
    """Index this column: true (btree) or the method: btree, gin, gist, brin or trgm (trigram
    search on text)."""
    check: str | None = None
    """A SQL boolean expression the column's rows must satisfy (a check constraint)."""
    comment: str | None = None
    """The column's comment in the database and the model's documentation."""
    renamed_from: str | None = None
    """The field's previous name: the next revision renames the column instead of dropping it."""
    example: Any = None
    """A literal of the field's type that the generated factories write, for a check they cannot
    satisfy on their own (the check must accept it; not for unique fields)."""
    generated: str | None = None
    """A SQL expression over the entity's other columns, such as lower(name): a stored generated
    column (GENERATED ALWAYS AS ... STORED) that the database computes and nobody writes; it may
    call immutable functions only and not refer to another generated column."""

    @field_validator("of", mode="before")
    @classmethod
    def _expand_item_shorthand(cls, value: Any) -> Any:
        return {"type": value} if isinstance(value, str) else value

    @property
    def has_default(self) -> bool:
        return "default" in self.model_fields_set


class RawRelation(RawModel):
    kind: str
    """many_to_one (a foreign-key column <name>_id), one_to_one (the same, unique) or many_to_many
    (a junction table)."""
    target: str
    """The entity the relation points to (PascalCase); may be the entity itself."""
    nullable: bool | None = None
    """Whether the foreign-key column accepts NULL (default false)."""
    on_delete: str | None = None
    """What deleting the target does to this row: cascade, set_null, restrict or no_action
    (default restrict)."""
    back_populates: str | None = None
    """The name of the relationship on the target that lists the rows pointing at it."""
    renamed_from: str | None = None
    """The relation's previous name: its column (or junction table) is renamed, not dropped."""
    comment: str | None = None
    """The foreign-key column's comment."""


class RawIndex(RawModel):
    columns: list[str] | None = None
    """The indexed columns, in order (the tenant column is put first on tenant-scoped tables;
    never name it)."""
    expressions: list[str] | None = None
    """SQL expressions over the table's columns, indexed after the columns (btree; immutable
    functions only), such as lower(email); with unique: true a case-insensitive unique key."""
    include: list[str] | None = None
    """Covering columns a btree index stores beside its keys, so that a query reading only
    them never visits the table."""
    unique: bool = False
    """A unique index (default false)."""
    using: str = "btree"
    """The access method: btree (default), gin, gist, brin or trgm."""
    where: str | None = None
    """A SQL predicate: a partial index over the rows it holds for."""
    name: str | None = None
    """The index's name, instead of the naming convention's."""


class RawCheck(RawModel):
    name: str
    """The check's short name (snake_case): the constraint is ck_<table>_<name>."""
    expression: str
    """A SQL boolean expression over the table's columns."""


class RawExclusion(RawModel):
    name: str
    """The constraint's short name (snake_case): the constraint is ex_<table>_<name>."""
    elements: list[list[str]]
    """[column or SQL expression, operator] pairs, such as [resource_id, "="] and [during, "&&"]:
    a row is refused when every pair holds against another row (the tenant column joins with
    = first on tenant-scoped tables)."""
    using: str = "gist"
    """The index method that enforces it (default gist; btree_gist serves = on plain columns)."""
    where: str | None = None
    """A SQL predicate: the constraint holds among the rows it is true for."""


class RawPolicy(RawModel):
    name: str
    """The policy's name (snake_case); a policy for several commands becomes one policy per
    command, named <name>_<command>."""
    for_: list[str] = Field(default_factory=lambda: ["all"], alias="for")
    """The commands it restricts: select, insert, update, delete or all (default all); one or a
    list."""
    using: str | None = None
    """A SQL boolean expression the rows it reads must satisfy (not for insert); may read
    settings with current_setting and use subqueries."""
    check: str | None = None
    """A SQL boolean expression the rows it writes must satisfy (not for select or delete)."""
    roles: list[str] | None = None
    """The roles it restricts: role kinds (reader, writer, admin) or their names (default: the
    writer)."""

    @field_validator("for_", mode="before")
    @classmethod
    def _expand_single_command(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class RawSearch(RawModel):
    fields: dict[str, str]
    """The searched fields (string or text), each with its weight: A (ranks highest), B, C
    or D."""
    language: str = "simple"
    """The text search configuration that turns words into lexemes: simple (words as written,
    lower-cased; default) or a language such as english, german or french (stemmed, without
    stop words)."""


class RawPartition(RawModel):
    by: str
    """range (one partition per interval of a datetime or date column) or hash (of the tenant
    column, into a fixed number of partitions)."""
    column: str
    """The partition column: a datetime or date field for range, the tenant column for hash."""
    interval: str | None = None
    """For range: the span of one partition, day, week, month or year."""
    premake: int | None = None
    """For range: how many partitions ahead of the current interval exist (default 4, at most
    100); the maintenance entry point keeps them made."""
    partitions: int | None = None
    """For hash: the number of partitions (2 to 256)."""


class RawEntity(RawModel):
    table: str | None = None
    """The table's name (default: the snake_case plural of the entity name)."""
    schema_: str | None = Field(default=None, alias="schema")
    """The PostgreSQL schema (namespace) the table, its enum types and its junction tables live
    in (default public); the revision creates it and grants USAGE on it to the roles."""
    tenant_scoped: bool | None = None
    """Whether rows belong to a tenant (default true when tenancy is on, false for the tenant
    entity)."""
    writable: bool | None = None
    """On a global entity (tenant_scoped: false, tenancy on): the writer may insert, update and
    delete its rows, which are read-only to it otherwise (default false)."""
    timestamps: bool | None = None
    """created_at and updated_at columns (default: defaults.timestamps)."""
    soft_delete: bool | None = None
    """A deleted_at column; deletes set it and unique values hold among live rows (default:
    defaults.soft_delete)."""
    audit: bool | None = None
    """Record every insert, update and delete of the entity's rows in an append-only history
    table, <table>_history, written by triggers (default false)."""
    fields: dict[str, RawField] | None = None
    """The entity's columns: name (snake_case) to a type expression such as string(200), or a
    mapping with type and options."""
    relations: dict[str, RawRelation] | None = None
    """The entity's relations: name (snake_case) to a mapping with kind and target."""
    indexes: list[RawIndex] | None = None
    """Indexes beyond those the fields and relations imply."""
    unique: list[list[str]] | None = None
    """Unique constraints over several columns: a list of column lists."""
    checks: list[RawCheck] | None = None
    """Check constraints over several columns: a list of {name, expression}."""
    exclude: list[RawExclusion] | None = None
    """Exclusion constraints: a list of {name, elements, using, where}, such as no two bookings
    of one resource whose periods overlap."""
    policies: list[RawPolicy] | None = None
    """Restrictive row-level policies: a list of {name, for, using, check, roles}; they only
    narrow what the roles may see and change."""
    search: RawSearch | None = None
    """Full-text search: a stored generated tsvector column (search_vector) over the weighted
    fields, a GIN index, and a ranked search_text method in the repository."""
    partition: RawPartition | None = None
    """A partitioned table: {by: range, column, interval, premake} or {by: hash, column,
    partitions}; its primary key and unique constraints include the partition column."""
    renamed_from: str | None = None
    """The entity's previous name or table name: the next revision renames the table."""
    comment: str | None = None
    """The table's comment in the database and the model's docstring."""

    @field_validator("fields", mode="before")
    @classmethod
    def _expand_field_shorthand(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        return {
            name: {"type": field} if isinstance(field, str) else field
            for name, field in value.items()
        }


class RawView(RawModel):
    query: str
    """One SELECT over the spec's tables (by table name) and the views declared above this
    one; tenant-scoped tables need the tenant column among its output columns."""
    materialized: bool = False
    """Store the rows (a materialized view, refreshed by the project's refresh entry point);
    the application reads them through a view that filters by tenant (default false)."""
    unique: list[str] | None = None
    """Output columns that identify a row: the model's primary key and, on a materialized
    view, the unique index (tenant column first) that lets it refresh concurrently."""
    comment: str | None = None
    """The view's comment in the database and the model's docstring."""


class RawSpec(RawModel):
    version: Any
    """The spec format's version; must be 1."""
    tenancy: RawTenancy | None = None
    """Multi-tenancy: its presence scopes every entity but the tenant entity to a tenant, isolated
    by row-level security."""
    roles: RawRoles | None = None
    """The names of the database roles the revisions create and grant."""
    defaults: RawDefaults | None = None
    """Defaults every entity inherits unless it says otherwise."""
    entities: dict[str, RawEntity | None]
    """The entities: PascalCase name to its table's definition."""
    views: dict[str, RawView] | None = None
    """Read-only views over the entities' tables: PascalCase name to {query, materialized,
    unique, comment}."""


# Top-level keys with this prefix are ignored: a place for YAML anchors to reuse.
EXTENSION_PREFIX = "x-"


def validate_raw(document: Document) -> RawSpec:
    """Check the document's shape; raise ``SpecError`` (or ``SpecErrors``) if it is wrong.

    Top-level keys starting with ``x-`` are ignored, so anchors can be defined there.
    """
    data = document.data
    if not isinstance(data, dict):
        raise SpecError(
            f"the top level of the spec must be a mapping, not {show_value(data)}",
            document.value_location(()),
            hint="start with 'version: 1' and an 'entities:' mapping, each on its own line",
        )
    data = {key: value for key, value in data.items() if not key.startswith(EXTENSION_PREFIX)}
    try:
        return RawSpec.model_validate(data)
    except ValidationError as error:
        details = _without_misspelt_missing_keys(error.errors())
        errors = [_translate(document, detail) for detail in details]
    raise combine_errors(errors)


def _without_misspelt_missing_keys(details: list[ErrorDetails]) -> list[ErrorDetails]:
    """Drop "has no 'x'" where an unknown key beside it is 'x' misspelt (its hint says so)."""
    unknown: dict[tuple[Any, ...], list[str]] = {}
    for detail in details:
        if detail["type"] == "extra_forbidden":
            unknown.setdefault(tuple(detail["loc"][:-1]), []).append(str(detail["loc"][-1]))

    def misspelt(detail: ErrorDetails) -> bool:
        parent, key = tuple(detail["loc"][:-1]), str(detail["loc"][-1])
        return any(did_you_mean(extra, [key]) for extra in unknown.get(parent, []))

    return [d for d in details if not (d["type"] == "missing" and misspelt(d))]


def model_for_path(path: DocPath) -> type[RawModel] | None:
    """The raw model that describes the mapping at ``path``, if any."""
    if not path:
        return RawSpec
    if len(path) == 1:
        settings: dict[str, type[RawModel]] = {
            "tenancy": RawTenancy,
            "roles": RawRoles,
            "defaults": RawDefaults,
        }
        return settings.get(str(path[0]))
    if path[0] == "views" and len(path) == 2:
        return RawView
    if path[0] != "entities":
        return None
    rest = path[2:]
    if not rest:
        return RawEntity
    sections: dict[str, type[RawModel]] = {
        "fields": RawField,
        "relations": RawRelation,
        "indexes": RawIndex,
        "checks": RawCheck,
        "policies": RawPolicy,
    }
    if len(rest) == 2:
        return sections.get(str(rest[0]))
    if len(rest) == 3 and rest[0] == "fields" and rest[2] == "of":
        return RawItemType
    return None


def spec_keys(model: type[RawModel]) -> tuple[str, ...]:
    """The keys a raw model takes, as the spec writes them (``for``, not ``for_``)."""
    return tuple(field.alias or name for name, field in model.model_fields.items())


def _translate(document: Document, detail: ErrorDetails) -> SpecError:
    path: DocPath = tuple(detail["loc"])
    kind = detail["type"]
    if kind == "extra_forbidden":
        return _unknown_key(document, path)
    if kind == "missing":
        return _missing_key(document, path)
    value = detail.get("input")
    locate = document.key_location if value is None else document.value_location
    return SpecError(
        f"{_value_label(path)} {_expectation(kind, path)}, not {show_value(value)}",
        locate(path),
        hint=_type_hint(kind, path),
    )


# Keys of a field that other tools have, and how the spec says the same.
_SAID_OTHERWISE = {
    "pattern": "a pattern is a check: check: \"code ~ '^[A-Z]{3}$'\" (a POSIX regex)",
    "regex": "a pattern is a check: check: \"code ~ '^[A-Z]{3}$'\" (a POSIX regex)",
    "required": "fields are required unless they say nullable: true",
    "optional": "write nullable: true",
    "primary_key": "every entity has the primary key id; use unique: true for another key",
    "min": 'a bound is a check: check: "qty >= 0"',
    "max": 'a bound is a check: check: "qty <= 100" (max_length for strings)',
}


def _unknown_key(document: Document, path: DocPath) -> SpecError:
    key, parent = str(path[-1]), path[:-1]
    model = model_for_path(parent)
    allowed = sorted(spec_keys(model)) if model else []
    hint = did_you_mean(key, allowed)
    if hint is None and "check" in allowed:
        hint = _SAID_OTHERWISE.get(key.lower())
    if hint is None and allowed:
        hint = f"the keys allowed here are: {', '.join(allowed)}"
        if not parent:
            hint += f" (top-level keys starting with '{EXTENSION_PREFIX}' are ignored)"
    return SpecError(
        f"unknown key '{key}' in {describe_path(parent)}", document.key_location(path), hint=hint
    )


_MISSING_HINTS = {
    "version": "start the file with 'version: 1'",
    "entities": "add an 'entities:' mapping of entity names to their fields",
    "type": "give the field a type, e.g. 'type: text' or the shorthand 'name: string(200)'",
    "kind": "add 'kind: many_to_one', 'one_to_one' or 'many_to_many'",
    "target": "add 'target: <EntityName>'",
    "entity": "name the tenant entity, e.g. 'entity: Workspace'",
    "columns": "add 'columns: [<column>, ...]'",
    "name": "add 'name: <snake_case_name>'",
    "expression": "add 'expression: \"<SQL boolean expression>\"'",
    "query": "add 'query: \"SELECT ... FROM <table>\"'",
}


def _missing_key(document: Document, path: DocPath) -> SpecError:
    key, parent = str(path[-1]), path[:-1]
    return SpecError(
        f"{describe_path(parent)} has no '{key}'",
        document.key_location(parent),
        hint=_MISSING_HINTS.get(key, f"add '{key}'"),
    )


def _value_label(path: DocPath) -> str:
    if not path:
        return "the top level"
    last, parent = path[-1], path[:-1]
    if isinstance(last, int):
        return f"item {last + 1} of {_value_label(parent)}"
    if model_for_path(path) is not None and len(path) > 1 and path[0] == "entities":
        return describe_path(path)
    return f"'{last}' in {describe_path(parent)}"


def _expectation(kind: str, path: DocPath) -> str:
    names_a_type = (path and path[-1] == "of") or (len(path) == 4 and path[2] == "fields")
    if names_a_type and kind in ("model_type", "dict_type", "model_attributes_type"):
        return "must be a type expression (like 'string(200)') or a mapping"
    expected = {
        "bool_type": "must be true or false",
        "int_type": "must be a whole number",
        "string_type": "must be a string",
        "list_type": "must be a list",
        "dict_type": "must be a mapping",
        "model_type": "must be a mapping",
        "model_attributes_type": "must be a mapping",
    }
    return expected.get(kind, "is not valid")


def _type_hint(kind: str, path: DocPath) -> str | None:
    if kind == "string_type":
        return "quote the value to make it a string"
    if kind == "bool_type":
        return "write true or false (without quotes)"
    if kind == "int_type":
        return "write a whole number without quotes"
    if kind == "list_type" and len(path) == 5 and path[2] == "unique":
        return "'unique' is a list of column lists: write '- [a, b]' per constraint"
    if kind == "list_type":
        return "write a list, e.g. [a, b] or one '- item' per line"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return "write 'key: value' pairs indented under it, or {key: value}"
    return "see the spec format for what this key takes"
