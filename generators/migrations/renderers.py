"""One registered renderer per operation: the Python statements of a revision's body.

``render_operation`` dispatches on the operation's type (``functools.singledispatch``);
an operation without a renderer raises ``TypeError``. Upgrade and downgrade go through
the same renderers: a downgrade is the rendering of the inverted operations. The
renderers of renames and fills live in ``migrations.rename_renderers`` and are registered
here.

``render_validation`` gives the statement that validates a constraint added
``NOT VALID`` (``validate_later``), which the revision runs after its transaction.
"""

from __future__ import annotations

from functools import singledispatch

from entityforge import naming
from entityforge.catalog import sql as catalog_sql
from entityforge.generators import sql
from entityforge.generators.migrations import (
    audit_renderers,
    exclusion_renderers,
    expand_renderers,
    generated_renderers,
    key_renderers,
    partition_renderers,
    policy_renderers,
    rename_renderers,
    search_renderers,
    view_renderers,
)
from entityforge.generators.migrations import sql_citus as citus_sql
from entityforge.generators.migrations.code import (
    OP,
    SA,
    STEPS,
    STEPS_IMPORT,
    column,
    column_type,
    execute,
    final_name,
    index_arguments,
    join,
    names,
    on_delete,
    op,
    python_string,
    server_default,
    table_constraints,
)
from entityforge.generators.python_source import Code, call, string_literal
from entityforge.generators.sql import escape_text
from entityforge.generators.table_schemas import quote_table, schema_keyword, table_schema
from entityforge.migrate import operations as ops
from entityforge.migrate.diff.citus import DistributeTable, UndistributeTable
from entityforge.migrate.operations.enums import ChangeEnumStorage
from entityforge.migrate.operations.exclusions import AddExclusionConstraint
from entityforge.migrate.operations.generated import AlterGeneration
from entityforge.migrate.operations.ids import CreateUuidv7Function, DropUuidv7Function
from entityforge.migrate.operations.partitions import CreatePartitions, RebuildTable
from entityforge.migrate.operations.schemas import (
    CreateSchema,
    DropSchema,
    GrantSchemaUsage,
    MoveEnum,
    MoveTable,
    RevokeSchemaUsage,
)
from entityforge.migrate.operations.tenancy import MovePrimaryKey
from entityforge.naming import quote_identifier
from entityforge.schema import ColumnType


def drop_invalid_index(name: str, table: str) -> Code:
    """Drop what an interrupted concurrent build of the index of ``table`` left, if it
    is invalid."""
    arguments = ", ".join([repr(name), *map(repr, filter(None, [table_schema(table)]))])
    return Code(f"migration_steps.drop_invalid_index({arguments})", frozenset({STEPS_IMPORT}))


@singledispatch
def render_operation(operation: ops.Operation) -> Code:
    raise TypeError(f"no renderer registered for {type(operation).__name__}")


def _op_call(function: str, *arguments: str, exploded: bool = False) -> Code:
    return call(op(function), *arguments, exploded=exploded)


def _optional_string(text: str | None) -> str:
    return "None" if text is None else python_string(text)


@render_operation.register
def render_alter_generation(operation: AlterGeneration) -> Code:
    return generated_renderers.render_alter_generation(operation, render_operation)


@render_operation.register
def render_create_extension(operation: ops.CreateExtension) -> Code:
    return execute(sql.create_extension(operation.name))


@render_operation.register
def render_drop_extension(operation: ops.DropExtension) -> Code:
    return execute(sql.drop_extension(operation.name))


@render_operation.register
def render_create_role(operation: ops.CreateRole) -> Code:
    return execute(
        sql.create_role(operation.name, operation.bypass_rls),
        sql.grant_schema_usage(operation.name),
    )


@render_operation.register
def render_drop_role(operation: ops.DropRole) -> Code:
    return execute(sql.drop_role(operation.name))


@render_operation.register
def render_create_schema(operation: CreateSchema) -> Code:
    return execute(sql.create_schema(operation.name))


@render_operation.register
def render_drop_schema(operation: DropSchema) -> Code:
    return execute(sql.drop_schema(operation.name))


@render_operation.register
def render_grant_schema_usage(operation: GrantSchemaUsage) -> Code:
    return execute(sql.grant_usage_on_schema(operation.schema, operation.roles))


@render_operation.register
def render_revoke_schema_usage(operation: RevokeSchemaUsage) -> Code:
    return execute(sql.revoke_usage_on_schema(operation.schema, operation.roles))


@render_operation.register
def render_move_enum(operation: MoveEnum) -> Code:
    return execute(sql.move_enum(operation.name, operation.old, operation.new))


@render_operation.register
def render_move_table(operation: MoveTable) -> Code:
    dropped = [search_renderers.drop_search_function(f) for f in operation.searches]
    created = [
        statement
        for function in operation.moved_searches
        for statement in search_renderers.create_search_function(function)
    ]
    return execute(
        *dropped, sql.move_table(operation.table, operation.old, operation.new), *created
    )


@render_operation.register
def render_create_enum(operation: ops.CreateEnum) -> Code:
    return execute(sql.create_enum(operation.enum))


@render_operation.register
def render_drop_enum(operation: ops.DropEnum) -> Code:
    return execute(sql.drop_enum(operation.enum.qualified_name))


@render_operation.register
def render_alter_enum(operation: ops.AlterEnum) -> Code:
    """Drop what holds constants of the type, swap the type, create them again."""
    dropped = [render_operation(dependent) for dependent in ops.invert(operation.dependents)]
    created = [render_operation(dependent) for dependent in operation.dependents]
    return join([*dropped, execute(*sql.alter_enum(operation)), *created])


@render_operation.register
def render_change_enum_storage(operation: ChangeEnumStorage) -> Code:
    """Drop what holds constants of the old type, convert, create them again."""
    dropped = [render_operation(dependent) for dependent in ops.invert(operation.dependents)]
    created = [render_operation(dependent) for dependent in operation.dependents]
    return join([*dropped, execute(*sql.change_enum_storage(operation)), *created])


@render_operation.register
def render_add_enum_values(operation: ops.AddEnumValues) -> Code:
    return execute(
        *sql.add_enum_values(operation.name, operation.old_values, operation.new_values)
    )


@render_operation.register
def render_create_function(operation: ops.CreateUpdatedAtFunction) -> Code:
    return execute(sql.create_updated_at_function())


@render_operation.register
def render_drop_function(operation: ops.DropUpdatedAtFunction) -> Code:
    return execute(sql.drop_updated_at_function())


@render_operation.register
def render_create_uuidv7_function(operation: CreateUuidv7Function) -> Code:
    return execute(sql.create_uuidv7_function())


@render_operation.register
def render_drop_uuidv7_function(operation: DropUuidv7Function) -> Code:
    return execute(sql.drop_uuidv7_function())


@render_operation.register
def render_create_table(operation: ops.CreateTable) -> Code:
    table = operation.table
    snippets = [column(c) for c in table.columns]
    columns = join(snippets)
    # One argument per column: a column's text may span lines (a long server default).
    arguments = [repr(table.name), *(s.text for s in snippets), *table_constraints(table)]
    if table.comment is not None:
        arguments.append(f"comment={string_literal(table.comment, 8, 'comment=', ',')}")
    if table.schema:
        arguments.append(f"schema={table.schema!r}")
    if table.partition_by is not None:
        arguments.append(f"postgresql_partition_by={table.partition_by!r}")
    created = call(op("create_table"), *arguments, exploded=True)
    return created.with_imports(columns.imports, {SA})


@render_operation.register
def render_drop_table(operation: ops.DropTable) -> Code:
    table = operation.table
    return _op_call("drop_table", repr(table.name), *schema_keyword(table.name))


@render_operation.register
def render_alter_table_comment(operation: ops.AlterTableComment) -> Code:
    existing = f"existing_comment={_optional_string(operation.old_comment)}"
    if operation.new_comment is None:
        return _op_call(
            "drop_table_comment", repr(operation.table), existing, *schema_keyword(operation.table)
        )
    comment = python_string(operation.new_comment)
    return _op_call(
        "create_table_comment",
        repr(operation.table),
        comment,
        existing,
        *schema_keyword(operation.table),
    )


@render_operation.register
def render_add_column(operation: ops.AddColumn) -> Code:
    added = column(operation.column)
    snippet = _op_call(
        "add_column", repr(operation.table), added.text, *schema_keyword(operation.table)
    )
    return Code(snippet.text, snippet.imports | added.imports)


@render_operation.register
def render_drop_column(operation: ops.DropColumn) -> Code:
    return _op_call(
        "drop_column",
        repr(operation.table),
        repr(operation.column.name),
        *schema_keyword(operation.table),
    )


@render_operation.register
def render_alter_column(operation: ops.AlterColumn) -> Code:
    old, new = operation.old, operation.new
    existing_type = column_type(old.type)
    imports = existing_type.imports | {OP, SA}
    arguments = [repr(operation.table), repr(new.name), f"existing_type={existing_type.text}"]
    if old.type != new.type:
        new_type = column_type(new.type)
        imports |= new_type.imports
        arguments.append(f"type_={new_type.text}")
        using = _conversion(quote_identifier(new.name), old.type, new.type)
        if using is not None:
            arguments.append(f"postgresql_using={python_string(using)}")
    if old.nullable != new.nullable:
        arguments.append(f"nullable={new.nullable}")
    else:
        arguments.append(f"existing_nullable={old.nullable}")
    old_default, new_default = catalog_sql.default_expression(old), catalog_sql.default_expression(
        new
    )
    if old_default != new_default:
        arguments.append(f"server_default={server_default(new_default)}")
        arguments.append(f"existing_server_default={server_default(old_default)}")
    if old.comment != new.comment:
        arguments.append(f"comment={_optional_string(new.comment)}")
        arguments.append(f"existing_comment={_optional_string(old.comment)}")
    arguments += schema_keyword(operation.table)
    return call(op("alter_column"), *arguments, exploded=True).with_imports(imports)


def _conversion(column: str, old: ColumnType, new: ColumnType) -> str | None:
    """The ``USING`` expression of a type change, ``None`` for PostgreSQL's own.

    A string target gets the value as text and PostgreSQL's assignment cast, which fails
    on a value too long for it where an explicit cast would cut it short; from one string
    type to another, no expression at all, so that a widening stays a catalog change.
    """
    strings = ("string", "text")
    if new.name in strings:
        return None if old.name in strings else f"{column}::text"
    cast = "::text::" if new.name == "enum" else "::"
    return f"{column}{cast}{catalog_sql.sql_type(new)}"


@render_operation.register
def render_add_unique(operation: ops.AddUniqueConstraint) -> Code:
    unique = operation.constraint
    if operation.concurrently:
        index = _op_call(
            "create_index",
            final_name(unique.name),
            repr(operation.table),
            names(unique.columns),
            "unique=True",
            "postgresql_concurrently=True",
            "if_not_exists=True",
            *schema_keyword(operation.table),
            exploded=True,
        )
        return join(
            [
                drop_invalid_index(unique.name, operation.table),
                index,
                execute(sql.unique_using_index(operation.table, unique.name)),
            ]
        )
    return _op_call(
        "create_unique_constraint",
        final_name(unique.name),
        repr(operation.table),
        names(unique.columns),
        *schema_keyword(operation.table),
    )


@render_operation.register
def render_drop_unique(operation: ops.DropUniqueConstraint) -> Code:
    if operation.concurrently:
        # In an autocommit block, where a rerun may find it gone already.
        return execute(sql.drop_constraint_if_exists(operation.table, operation.constraint.name))
    return _drop_constraint(operation.table, operation.constraint.name, "unique")


@render_operation.register
def render_add_check(operation: ops.AddCheckConstraint) -> Code:
    check = operation.constraint
    return _op_call(
        "create_check_constraint",
        final_name(check.name),
        repr(operation.table),
        python_string(escape_text(check.expression)),
        *(["postgresql_not_valid=True"] if operation.validate_later else []),
        *schema_keyword(operation.table),
    )


@render_operation.register
def render_drop_check(operation: ops.DropCheckConstraint) -> Code:
    return _drop_constraint(operation.table, operation.constraint.name, "check")


@render_operation.register
def render_add_foreign_key(operation: ops.AddForeignKey) -> Code:
    fk = operation.foreign_key
    return _op_call(
        "create_foreign_key",
        final_name(fk.name),
        repr(operation.table),
        repr(fk.referred_table),
        names(fk.columns),
        names(fk.referred_columns),
        *on_delete(fk),
        *(["postgresql_not_valid=True"] if operation.validate_later else []),
        *schema_keyword(operation.table, "source_schema"),
        *([f"referent_schema={fk.referred_schema!r}"] if fk.referred_schema else []),
        exploded=True,
    )


@render_operation.register
def render_drop_foreign_key(operation: ops.DropForeignKey) -> Code:
    return _drop_constraint(operation.table, operation.foreign_key.name, "foreignkey")


def _drop_constraint(table: str, name: str, kind: str) -> Code:
    return _op_call(
        "drop_constraint", final_name(name), repr(table), f'type_="{kind}"', *schema_keyword(table)
    )


@render_operation.register
def render_create_index(operation: ops.CreateIndex) -> Code:
    if operation.concurrently and operation.partitioned:
        return _partitioned_index(operation)
    arguments = index_arguments(operation.table, operation.index)
    if operation.concurrently:
        arguments += ["postgresql_concurrently=True", "if_not_exists=True"]
    snippet = _op_call("create_index", *arguments, exploded=True)
    if operation.concurrently:
        snippet = join([drop_invalid_index(operation.index.name, operation.table), snippet])
    elements = operation.index.columns
    if operation.index.where is None and not any(c.hashed or c.expression for c in elements):
        return snippet
    return Code(snippet.text, snippet.imports | {SA})


def _partitioned_index(operation: ops.CreateIndex) -> Code:
    """``migration_steps.build_partitioned_index``: the index of the table alone, then
    each partition's built concurrently and attached."""
    index = operation.index
    elements = ", ".join(
        (c.sql if c.hashed or c.expression else quote_identifier(c.name))
        + (f" {c.opclass}" if c.opclass else "")
        for c in index.columns
    )
    definition = f"USING {index.method} ({elements})"
    if index.include:
        definition += f" INCLUDE ({', '.join(map(quote_identifier, index.include))})"
    if index.where is not None:
        definition += f" WHERE {index.where}"
    steps = Code(f"{STEPS}.build_partitioned_index", frozenset({STEPS_IMPORT}))
    arguments = [python_string(text) for text in (quote_table(operation.table), index.name)]
    arguments.append(python_string(definition))
    return call(steps, *arguments, *(["unique=True"] if index.unique else []))


@render_operation.register
def render_drop_index(operation: ops.DropIndex) -> Code:
    arguments = [final_name(operation.index.name), f"table_name={operation.table!r}"]
    if operation.concurrently and not operation.partitioned:
        arguments += ["postgresql_concurrently=True", "if_exists=True"]
    return _op_call("drop_index", *arguments, *schema_keyword(operation.table))


@render_operation.register
def render_create_trigger(operation: ops.CreateUpdatedAtTrigger) -> Code:
    return execute(sql.create_updated_at_trigger(operation.table))


@render_operation.register
def render_drop_trigger(operation: ops.DropUpdatedAtTrigger) -> Code:
    return execute(sql.drop_updated_at_trigger(operation.table))


@render_operation.register
def render_enable_rls(operation: ops.EnableRowLevelSecurity) -> Code:
    return execute(*sql.enable_row_level_security(operation.table))


@render_operation.register
def render_disable_rls(operation: ops.DisableRowLevelSecurity) -> Code:
    return execute(*sql.disable_row_level_security(operation.table))


@render_operation.register
def render_create_policy(operation: ops.CreateTenantPolicy) -> Code:
    return execute(sql.create_tenant_policy(operation.table, operation.column, operation.setting))


@render_operation.register
def render_drop_policy(operation: ops.DropTenantPolicy) -> Code:
    return execute(sql.drop_tenant_policy(operation.table))


@render_operation.register
def render_grant(operation: ops.GrantPrivileges) -> Code:
    return execute(sql.grant_privileges(operation.table, operation.role, operation.privileges))


@render_operation.register
def render_revoke(operation: ops.RevokePrivileges) -> Code:
    return execute(sql.revoke_privileges(operation.table, operation.role, operation.privileges))


@render_operation.register
def render_distribute(operation: DistributeTable) -> Code:
    return execute(
        citus_sql.distribute_table(operation.table, operation.column, operation.colocate_with)
    )


@render_operation.register
def render_undistribute(operation: UndistributeTable) -> Code:
    return execute(citus_sql.undistribute_table(operation.table))


@render_operation.register
def render_rebuild_table(operation: RebuildTable) -> Code:
    """``RebuildTable``: the old table's extras go, it steps aside under another name
    with its keys and indexes dropped, the new one is made and partitioned, the rows
    move, the rest of the new table follows, and the old one goes."""
    before = operation.before
    old = next(op for op in operation.built_before if isinstance(op, ops.CreateTable))
    table, aside = quote_table(operation.table), _beside_table(operation.table, operation.aside)
    beside = [op for op in operation.built_before[1:] if not _dropped_with_table(op)]
    teardown = [render_operation(op) for op in ops.invert(beside)]
    freed = [
        f"ALTER TABLE {aside} DROP CONSTRAINT IF EXISTS {quote_identifier(name)}"
        for name in (
            *(fk.name for fk in old.table.foreign_keys),
            *(exclusion.name for exclusion in before.exclusions),
            *(unique.name for unique in before.uniques),
            before.primary_key_name,
        )
    ]
    freed += [
        f"DROP INDEX IF EXISTS {_beside_table(operation.table, index.name)}"
        for index in before.indexes
    ]
    made = operation.built_after
    partitions = [op for op in made if isinstance(op, CreatePartitions)]
    spanned = [
        partition_renderers.spanned_partitions_sql(
            op.table, operation.aside, op.partition, op.bound, op.tenancy
        )
        for op in partitions
        if op.partition.by == "range"
    ]
    columns = ", ".join(quote_identifier(name) for name in operation.copied)
    rest = [op for op in made[1:] if not isinstance(op, CreatePartitions)]
    return join(
        [
            *teardown,
            execute(
                f"ALTER TABLE {table} RENAME TO {quote_identifier(operation.aside)}",
                f"ALTER TABLE {aside} NO FORCE ROW LEVEL SECURITY",
                *freed,
            ),
            render_operation(operation.created),
            *(render_operation(op) for op in partitions),
            execute(
                *spanned,
                f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {aside}",
            ),
            *(render_operation(op) for op in rest),
            execute(f"DROP TABLE {aside}"),
        ]
    )


def _beside_table(table: str, name: str) -> str:
    """``name`` in the schema of ``table``, quoted for raw SQL."""
    return naming.quote_qualified(naming.qualified_name(table_schema(table), name))


def _dropped_with_table(operation: ops.Operation) -> bool:
    """What the old table's rename and drop take care of: its indexes and constraints
    (dropped by name), and its hash partitions, which hold its rows until it goes."""
    if isinstance(operation, CreatePartitions):
        return operation.partition.by == "hash"
    return isinstance(operation, (ops.CreateIndex, AddExclusionConstraint))


for _renderer in (
    *rename_renderers.RENDERERS,
    *key_renderers.RENDERERS,
    *search_renderers.RENDERERS,
    *policy_renderers.RENDERERS,
    *expand_renderers.RENDERERS,
    *exclusion_renderers.RENDERERS,
    *audit_renderers.RENDERERS,
    *view_renderers.RENDERERS,
    *partition_renderers.RENDERERS,
):
    render_operation.register(_renderer)


@singledispatch
def render_validation(operation: ops.Operation) -> Code | None:
    """The statement validating what ``operation`` added ``NOT VALID``, if anything."""
    return None


@render_validation.register
def render_foreign_key_validation(operation: ops.AddForeignKey) -> Code | None:
    if not operation.validate_later:
        return None
    return execute(sql.validate_constraint(operation.table, operation.foreign_key.name))


@render_validation.register
def render_check_validation(operation: ops.AddCheckConstraint) -> Code | None:
    if not operation.validate_later:
        return None
    return execute(sql.validate_constraint(operation.table, operation.constraint.name))


@render_validation.register
def render_moved_key_validation(operation: MovePrimaryKey) -> Code | None:
    """The foreign keys a moved primary key took over, added back ``NOT VALID``."""
    if not operation.referencing:
        return None
    return join(
        execute(sql.validate_constraint(child, fk.name)) for child, fk in operation.referencing
    )
