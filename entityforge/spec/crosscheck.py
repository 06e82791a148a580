"""Checks across entities: the far side of relations, table names, the catalog's names."""

from __future__ import annotations

from collections.abc import Sequence

from entityforge import naming
from entityforge.catalog import Catalog, Table
from entityforge.schema import Entity, Relation, Schema, Tenancy
from entityforge.spec.document import DocPath
from entityforge.spec.entities import generated_columns
from entityforge.spec.issues import Issues


def check_relations_across(
    issues: Issues, entities: Sequence[Entity], tenancy: Tenancy | None
) -> None:
    """``back_populates`` must be free on the target; many-to-many keeps tenants apart."""
    by_name = {entity.name: entity for entity in entities}
    claimed: dict[tuple[str, str], str] = {}
    for entity in entities:
        for relation in entity.relations:
            path: DocPath = ("entities", entity.name, "relations", relation.name)
            target = by_name[relation.target]
            if (
                relation.kind == "many_to_many"
                and not entity.tenant_scoped
                and target.tenant_scoped
            ):
                issues.at_value(
                    path + ("target",),
                    f"a many_to_many from '{entity.name}', which is not tenant-scoped, to the "
                    f"tenant-scoped '{target.name}' cannot keep tenants apart",
                    hint=f"declare the relation on '{target.name}' instead, targeting "
                    f"'{entity.name}'",
                )
            if tenancy is not None and entity.tenant_scoped and not target.tenant_scoped:
                _reference_out_of_tenancy(issues, path, entity, target, tenancy)
            elif tenancy is not None and entity.name == tenancy.entity and target.writable:
                _reference_to_writable(issues, path, relation, entity, target)
            elif tenancy is not None and relation.kind != "many_to_many":
                _reference_into_tenancy(issues, path, entity, target, tenancy)
            if tenancy is not None and entity.writable and target.name == tenancy.entity:
                _writable_links_tenants(issues, path, relation, entity, target)
            name = relation.back_populates
            if name is None:
                continue
            owner = f"relation '{relation.name}' of entity '{entity.name}'"
            taken = _attributes(target, tenancy)
            if name in taken:
                issues.at_value(
                    path + ("back_populates",),
                    f"back_populates '{name}' collides with {taken[name]} of entity "
                    f"'{target.name}'",
                    hint="choose another name (declare a relation on one side only)",
                )
            elif (target.name, name) in claimed:
                issues.at_value(
                    path + ("back_populates",),
                    f"back_populates '{name}' on entity '{target.name}' is already used by "
                    f"{claimed[(target.name, name)]}",
                    hint="choose another name",
                )
            claimed[(target.name, name)] = owner


def _reference_out_of_tenancy(
    issues: Issues, path: DocPath, entity: Entity, target: Entity, tenancy: Tenancy
) -> None:
    """A tenant-scoped table may reference a global lookup, never the tenant table.

    The reference is a plain foreign key with an index of its own (guarantee 11). A row
    of a global table the writer may delete must not take other tenants' rows with it:
    referential actions run past row-level security.
    """
    if target.name == tenancy.entity:
        issues.at_value(
            path + ("target",),
            f"'{entity.name}' is tenant-scoped: its '{tenancy.column}' column already "
            f"references the tenant entity '{target.name}'",
            hint="remove this relation; use the tenant column (a reference to another "
            "tenant's row would cross tenants)",
        )
        return
    relation = next(r for r in entity.relations if r.name == path[-1])
    if target.writable:
        _reference_to_writable(issues, path, relation, entity, target)


def _reference_to_writable(
    issues: Issues, path: DocPath, relation: Relation, entity: Entity, target: Entity
) -> None:
    """A row of a global table the writer may delete must not take rows of the tenant
    table or of tenant-scoped ones with it: referential actions run past row-level
    security, so one tenant would change every tenant's rows."""
    if relation.kind == "many_to_many":
        issues.at_value(
            path + ("kind",),
            f"'{target.name}' is writable: deleting one of its rows would unlink it from "
            f"the '{entity.name}' rows of every tenant",
            hint=f"make '{target.name}' read-only (remove 'writable'), or reference it with a "
            "many_to_one relation on a tenant-scoped link entity",
        )
    elif relation.on_delete in ("cascade", "set_null"):
        issues.at_value(
            path + ("on_delete",),
            f"'{target.name}' is writable: deleting one of its rows would "
            f"{_ACTIONS[relation.on_delete]} the '{entity.name}' rows of every tenant "
            "that reference it",
            hint="use 'on_delete: restrict' (the default), or make the target read-only",
        )


def _reference_into_tenancy(
    issues: Issues, path: DocPath, entity: Entity, target: Entity, tenancy: Tenancy
) -> None:
    """A table without the tenant column (a global table, or the tenant table) never
    references a tenant-scoped one: its rows would point into one tenant's rows, and the
    referred table would need a key on ``id`` alone (guarantee 13)."""
    if entity.tenant_scoped or not target.tenant_scoped:
        return
    issues.at_value(
        path + ("target",),
        f"'{entity.name}' is not tenant-scoped, so it cannot reference the "
        f"tenant-scoped '{target.name}', whose rows each belong to one tenant",
        hint=(
            f"model it on '{target.name}' (for example a boolean field with a "
            "unique index where it is true): its tenant column already refers "
            f"to '{entity.name}'"
            if entity.name == tenancy.entity
            else f"declare the relation on '{target.name}' instead, targeting " f"'{entity.name}'"
        ),
    )


def _writable_links_tenants(
    issues: Issues, path: DocPath, relation: Relation, entity: Entity, target: Entity
) -> None:
    """A many-to-many from a writable global entity to the tenant entity: deleting one
    of its rows deletes every tenant's links to it, past row-level security."""
    if relation.kind != "many_to_many":
        return
    issues.at_value(
        path + ("kind",),
        f"'{entity.name}' is writable: deleting one of its rows would unlink it from "
        f"every tenant's '{target.name}' row",
        hint=f"make '{entity.name}' read-only (remove 'writable'), or link them with a "
        f"many_to_one relation to '{entity.name}' on a tenant-scoped link entity",
    )


_ACTIONS = {"cascade": "delete", "set_null": "change"}


def check_required_cycles(issues: Issues, entities: Sequence[Entity]) -> None:
    """Required references that lead back to where they start leave no first row: the
    first ``Task`` whose ``parent`` must be a ``Task`` has none to refer to. Each such
    cycle is named once, at its first relation in the file."""
    required = {
        entity.name: [
            relation
            for relation in entity.relations
            if relation.kind in ("many_to_one", "one_to_one") and not relation.nullable
        ]
        for entity in entities
    }
    named: set[frozenset[str]] = set()
    for entity in entities:
        for relation in required[entity.name]:
            cycle = _path_back(required, relation.target, entity.name)
            if cycle is None:
                continue
            ring = [entity.name, *cycle]
            if frozenset(ring) in named:
                continue
            named.add(frozenset(ring))
            path = ("entities", entity.name, "relations", relation.name, "target")
            if not cycle:
                issues.at_value(
                    path,
                    f"the required reference '{relation.name}' of '{entity.name}' to itself "
                    "leaves no first row: each row needs another to exist before it",
                    hint="make it nullable (nullable: true): a root row refers to nothing",
                )
                continue
            shown = " → ".join([*ring, entity.name])
            issues.at_value(
                path,
                f"required references go round ({shown}): no row can be the first, as "
                "each needs another to exist before it",
                hint=f"make one of them nullable (nullable: true on '{relation.name}', say)",
            )


def _path_back(required: dict[str, list[Relation]], start: str, goal: str) -> list[str] | None:
    """The entities from ``start`` to ``goal`` along required references (``goal`` left
    out; empty when ``start`` is ``goal``), or None when none leads there."""
    seen = {start}
    paths: list[list[str]] = [[start]]
    while paths:
        path = paths.pop(0)
        if path[-1] == goal:
            return path[:-1]
        for relation in required[path[-1]]:
            if relation.target not in seen:
                seen.add(relation.target)
                paths.append([*path, relation.target])
            elif relation.target == goal:
                return path
    return None


def check_citus_tenant_keys(issues: Issues, schema: Schema) -> None:
    """Under ``distribution: citus`` the tenant table is distributed by ``id``, which
    every unique key of a distributed table must hold: the tenant entity has none."""
    tenant = schema.tenant_entity
    if schema.tenancy is None or schema.tenancy.distribution != "citus" or tenant is None:
        return
    base: DocPath = ("entities", tenant.name)
    places: list[DocPath] = [
        base + ("fields", field.name, "unique") for field in tenant.fields if field.unique
    ]
    places += [
        base + ("relations", relation.name, "kind")
        for relation in tenant.relations
        if relation.kind == "one_to_one"
    ]
    places += [base + ("unique", position) for position in range(len(tenant.unique))]
    places += [
        base + ("indexes", position, "unique")
        for position, index in enumerate(tenant.indexes)
        if index.unique and index.columns not in [(f.name,) for f in tenant.fields if f.unique]
    ]
    for path in places:
        issues.at_value(
            path,
            f"under 'distribution: citus' the tenant table is distributed by its id, and "
            f"Citus refuses a unique key of '{tenant.name}' that leaves the id out",
            hint="keep such values unique in a global entity, or leave out 'distribution'",
        )


def _attributes(entity: Entity, tenancy: Tenancy | None) -> dict[str, str]:
    taken = {name: f"the column '{name}'" for name in generated_columns(entity, tenancy)}
    for field in entity.fields:
        taken[field.name] = f"field '{field.name}'"
    for relation in entity.relations:
        taken[relation.name] = f"relation '{relation.name}'"
        if relation.column:
            taken[relation.column] = f"the column '{relation.column}'"
    return taken


def check_class_names(issues: Issues, entities: Sequence[Entity]) -> None:
    """No entity may take the name of a class generated for another: its factory, its
    repository or one of its enum classes."""
    generated: dict[str, str] = {}
    for entity in entities:
        generated[f"{entity.name}Factory"] = f"the factory of entity '{entity.name}'"
        generated[f"{entity.name}Repository"] = f"the repository of entity '{entity.name}'"
        for suffix, what in (("Order", "ordering"), ("Load", "loading")):
            generated[f"{entity.name}{suffix}"] = f"the {what} type of entity '{entity.name}'"
        for suffix in ("Create", "Update", "Read"):
            generated[f"{entity.name}{suffix}"] = f"a schema of entity '{entity.name}'"
        if entity.audit:
            history = naming.history_class(entity.name)
            generated[history] = f"the history model of entity '{entity.name}'"
        for field in entity.fields:
            if field.type.name == "enum":
                enum_class = naming.enum_class_name(entity.name, field.name)
                generated[enum_class] = f"the enum class of field '{entity.name}.{field.name}'"
    for entity in entities:
        if entity.name in generated:
            issues.at_key(
                ("entities", entity.name),
                f"entity name '{entity.name}' is also the name of {generated[entity.name]}",
                hint="rename one of them",
            )


def check_table_names(issues: Issues, entities: Sequence[Entity]) -> None:
    """Two entities may not share a table."""
    owners: dict[str, str] = {}
    for entity in entities:
        path: DocPath = ("entities", entity.name, "table")
        if entity.table in owners:
            issues.at_value(
                path,
                f"entity '{entity.name}' has the table '{entity.table}' of entity "
                f"'{owners[entity.table]}'",
                hint="set a distinct 'table:' for one of them",
            )
        owners.setdefault(entity.table, entity.name)
    for entity in entities:
        history = naming.history_table(entity.table)
        if entity.audit and history in owners:
            issues.at_value(
                ("entities", entity.name, "audit"),
                f"the history table '{history}' of entity '{entity.name}' is the table of "
                f"entity '{owners[history]}'",
                hint="set another 'table:' for one of them",
            )


def check_catalog_names(issues: Issues, schema: Schema, catalog: Catalog) -> None:
    """Names PostgreSQL keeps in one namespace must not repeat in the database."""
    owners = _table_owners(schema)
    relations: dict[str, str] = {}
    for table in catalog.tables:
        path = owners[table.name]
        for name, what in _relation_names(table):
            if name in relations:
                _name_clash(issues, path, name, relations[name], what)
            relations.setdefault(name, what)
        _check_constraint_names(issues, path, table)
    _check_enum_names(issues, schema, catalog)
    _check_given_index_names(issues, schema, catalog)


def _table_owners(schema: Schema) -> dict[str, DocPath]:
    owners: dict[str, DocPath] = {}
    for entity in schema.entities:
        owners[entity.table] = ("entities", entity.name)
        if entity.audit:
            owners[naming.history_table(entity.table)] = ("entities", entity.name, "audit")
        for relation in entity.relations:
            if relation.junction_table:
                owners[relation.junction_table] = (
                    "entities",
                    entity.name,
                    "relations",
                    relation.name,
                )
    return owners


def _relation_names(table: Table) -> list[tuple[str, str]]:
    """Tables, indexes and the indexes behind keys share PostgreSQL's relation namespace."""
    names = [(table.name, f"table '{table.name}'")]
    names.append((table.primary_key_name, f"the primary key of table '{table.name}'"))
    names += [(u.name, f"a unique constraint of table '{table.name}'") for u in table.uniques]
    names += [(i.name, f"an index of table '{table.name}'") for i in table.indexes]
    return names


def _name_clash(issues: Issues, path: DocPath, name: str, first: str, second: str) -> None:
    issues.at_key(
        path,
        f"the database name '{name}' is used by {first} and by {second}",
        hint="tables, indexes and unique constraints share one namespace in PostgreSQL; "
        "rename a table (with 'table:') or give the index a 'name:'",
    )


def _check_constraint_names(issues: Issues, path: DocPath, table: Table) -> None:
    seen: set[str] = set()
    names = [table.primary_key_name, *(u.name for u in table.uniques)]
    names += [fk.name for fk in table.foreign_keys] + [c.name for c in table.checks]
    for name in names:
        if name in seen:
            issues.at_key(
                path,
                f"table '{table.name}' would have two constraints named '{name}'",
                hint="shorten the names involved: long names are cut to "
                f"{naming.MAX_IDENTIFIER_BYTES} bytes and may meet",
            )
        seen.add(name)


def _check_enum_names(issues: Issues, schema: Schema, catalog: Catalog) -> None:
    tables = {table.name for table in catalog.tables}
    seen: set[str] = set()
    for entity in schema.entities:
        for field in entity.fields:
            if field.type.enum_name is None:
                continue
            _check_enum_name(
                issues,
                ("entities", entity.name, "fields", field.name),
                field.type.enum_name,
                tables,
                seen,
            )


def _check_enum_name(
    issues: Issues, path: DocPath, name: str, tables: set[str], seen: set[str]
) -> None:
    if name in tables or name in seen:
        other = f"table '{name}'" if name in tables else "another enum type"
        issues.at_key(
            path,
            f"the enum type '{name}' has the name of {other}",
            hint="PostgreSQL keeps types and tables in one namespace; rename the table "
            "or the field",
        )
    seen.add(name)


def _check_given_index_names(issues: Issues, schema: Schema, catalog: Catalog) -> None:
    for entity in schema.entities:
        table = catalog.table(entity.table)
        names = {index.name: index for index in table.indexes}
        for position, spec in enumerate(entity.indexes):
            if spec.name is None:
                continue
            index = names.get(naming.truncate(spec.name))
            keys = spec.columns + spec.expressions
            given = tuple(column.name for column in index.columns)[-len(keys) :] if index else ()
            if given != keys:
                issues.at_value(
                    ("entities", entity.name, "indexes", position, "name"),
                    f"the index name '{spec.name}' is taken by another index of "
                    f"table '{table.name}'",
                    hint="choose another name",
                )
