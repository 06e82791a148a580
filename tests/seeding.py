"""Rows for every tenant-scoped table of a catalog, written with raw SQL.

The tests that attack tenant isolation need data in every table, junction tables
included, for several tenants, whatever the spec. ``RowMaker`` derives the values of a
row from the catalog alone (every column and foreign key), and ``seed_tenants`` writes
rows for each tenant in an order that satisfies the foreign keys: required references
first (topologically), nullable ones filled in by an UPDATE once every row exists, so
cycles through nullable references are no obstacle. Each tenant's rows are written in
a transaction that sets the tenant, so an owner that row-level security applies to (a
non-superuser owner, as RLS is FORCEd) seeds as well as a superuser does.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from entityforge.catalog import Catalog, Column, ForeignKey, Table
from entityforge.catalog.sql import sql_type
from entityforge.schema import ColumnType

# A row as the tests handle it: column name → text PostgreSQL casts to the column's type
# (None for NULL).
Row = dict[str, str | None]
# The key under which ``RowMaker.ids`` keeps the rows of global tables, shared by tenants.
GLOBAL_ROWS = uuid.UUID(int=0)
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def base36(number: int) -> str:
    text = ""
    while True:
        number, digit = divmod(number, 36)
        text = _DIGITS[digit] + text
        if number == 0:
            return text


def field_value(column_type: ColumnType, serial: int) -> str:
    """A value of ``column_type`` as text, distinct for distinct ``serial`` where it can be.

    Strings are lower-case letters and digits, numbers positive: the forms simple checks
    (``slug ~ '^[a-z0-9-]+$'``, ``budget >= 0``) accept.
    """
    name = column_type.name
    token = base36(1296 + serial)
    if name == "string":
        assert column_type.max_length is not None
        return token[-column_type.max_length :]
    if name in ("smallint", "integer", "bigint"):
        return str(serial % 30000 + 1)
    if name == "decimal":
        room = (column_type.precision or 2) - (column_type.scale or 0)
        return "1" if room >= 1 else "0." + "0" * ((column_type.scale or 1) - 1) + "1"
    values = {
        "text": f"t{token}",
        "float": "1.5",
        "boolean": "true",
        "date": "2024-01-02",
        "datetime": "2024-01-02T03:04:05+00:00",
        "time": "12:34:56",
        "interval": "1 hour",
        "uuid": str(uuid.uuid4()),
        "json": f'{{"serial": {serial}}}',
        "bytes": "\\x0102",
        "array": "{}",
    }
    if name == "enum":
        return column_type.values[serial % len(column_type.values)]
    return values[name]


def tenant_tables(catalog: Catalog) -> tuple[Table, ...]:
    return tuple(table for table in catalog.tables if table.tenant_scoped)


def global_tables(catalog: Catalog) -> tuple[Table, ...]:
    """Tables of neither the tenants nor one tenant: lookups all tenants share."""
    return tuple(
        table
        for table in catalog.tables
        if not table.tenant_scoped and table.name != tenant_table(catalog).name
    )


def tenant_table(catalog: Catalog) -> Table:
    """The table of the tenant entity."""
    assert catalog.tenancy is not None
    tenant_entity = catalog.tenancy.entity
    return next(table for table in catalog.tables if table.entity == tenant_entity)


def references(table: Table, tenant_column: str) -> tuple[ForeignKey, ...]:
    """The foreign keys of ``table`` other than the one to the tenant table."""
    return tuple(fk for fk in table.foreign_keys if fk.columns != (tenant_column,))


def reference_column(fk: ForeignKey, tenant_column: str) -> str:
    """The column of a (possibly composite) foreign key that holds the target's id."""
    (column,) = [c for c in fk.columns if c != tenant_column]
    return column


def primary_key(table: Table, row: Row) -> Row:
    return {column: row[column] for column in table.primary_key}


@dataclass
class RowMaker:
    """Makes rows of a catalog's tenant-scoped tables; remembers each tenant's row ids."""

    catalog: Catalog
    ids: dict[tuple[str, uuid.UUID], list[uuid.UUID]] = field(default_factory=dict)
    serials: Iterator[int] = field(default_factory=itertools.count)

    @property
    def tenant_column(self) -> str:
        assert self.catalog.tenancy is not None
        return self.catalog.tenancy.column

    def target_id(self, table: str, tenant: uuid.UUID, index: int) -> str:
        """The id of a row of ``table`` for ``tenant`` (or shared by all, if global)."""
        ids = self.ids.get((table, tenant)) or self.ids[(table, GLOBAL_ROWS)]
        return str(ids[index % len(ids)])

    def row(
        self,
        table: Table,
        tenant: uuid.UUID,
        index: int = 0,
        *,
        with_nullable_references: bool = True,
    ) -> Row:
        """A new row of ``table`` for ``tenant``; references point at its ``index``-th rows.

        Nullable fields stay NULL and columns with server defaults are left out, so
        checks on them hold; required fields get ``field_value``.
        """
        row: Row = {}
        for column in table.columns:
            value = self._column_value(table, column, tenant, index, with_nullable_references)
            if value is not _SKIP:
                row[column.name] = value  # type: ignore[assignment]
        return row

    def _column_value(
        self,
        table: Table,
        column: Column,
        tenant: uuid.UUID,
        index: int,
        with_nullable_references: bool,
    ) -> object:
        if column.role == "id":
            return str(uuid.uuid4())
        if column.role == "tenant":
            return str(tenant)
        if column.role == "reference":
            if column.nullable and not with_nullable_references:
                return None
            fks = references(table, self.tenant_column)
            fk = next(fk for fk in fks if column.name in fk.columns)
            return self.target_id(fk.referred_table, tenant, index)
        if column.role != "field" or column.nullable:
            return _SKIP
        if column.default is not None or column.default_sql is not None:
            return _SKIP
        return field_value(column.type, next(self.serials))


_SKIP = object()


def insert_statement(table: Table, row: Row) -> tuple[sql.Composed, list[str | None]]:
    """``INSERT INTO table (...) VALUES (%s::type, ...)`` for ``row``."""
    names = list(row)
    values = sql.SQL(", ").join(
        sql.SQL("%s::") + sql.SQL(sql_type(table.column(name).type)) for name in names
    )
    statement = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
        sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, names)), values
    )
    return statement, [row[name] for name in names]


def where_equal(table: Table, row: Row) -> tuple[sql.Composed, list[str | None]]:
    """``col = %s::type AND ...`` over the columns of ``row``."""
    condition = sql.SQL(" AND ").join(
        sql.SQL("{} = %s::").format(sql.Identifier(name))
        + sql.SQL(sql_type(table.column(name).type))
        for name in row
    )
    return condition, list(row.values())


def set_tenant(connection: psycopg.Connection, setting: str, tenant: uuid.UUID | str) -> None:
    """Set the tenant for the current transaction only, as the generated runtime does."""
    connection.execute("SELECT set_config(%s, %s, true)", (setting, str(tenant)))


@dataclass(frozen=True)
class Seeded:
    """The rows ``seed_tenants`` wrote: per ``(table, tenant)`` every row's values."""

    tenants: tuple[uuid.UUID, ...]
    rows: Mapping[tuple[str, uuid.UUID], tuple[Row, ...]]
    maker: RowMaker

    def first(self, table: str, tenant: uuid.UUID) -> Row:
        return self.rows[(table, tenant)][0]


def seed_tenants(
    connection: psycopg.Connection,
    catalog: Catalog,
    tenants: Sequence[uuid.UUID],
    rows_per_tenant: int = 1,
) -> Seeded:
    """Write ``rows_per_tenant`` rows in every global table, the tenant rows, then
    ``rows_per_tenant`` rows per tenant in every tenant table.

    Each tenant row is written acting for that tenant, as the tenant table's row-level
    security asks of an owner it binds."""
    assert catalog.tenancy is not None
    maker = RowMaker(catalog)
    owner_table = tenant_table(catalog)
    written: dict[tuple[str, uuid.UUID], tuple[Row, ...]] = {}
    with connection.transaction():
        for table in insertion_order(catalog, global_tables(catalog)):
            maker.ids[(table.name, GLOBAL_ROWS)] = [uuid.uuid4() for _ in range(rows_per_tenant)]
            written[(table.name, GLOBAL_ROWS)] = _write_rows(
                connection, maker, table, GLOBAL_ROWS, rows_per_tenant
            )
        for tenant in tenants:
            set_tenant(connection, catalog.tenancy.setting, tenant)
            row = maker.row(owner_table, tenant, with_nullable_references=False)
            row["id"] = str(tenant)
            connection.execute(*insert_statement(owner_table, row))
    order = insertion_order(catalog)
    for table in order:
        for tenant in tenants:
            maker.ids[(table.name, tenant)] = [uuid.uuid4() for _ in range(rows_per_tenant)]
    for tenant in tenants:
        with connection.transaction():
            set_tenant(connection, catalog.tenancy.setting, tenant)
            for table in order:
                written[(table.name, tenant)] = _write_rows(
                    connection, maker, table, tenant, rows_per_tenant
                )
            for table in order:
                _fill_nullable_references(connection, maker, table, written[(table.name, tenant)])
    return Seeded(tuple(tenants), written, maker)


def _write_rows(
    connection: psycopg.Connection, maker: RowMaker, table: Table, tenant: uuid.UUID, count: int
) -> tuple[Row, ...]:
    rows = []
    for index in range(count):
        row = maker.row(table, tenant, index, with_nullable_references=False)
        if "id" in row:
            row["id"] = str(maker.ids[(table.name, tenant)][index])
        connection.execute(*insert_statement(table, row))
        rows.append(row)
    return tuple(rows)


def _fill_nullable_references(
    connection: psycopg.Connection, maker: RowMaker, table: Table, rows: tuple[Row, ...]
) -> None:
    nullable = [c for c in table.columns if c.role == "reference" and c.nullable]
    if not nullable:
        return
    tenant_column = maker.tenant_column
    for index, row in enumerate(rows):
        tenant = uuid.UUID(str(row[tenant_column]))
        for column in nullable:
            fk = next(fk for fk in table.foreign_keys if column.name in fk.columns)
            row[column.name] = maker.target_id(fk.referred_table, tenant, index)
        assignments = sql.SQL(", ").join(
            sql.SQL("{} = %s::uuid").format(sql.Identifier(c.name)) for c in nullable
        )
        condition, key = where_equal(table, primary_key(table, row))
        connection.execute(
            sql.SQL("UPDATE {} SET {} WHERE {}").format(
                sql.Identifier(table.name), assignments, condition
            ),
            [row[c.name] for c in nullable] + key,
        )


def insertion_order(catalog: Catalog, tables: Sequence[Table] | None = None) -> tuple[Table, ...]:
    """The tenant tables (or ``tables``) ordered so every required reference points at
    an earlier table; global tables come before them all."""
    assert catalog.tenancy is not None
    tenant_column = catalog.tenancy.column
    pending = list(tenant_tables(catalog) if tables is None else tables)
    ahead = {table.name for table in global_tables(catalog)} if tables is None else set()
    done: list[Table] = []
    while pending:
        available = {table.name for table in done} | ahead
        ready = [
            table
            for table in pending
            if _requirements(table, tenant_column) <= available | {table.name}
        ]
        if not ready:
            names = ", ".join(table.name for table in pending)
            raise AssertionError(f"required references form a cycle among: {names}")
        done += ready
        pending = [table for table in pending if table not in ready]
    return tuple(done)


def _requirements(table: Table, tenant_column: str) -> set[str]:
    required = set()
    for fk in references(table, tenant_column):
        column = table.column(reference_column(fk, tenant_column))
        if not column.nullable:
            required.add(fk.referred_table)
    return required
