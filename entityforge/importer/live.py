"""What a live PostgreSQL database holds, read from its system catalogs.

One query per kind of object, all read in one transaction (so the picture is
consistent), into frozen values the recogniser works on. Objects that extensions own
(pg_trgm's functions, say) and Alembic's own table are left out: they are not the
schema's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from pglast import ast
from pglast.parser import ParseError
from pglast.stream import RawStream

from entityforge.parse_tree import (
    MissingPart,
    column_name,
    function_name,
    required,
    select_target,
)

# Alembic's bookkeeping table is the migration tool's, not the schema's.
IGNORED_TABLES = frozenset({"alembic_version"})


@dataclass(frozen=True)
class LiveType:
    """A column's type: ``name`` is pg_type's name (``varchar``, ``int4``, an enum's)."""

    name: str
    display: str
    kind: str
    """``base``, ``enum``, ``array`` (``element`` is then the item type) or ``other``."""
    length: int | None = None
    precision: int | None = None
    scale: int | None = None
    element: LiveType | None = None


@dataclass(frozen=True)
class LiveColumn:
    name: str
    type: LiveType
    nullable: bool
    default: str | None
    comment: str | None
    identity: bool = False
    generated: str | None = None


@dataclass(frozen=True)
class LiveConstraint:
    """``kind``: ``p`` primary, ``u`` unique, ``f`` foreign, ``c`` check, ``x`` exclusion."""

    name: str
    kind: str
    columns: tuple[str, ...]
    definition: str
    referred_table: str | None = None
    referred_columns: tuple[str, ...] = ()
    on_delete: str = "a"
    expression: str | None = None  # a check's, as PostgreSQL prints it
    validated: bool = True


@dataclass(frozen=True)
class LiveIndex:
    """``columns`` holds, for an element ``md5(column)`` (a unique key over long text, as
    the generator makes it), the column; ``hashed`` names those columns."""

    name: str
    columns: tuple[str, ...]
    opclasses: tuple[str, ...]
    unique: bool
    method: str
    where: str | None
    has_expressions: bool
    definition: str
    constraint: str | None
    hashed: tuple[str, ...] = ()
    # The expression elements as PostgreSQL prints them (a unique index's ``md5(...)``
    # of one taken off), whether they all come after the columns, and covering columns.
    expressions: tuple[str, ...] = ()
    columns_first: bool = True
    include: tuple[str, ...] = ()


@dataclass(frozen=True)
class LivePolicy:
    name: str
    permissive: bool
    roles: tuple[str, ...]
    command: str
    using: str | None
    check: str | None


@dataclass(frozen=True)
class LiveTrigger:
    name: str
    function: str
    definition: str


@dataclass(frozen=True)
class LiveTable:
    name: str
    kind: str
    """pg_class's relkind: ``r`` table, ``p`` partitioned table, ``v`` view, ``m`` materialized."""
    comment: str | None
    columns: tuple[LiveColumn, ...]
    constraints: tuple[LiveConstraint, ...] = ()
    indexes: tuple[LiveIndex, ...] = ()
    policies: tuple[LivePolicy, ...] = ()
    triggers: tuple[LiveTrigger, ...] = ()
    grants: tuple[tuple[str, str], ...] = ()
    """``(role, privilege)`` pairs."""
    row_security: bool = False
    forced_row_security: bool = False
    schema: str = "public"
    partition_key: str | None = None
    """``pg_get_partkeydef`` of a partitioned table: ``RANGE (recorded_at)``."""
    partitions: int = 0
    maintenance: str | None = None
    """The source of the table's ``<table>_make_partitions`` function, if it has one."""

    def column(self, name: str) -> LiveColumn:
        return next(column for column in self.columns if column.name == name)

    def of_kind(self, kind: str) -> tuple[LiveConstraint, ...]:
        return tuple(c for c in self.constraints if c.kind == kind)


@dataclass(frozen=True)
class LiveDatabase:
    """``schemas``: those read, ``public`` (or the one named) first."""

    schemas: tuple[str, ...]
    tables: tuple[LiveTable, ...]
    enums: Mapping[str, tuple[str, ...]]
    functions: tuple[str, ...]
    extensions: tuple[str, ...]
    sequences: tuple[str, ...]
    other_schemas: tuple[str, ...]
    bypass_rls_roles: frozenset[str]

    def table(self, name: str) -> LiveTable:
        return next(table for table in self.tables if table.name == name)


def read_database(conninfo: str, schemas: str | Sequence[str] = "public") -> LiveDatabase:
    """Read ``schemas`` (one or several) of the database at ``conninfo`` (a libpq URL or
    DSN); table names must be unique across them, as a spec's are."""
    names = (schemas,) if isinstance(schemas, str) else tuple(schemas)
    with psycopg.connect(conninfo) as connection, connection.transaction():
        connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        return _read(connection, names)


def _rows(connection: psycopg.Connection[Any], query: str, *params: Any) -> list[Any]:
    return connection.execute(query, params).fetchall()


def _read(connection: psycopg.Connection[Any], schemas: tuple[str, ...]) -> LiveDatabase:
    schema = list(schemas)
    grouped = {
        "columns": _group(_rows(connection, _COLUMNS, schema)),
        "constraints": _group(_rows(connection, _CONSTRAINTS, schema)),
        "indexes": _group(_rows(connection, _INDEXES, schema)),
        "policies": _group(_rows(connection, _POLICIES, schema)),
        "triggers": _group(_rows(connection, _TRIGGERS, schema)),
        "grants": _group(_rows(connection, _GRANTS, schema)),
    }
    tables = tuple(
        _table(row, grouped)
        for row in _rows(connection, _TABLES, schema)
        if row[0] not in IGNORED_TABLES
    )
    return LiveDatabase(
        schemas=schemas,
        tables=tables,
        enums={name: tuple(labels) for name, labels in _rows(connection, _ENUMS, schema)},
        functions=tuple(row[0] for row in _rows(connection, _FUNCTIONS, schema)),
        extensions=tuple(row[0] for row in _rows(connection, _EXTENSIONS)),
        sequences=tuple(row[0] for row in _rows(connection, _SEQUENCES, schema)),
        other_schemas=tuple(row[0] for row in _rows(connection, _OTHER_SCHEMAS, schema)),
        bypass_rls_roles=frozenset(row[0] for row in _rows(connection, _BYPASS_ROLES)),
    )


def _group(rows: Iterable[Any]) -> dict[str, list[Any]]:
    grouped: dict[str, list[Any]] = {}
    for row in rows:
        grouped.setdefault(row[0], []).append(row[1:])
    return grouped


def _table(row: Any, grouped: Mapping[str, Mapping[str, list[Any]]]) -> LiveTable:
    name, kind, comment, security, forced, schema, key, count, maintenance = row
    columns = tuple(_column(r) for r in grouped["columns"].get(name, []))
    return LiveTable(
        name=name,
        kind=kind,
        comment=comment,
        columns=columns,
        constraints=tuple(_constraint(r) for r in grouped["constraints"].get(name, [])),
        indexes=tuple(_index(r) for r in grouped["indexes"].get(name, [])),
        policies=tuple(
            LivePolicy(n, p == "PERMISSIVE", tuple(roles), cmd, using, check)
            for n, p, roles, cmd, using, check in grouped["policies"].get(name, [])
        ),
        triggers=tuple(LiveTrigger(*r) for r in grouped["triggers"].get(name, [])),
        grants=tuple(
            sorted((role, privilege) for role, privilege in grouped["grants"].get(name, []))
        ),
        row_security=security,
        forced_row_security=forced,
        schema=schema,
        partition_key=key,
        partitions=count if key else 0,
        maintenance=maintenance,
    )


def _column(row: Any) -> LiveColumn:
    name, display, type_name, type_kind, typmod, element, element_mod = row[:7]
    not_null, default, comment, identity, generated = row[7:]
    element_type = (
        _type(element, element, "base", element_mod) if type_kind == "array" and element else None
    )
    live_type = _type(type_name, display, type_kind, typmod)
    if element_type is not None:
        live_type = LiveType(type_name, display, "array", element=element_type)
    return LiveColumn(
        name,
        live_type,
        not not_null,
        default,
        comment,
        identity=bool(identity),
        generated=default if generated else None,
    )


def _type(name: str, display: str, kind: str, typmod: int) -> LiveType:
    """Decode the type modifier: varchar's length, numeric's precision and scale."""
    if name in ("varchar", "bpchar") and typmod >= 4:
        return LiveType(name, display, kind, length=typmod - 4)
    if name == "numeric" and typmod >= 4:
        packed = typmod - 4
        return LiveType(name, display, kind, precision=packed >> 16, scale=packed & 0xFFFF)
    return LiveType(name, display, kind)


def _constraint(row: Any) -> LiveConstraint:
    name, kind, columns, definition, referred, referred_columns, on_delete, check, valid = row
    return LiveConstraint(
        name,
        kind,
        tuple(columns),
        definition,
        referred,
        tuple(referred_columns or ()),
        on_delete,
        check,
        valid,
    )


def _index(row: Any) -> LiveIndex:
    name, elements, opclasses, unique, method, where, _, definition, constraint, include = row
    columns: list[str] = []
    hashed: list[str] = []
    expressions: list[str] = []
    columns_first = True
    for element in elements:
        column, digest = index_element(element)
        if column is None:
            expressions.append(_digested(element) if unique else element)
            continue
        columns_first = columns_first and not expressions
        columns.append(column)
        if digest:
            hashed.append(column)
    return LiveIndex(
        name,
        tuple(columns),
        tuple(opclasses),
        unique,
        method,
        where,
        bool(expressions),
        definition,
        constraint,
        tuple(hashed),
        tuple(expressions),
        columns_first,
        tuple(include or ()),
    )


def _digested(element: str) -> str:
    """The expression a unique index holds the digest of (``md5(lower(bio))``, as the
    generator keeps unbounded text unique), else the element as it is."""
    try:
        node = select_target(element)
    except (ParseError, ValueError, MissingPart):
        return element
    if (
        isinstance(node, ast.FuncCall)
        and function_name(node) == "md5"
        and len(node.args or ()) == 1
    ):
        argument = required(node.args, "FuncCall.args")[0]
        if isinstance(argument, ast.TypeCast):
            argument = required(argument.arg, "TypeCast.arg")
        return str(RawStream()(argument))
    return element


def index_element(element: str) -> tuple[str | None, bool]:
    """An index element's column and whether it is held as ``md5(column)`` (also with the
    cast to text a varchar column gets); ``(None, False)`` for any other expression."""
    try:
        node = select_target(element)
    except (ParseError, ValueError, MissingPart):
        return None, False
    digest = False
    if isinstance(node, ast.FuncCall) and function_name(node) == "md5" and node.args:
        if len(node.args) != 1:
            return None, False
        node, digest = node.args[0], True
        if isinstance(node, ast.TypeCast):
            node = required(node.arg, "TypeCast.arg")
    if isinstance(node, ast.ColumnRef) and node.fields and len(node.fields) == 1:
        return column_name(node), digest
    return None, False


_TABLES = """
SELECT c.relname, c.relkind::text, obj_description(c.oid, 'pg_class'),
       c.relrowsecurity, c.relforcerowsecurity,
       (SELECT n.nspname FROM pg_namespace n WHERE n.oid = c.relnamespace),
       pg_get_partkeydef(c.oid),
       (SELECT count(*) FROM pg_inherits i WHERE i.inhparent = c.oid)::int,
       (SELECT p.prosrc FROM pg_proc p WHERE p.pronamespace = c.relnamespace
          AND p.proname = c.relname || '_make_partitions' AND p.pronargs = 0)
FROM pg_class c
WHERE c.relnamespace IN (SELECT oid FROM pg_namespace WHERE nspname = ANY(%s))
  AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
  -- A partition is its partitioned table's: read through it.
  AND NOT c.relispartition
ORDER BY c.relname
"""

_COLUMNS = """
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), t.typname,
       CASE WHEN t.typtype = 'e' THEN 'enum' WHEN t.typcategory = 'A' THEN 'array'
            WHEN t.typtype = 'b' THEN 'base' ELSE 'other' END,
       a.atttypmod, et.typname, a.atttypmod,
       a.attnotnull, pg_get_expr(d.adbin, d.adrelid), col_description(c.oid, a.attnum),
       a.attidentity <> '', a.attgenerated <> ''
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_type et ON et.oid = t.typelem AND t.typcategory = 'A'
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE c.relnamespace IN (SELECT oid FROM pg_namespace WHERE nspname = ANY(%s))
  AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY c.relname, a.attnum
"""

_ATTRIBUTE_NAMES = """
ARRAY(SELECT a.attname FROM unnest({keys}) WITH ORDINALITY k(num, n)
      JOIN pg_attribute a ON a.attrelid = {rel} AND a.attnum = k.num ORDER BY k.n)
"""

_CONSTRAINTS = f"""
SELECT c.relname, con.conname, con.contype::text,
       {_ATTRIBUTE_NAMES.format(keys="con.conkey", rel="con.conrelid")},
       pg_get_constraintdef(con.oid), fc.relname,
       {_ATTRIBUTE_NAMES.format(keys="con.confkey", rel="con.confrelid")},
       con.confdeltype::text, pg_get_expr(con.conbin, con.conrelid), con.convalidated
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
LEFT JOIN pg_class fc ON fc.oid = con.confrelid
-- Not the copies PostgreSQL keeps of a foreign key to each partition of its table.
WHERE c.relnamespace IN (SELECT oid FROM pg_namespace WHERE nspname = ANY(%s))
  AND con.conparentid = 0
ORDER BY c.relname, con.conname
"""

_INDEXES = """
SELECT c.relname, ic.relname,
       ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true)
             FROM generate_series(1, i.indnkeyatts) k ORDER BY k),
       ARRAY(SELECT CASE WHEN opc.opcdefault THEN '' ELSE opc.opcname END
             FROM unnest(i.indclass::oid[]) WITH ORDINALITY u(oid, n)
             JOIN pg_opclass opc ON opc.oid = u.oid ORDER BY u.n),
       i.indisunique, am.amname, pg_get_expr(i.indpred, i.indrelid),
       i.indexprs IS NOT NULL, pg_get_indexdef(i.indexrelid),
       (SELECT con.conname FROM pg_constraint con WHERE con.conindid = i.indexrelid
          AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u', 'x')),
       ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true)
             FROM generate_series(i.indnkeyatts + 1, i.indnatts) k ORDER BY k)
FROM pg_index i
JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_am am ON am.oid = ic.relam
WHERE c.relnamespace IN (SELECT oid FROM pg_namespace WHERE nspname = ANY(%s))
ORDER BY c.relname, ic.relname
"""

_POLICIES = """
SELECT tablename, policyname, permissive, roles::text[], cmd, qual, with_check
FROM pg_policies WHERE schemaname = ANY(%s) ORDER BY tablename, policyname
"""

_TRIGGERS = """
SELECT c.relname, t.tgname, p.proname, pg_get_triggerdef(t.oid)
FROM pg_trigger t
JOIN pg_class c ON c.oid = t.tgrelid
JOIN pg_proc p ON p.oid = t.tgfoid
WHERE c.relnamespace IN (SELECT oid FROM pg_namespace WHERE nspname = ANY(%s))
  AND NOT t.tgisinternal
ORDER BY c.relname, t.tgname
"""

_GRANTS = """
SELECT table_name, grantee, privilege_type FROM information_schema.role_table_grants
WHERE table_schema = ANY(%s) AND grantee <> grantor AND grantee <> 'PUBLIC'
ORDER BY 1, 2, 3
"""

_ENUMS = """
SELECT t.typname, array_agg(e.enumlabel::text ORDER BY e.enumsortorder)
FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
WHERE t.typnamespace IN (SELECT oid FROM pg_namespace WHERE nspname = ANY(%s))
GROUP BY t.typname ORDER BY t.typname
"""

_FUNCTIONS = """
SELECT p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')'
FROM pg_proc p
WHERE p.pronamespace IN (SELECT oid FROM pg_namespace WHERE nspname = ANY(%s))
  AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
ORDER BY 1
"""

_EXTENSIONS = "SELECT extname FROM pg_extension WHERE extname <> 'plpgsql' ORDER BY 1"

_SEQUENCES = """
SELECT c.relname FROM pg_class c
WHERE c.relnamespace IN (SELECT oid FROM pg_namespace WHERE nspname = ANY(%s)) AND c.relkind = 'S'
  AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i'))
ORDER BY 1
"""

_OTHER_SCHEMAS = """
SELECT nspname FROM pg_namespace n
WHERE nspname <> ALL(%s) AND nspname NOT IN ('information_schema', 'public')
  AND nspname NOT LIKE 'pg\\_%%'
  AND EXISTS (SELECT FROM pg_class c WHERE c.relnamespace = n.oid)
  AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = n.oid AND d.deptype = 'e')
ORDER BY 1
"""

_BYPASS_ROLES = "SELECT rolname FROM pg_roles WHERE rolbypassrls AND NOT rolsuper"
