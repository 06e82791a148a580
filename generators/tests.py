"""The generated project's test suite: what each test module checks, decided here.

For every entity ``tests/test_<entity>.py`` exercises its repository, each unique key,
each check a violating value can be derived for, each relation's ``ON DELETE`` and each
relationship's loading. ``tests/test_tenant_isolation.py`` proves row-level security
on every tenant-scoped table and ``tests/test_migrations.py`` the migrations' round trip.
The view-models below hold every decision; the templates only lay them out.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, replace
from typing import Literal, TypedDict

from pglast import ast

from entityforge import naming
from entityforge.catalog import Catalog, Table
from entityforge.generators import (
    GenerationContext,
    audit_tests,
    generated_tests,
    search_tests,
)
from entityforge.generators.exclusion_cases import (
    ExclusionCase,
    exclusion_cases,
    untested_exclusions,
)
from entityforge.generators.factory_values import Expression
from entityforge.generators.fixtures import (
    CheckViolation,
    Overrides,
    admin_written_models,
    check_violations,
    entity_factory_view,
    isort_order,
    solved_row,
    with_parent,
)
from entityforge.generators.partitions import partition_tests
from entityforge.generators.policy_tests import (
    loads_hidden_rows,
    policy_test_view,
    writer_restricted,
)
from entityforge.generators.templating import render
from entityforge.parse_tree import column_name, function_name, references, select_target
from entityforge.rows.sources import Fixed
from entityforge.rows.tables import key_capacity, row_capacity, unique_column_sets
from entityforge.schema import FIELD_TYPES, Entity, Relation, Schema

# Every field type but datetime comes back equal to what went in (a factory's naive
# datetime comes back aware).
ROUND_TRIP_TYPES = frozenset(FIELD_TYPES) - {"datetime"}
# Names the test bodies already use, never given to a row variable.
TEST_BODY_NAMES = frozenset(
    {
        *("again", "attribute", "attributes", "both", "constraint", "created", "deleted"),
        *("everything", "filters", "first", "found", "ids", "insert", "kept", "link"),
        *("loaded", "many", "moments", "new_values", "pages", "pytest", "related"),
        *("reloaded", "repository", "rows", "second", "session", "statement", "text"),
        *("uuid", "value", "values", "violates", "violation"),
    }
)

LINE_LENGTH = 99

OnDeleteAction = Literal["cascade", "set_null", "restrict", "unlink"]
RelationshipKind = Literal["parent", "child", "children", "linked"]


@dataclass(frozen=True)
class UniqueKeyCase:
    """``empty``: an attribute of the key the factories leave NULL, which leaves the key
    untested (a duplicate NULL breaks no unique key)."""

    constraint: str
    attributes: tuple[str, ...]
    empty: str | None = None


@dataclass(frozen=True)
class OnDeleteCase:
    """Deleting the row a relation points at, and what must become of the relation.

    ``unlink`` is a many-to-many relation: its junction rows go with either end.
    """

    relation: str
    action: OnDeleteAction
    parent_var: str
    parent_model: str
    parent_repository: str
    delete_method: str
    column: str | None = None
    constraint: str | None = None
    junction: str | None = None
    own_column: str | None = None
    related_column: str | None = None
    as_admin: bool = False
    # What the row sets beside the reference to keep its checks; why there is no test.
    extra: Overrides = ()
    skipped: str | None = None


class _DeletedParent(TypedDict):
    """What the ``OnDeleteCase`` of one relation holds whatever its action."""

    relation: str
    parent_model: str
    parent_repository: str
    delete_method: str
    as_admin: bool


@dataclass(frozen=True)
class RelationshipCase:
    """Loading one relationship: how the related row is made and linked to the row.

    ``parent``: the row references it; ``child``/``children``: it references the row
    (one-to-one or many); ``linked``: a junction row joins them, ``own_column`` holding
    the row's id and ``related_column`` the related row's.
    """

    name: str
    kind: RelationshipKind
    related_model: str
    column: str | None = None
    junction: str | None = None
    own_column: str | None = None
    related_column: str | None = None
    extra: Overrides = ()
    skipped: str | None = None
    # A soft-delete related model: loading must leave its deleted rows out.
    related_soft_delete: bool = False
    # Linked to the tenant entity, or referring to it: the related row is the session's
    # own tenant (row-level security keeps another's from the link and from the load).
    related_tenant: bool = False
    # The related rows reference the row and only the admin may write them: the test runs
    # in the admin's session, where both are seen (the admin's own session would not see
    # a row the test's session has not committed).
    as_admin: bool = False


@dataclass(frozen=True)
class EntityTestView:
    docstring: str
    model: str
    repository: str
    factory: str
    var: str
    raw_update: tuple[str, ...]
    tenant_attribute: str | None
    soft_delete: bool
    timestamps: bool
    has_fields: bool
    round_trip: tuple[str, ...]
    probe: str | None
    unique_keys: tuple[UniqueKeyCase, ...]
    # Unique keys over lower() or upper() of a column, and the attribute: a value that
    # differs from a taken one only in case is refused.
    case_folded: tuple[tuple[str, str], ...]
    exclusions: tuple[ExclusionCase, ...]
    unique_notes: tuple[str, ...]
    exclusion_notes: tuple[str, ...]
    optional_parents: tuple[tuple[str, str], ...]
    checks: tuple[CheckViolation, ...]
    tested_checks: tuple[CheckViolation, ...]
    check_notes: tuple[str, ...]
    check_comments: tuple[tuple[str, ...], ...]
    on_delete: tuple[OnDeleteCase, ...]
    relationships: tuple[RelationshipCase, ...]
    imports: ModuleImports
    admin_only: str | None = None
    # Nullable json attributes and their columns: None must be stored as SQL NULL.
    json_nulls: tuple[tuple[str, str, bool], ...] = ()
    # Rows the listing and counting tests make: fewer where a unique key over enum or
    # boolean columns allows fewer in one tenant.
    page_rows: int = 5
    few_rows: int = 3


@dataclass(frozen=True)
class ModuleImports:
    models: tuple[str, ...]
    repositories: tuple[str, ...]
    factories: tuple[str, ...]
    support: tuple[str, ...]
    uses_pytest: bool
    # ``from <module> import <names>`` of the standard library, for the check tests' values.
    standard: tuple[tuple[str, tuple[str, ...]], ...] = ()


def module_docstring(text: str) -> str:
    """A docstring for ``text``, wrapped to the line length when it does not fit one line."""
    if len(text) + 6 <= LINE_LENGTH:
        return f'"""{text}"""'
    lines = textwrap.wrap(text, LINE_LENGTH - len('"""'))
    return '"""' + "\n".join(lines) + '\n"""'


def raw_update_sql(table: str) -> tuple[str, ...]:
    """A no-op UPDATE of one row of ``table`` (a ``naming.qualified_name``) in raw SQL, in
    pieces that each fit a line."""
    head, tail = f"UPDATE {naming.quote_qualified(table)}", " SET id = id WHERE id = :id"
    return (head + tail,) if len(head + tail) <= LINE_LENGTH - 30 else (head, tail)


def free_name(candidate: str, taken: set[str]) -> str:
    name = candidate
    while name in taken or name in TEST_BODY_NAMES:
        name = f"{name}_row"
    return name


def real_delete_method(entity: Entity) -> str:
    """The repository method that removes a row from its table."""
    return "hard_delete" if entity.soft_delete else "delete"


def round_trip_attributes(entity: Entity) -> tuple[str, ...]:
    return tuple(
        naming.attribute_name(f.name)
        for f in entity.fields
        if f.type.name in ROUND_TRIP_TYPES and not f.generated
    )


def unique_key_cases(catalog: Catalog, entity: Entity) -> tuple[UniqueKeyCase, ...]:
    """Each unique key a duplicate can break alone: a key holding a smaller one cannot."""
    table = catalog.table(entity.table)
    tenant = catalog.tenancy.column if catalog.tenancy else None
    named = [(u.name, u.columns) for u in table.uniques]
    named += [(i.name, i.column_names) for i in table.indexes if i.unique]
    wanted = set(unique_column_sets(catalog, entity))
    # A key over one enum value lets one row be: a second row breaks it, whatever else
    # it duplicates, so only such keys are tested there.
    single = {key for key in wanted if key_capacity(table.column(c).type for c in key) == 1}
    empty = _left_empty(catalog, entity)
    cases = []
    for name, columns in named:
        own = tuple(column for column in columns if column != tenant)
        if any(table.column(column).generated for column in own):
            continue  # the database computes the value; no test can repeat it
        if own in wanted and not any(set(other) < set(own) for other in wanted):
            if single and own not in single:
                continue
            attributes = tuple(naming.attribute_name(c) for c in own)
            blank = next((a for c, a in zip(own, attributes, strict=True) if c in empty), None)
            cases.append(UniqueKeyCase(name, attributes, blank))
    return tuple(cases)


def _left_empty(catalog: Catalog, entity: Entity) -> set[str]:
    """The columns the factories leave NULL in every row: no fresh value of their type
    keeps the table's checks (NULLs never collide, so a duplicate of one breaks no key)."""
    _, row = solved_row(catalog, entity)
    return {
        column
        for column, source in row.sources
        if isinstance(source, Fixed) and source.value is None
    }


def case_folded_keys(
    catalog: Catalog, entity: Entity, keys: tuple[UniqueKeyCase, ...]
) -> tuple[tuple[str, str], ...]:
    """``(constraint, attribute)`` of each tested key over ``lower`` or ``upper`` of a
    text column that no check reads (a value with its case changed could break one)."""
    table = catalog.table(entity.table)
    checked = {name for check in table.checks for name in references(check.expression).columns}
    tested = {key.constraint for key in keys}
    found = []
    for index in table.indexes:
        folded = [folded_column(element.name) for element in index.columns if element.expression]
        columns = [c for c in folded if c and c not in checked]
        if index.name in tested and columns:
            found.append((index.name, naming.attribute_name(columns[0])))
    return tuple(found)


def folded_column(expression: str) -> str | None:
    """The column of ``lower(column)`` or ``upper(column)``; None for other expressions."""
    node = select_target(expression)
    if not isinstance(node, ast.FuncCall) or function_name(node) not in ("lower", "upper"):
        return None
    arguments = node.args or ()
    if len(arguments) != 1 or not isinstance(arguments[0], ast.ColumnRef):
        return None
    return column_name(arguments[0])


def optional_parents(
    entity: Entity, keys: tuple[UniqueKeyCase, ...]
) -> tuple[tuple[str, str], ...]:
    """Nullable references in unique keys: a duplicate needs a parent to point at."""
    in_keys = {attribute for key in keys for attribute in key.attributes}
    return tuple(
        (naming.attribute_name(relation.column), relation.target)
        for relation in entity.relations
        if relation.column
        and relation.nullable
        and naming.attribute_name(relation.column) in in_keys
    )


def comment_lines(text: str, indent: int = 0) -> tuple[str, ...]:
    """``text`` as ``#`` comment lines that fit the line length."""
    width = LINE_LENGTH - indent - len("# ")
    return tuple(f"# {line}" for line in textwrap.wrap(text, width, break_long_words=False))


def check_cases(catalog: Catalog, entity: Entity) -> tuple[CheckViolation, ...]:
    """Each of the spec's checks with the row that breaks it alone, or why there is none."""
    return check_violations(catalog, entity)


def admin_only(catalog: Catalog, entity: Entity) -> str | None:
    """Why the tests write the entity's rows as the admin (None if the application may):
    the application cannot delete them, or policies restrict it in ways unknown here."""
    if writer_restricted(catalog, entity):
        return "its row-level policies restrict the application"
    privileges = catalog.table(entity.table).writer_privileges
    if "DELETE" in privileges:
        return None
    if "UPDATE" in privileges:
        return "tenants are created and removed by the admin"
    return f"the application may only read {entity.table}"


def on_delete_cases(
    schema: Schema, catalog: Catalog, entity: Entity, row_var: str
) -> tuple[OnDeleteCase, ...]:
    """Deleting each relation's target; a target the application cannot delete is
    deleted by the admin, acting for the test's tenant."""
    table = catalog.table(entity.table)
    cases = []
    for relation in entity.relations:
        parent = schema.entity(relation.target)
        common: _DeletedParent = {
            "relation": relation.name,
            "parent_model": parent.name,
            "parent_repository": f"{parent.name}Repository",
            "delete_method": real_delete_method(parent),
            "as_admin": admin_only(catalog, parent) is not None
            and admin_only(catalog, entity) is None,
        }
        if relation.kind == "many_to_many":
            cases.append(
                OnDeleteCase(
                    action="unlink",
                    parent_var="related",
                    junction=relation.junction_table,
                    own_column=relation.source_column,
                    related_column=relation.target_column,
                    **common,
                )
            )
            continue
        column = relation.column or ""
        foreign_key = next(fk for fk in table.foreign_keys if fk.columns[-1] == column)
        action: OnDeleteAction = (
            relation.on_delete if relation.on_delete in ("cascade", "set_null") else "restrict"
        )
        extra = with_parent(catalog, entity, column, nulled=action == "set_null")
        cases.append(
            OnDeleteCase(
                action=action,
                parent_var=free_name(relation.name, {row_var}),
                column=naming.attribute_name(column),
                constraint=foreign_key.name,
                extra=extra or (),
                skipped=None if extra is not None else _no_row_with(column, action),
                **common,
            )
        )
    return tuple(cases)


def _no_row_with(column: str, action: str) -> str:
    if action == "set_null":
        return f"no row keeps its checks both with {column} set and with it null"
    return f"no row keeps its checks with {column} set"


def relationship_cases(
    schema: Schema, catalog: Catalog, entity: Entity
) -> tuple[RelationshipCase, ...]:
    """Every relationship on the entity's model: its own relations, then reverse sides."""
    cases = [_own_relationship(relation) for relation in entity.relations]
    for other in sorted(schema.entities, key=lambda e: e.name):
        for relation in other.relations:
            if relation.target == entity.name and relation.back_populates:
                cases.append(_reverse_relationship(other, relation, relation.back_populates))
    return tuple(_with_extra(schema, catalog, entity, case) for case in cases)


def _with_extra(
    schema: Schema, catalog: Catalog, entity: Entity, case: RelationshipCase
) -> RelationshipCase:
    """The case with what the referencing row needs beside the reference."""
    tenancy = schema.tenancy
    if tenancy and case.related_model == tenancy.entity and case.kind in ("linked", "parent"):
        case = replace(case, related_tenant=True)
    if case.kind == "linked" or case.column is None:
        return case
    owner = entity if case.kind == "parent" else schema.entity(case.related_model)
    column = _column_of(owner, case.column)
    extra = with_parent(catalog, owner, column, nulled=False)
    if extra is None:
        return replace(case, skipped=_no_row_with(column, "load"))
    related = schema.entity(case.related_model)
    hides = case.kind == "children" and related.soft_delete
    as_admin = (
        case.kind != "parent"
        and admin_only(catalog, related) is not None
        and admin_only(catalog, entity) is None
    )
    return replace(case, extra=extra, related_soft_delete=hides, as_admin=as_admin)


def _column_of(entity: Entity, attribute: str) -> str:
    return next(
        relation.column
        for relation in entity.relations
        if relation.column and naming.attribute_name(relation.column) == attribute
    )


def _own_relationship(relation: Relation) -> RelationshipCase:
    if relation.kind == "many_to_many":
        return RelationshipCase(
            relation.name,
            "linked",
            relation.target,
            junction=relation.junction_table,
            own_column=relation.source_column,
            related_column=relation.target_column,
        )
    column = naming.attribute_name(relation.column or "")
    return RelationshipCase(relation.name, "parent", relation.target, column=column)


def _reverse_relationship(other: Entity, relation: Relation, name: str) -> RelationshipCase:
    if relation.kind == "many_to_many":
        return RelationshipCase(
            name,
            "linked",
            other.name,
            junction=relation.junction_table,
            own_column=relation.target_column,
            related_column=relation.source_column,
        )
    kind: RelationshipKind = "child" if relation.kind == "one_to_one" else "children"
    column = naming.attribute_name(relation.column or "")
    return RelationshipCase(name, kind, other.name, column=column)


def value_imports(
    values: list[Expression],
) -> tuple[tuple[str, ...], tuple[tuple[str, tuple[str, ...]], ...]]:
    """What literal values need in a test module: the factories' helpers they call, and
    the standard-library names they use by module, each in isort's order."""
    standard: dict[str, set[str]] = {}
    for module, name in (pair for value in values for pair in value.imports):
        standard.setdefault(module, set()).add(name)
    return (
        isort_order({helper for value in values for helper in value.helpers}),
        tuple((module, isort_order(names)) for module, names in sorted(standard.items())),
    )


def module_imports(
    catalog: Catalog,
    entity: Entity,
    cases: tuple[tuple[UniqueKeyCase, ...], tuple[CheckViolation, ...], tuple[ExclusionCase, ...]],
    on_delete: tuple[OnDeleteCase, ...],
    relationships: tuple[RelationshipCase, ...],
    as_admin: bool = False,
) -> ModuleImports:
    """What an entity's test module imports: exactly the names its tests use;
    ``as_admin``: its tests run in an admin session (a fixture of its own)."""
    models = {entity.name} | {case.related_model for case in relationships}
    models |= {case.parent_model for case in on_delete}
    models |= {model for _, model in optional_parents(entity, cases[0])}
    repositories = {f"{entity.name}Repository"} | {case.parent_repository for case in on_delete}
    repositories |= {
        f"{case.related_model}Repository" for case in relationships if case.related_soft_delete
    }
    factories = {"insert", "new_values", "reloaded"}
    if entity.fields:
        factories.add(f"{entity.name}Factory")
    if any(case.kind == "linked" for case in relationships):
        factories.add("link")
    values = [value for check in cases[1] for _, value in check.overrides]
    values += [value for case in on_delete for _, value in case.extra]
    values += [value for case in relationships for _, value in case.extra]
    helpers, standard = value_imports(values)
    factories |= set(helpers)
    support = {"page_ids"}
    if json_null_fields(entity):
        factories.add("new_values")
    if any(cases) or any(case.action == "restrict" for case in on_delete):
        support.add("violates")
    if entity.timestamps:
        support.add("updated_at")
    return ModuleImports(
        models=isort_order(models),
        repositories=isort_order(repositories),
        factories=isort_order(factories),
        support=isort_order(support),
        uses_pytest=(any(cases) or bool(json_null_fields(entity)) or as_admin),
        standard=standard,
    )


def entity_test_view(schema: Schema, catalog: Catalog, entity: Entity) -> EntityTestView:
    var = free_name(naming.snake_case(entity.name), set())
    tenant = catalog.tenancy.column if catalog.tenancy and entity.tenant_scoped else None
    all_keys = unique_key_cases(catalog, entity)
    unique_keys = tuple(key for key in all_keys if key.empty is None)
    exclusions = exclusion_cases(catalog, entity)
    checks = check_cases(catalog, entity)
    tested = tuple(check for check in checks if check.skipped is None)
    on_delete = on_delete_cases(schema, catalog, entity, var)
    relationships = relationship_cases(schema, catalog, entity)
    capacity = row_capacity(schema, catalog, entity) or 5
    reason = admin_only(catalog, entity)
    if reason is None and loads_hidden_rows(schema, catalog, entity):
        reason = "row-level policies may hide the related rows it loads"
    return EntityTestView(
        page_rows=min(5, capacity),
        few_rows=min(3, capacity),
        docstring=module_docstring(
            f"{entity.name} on PostgreSQL: its repository, its constraints and its relations."
        ),
        model=entity.name,
        repository=f"{entity.name}Repository",
        factory=f"{entity.name}Factory",
        var=var,
        raw_update=raw_update_sql(naming.qualified_name(entity.schema, entity.table)),
        tenant_attribute=naming.attribute_name(tenant) if tenant else None,
        soft_delete=entity.soft_delete,
        timestamps=entity.timestamps,
        has_fields=any(not f.generated for f in entity.fields),
        round_trip=round_trip_attributes(entity),
        probe=entity_factory_view(catalog, entity).distinct,
        unique_keys=unique_keys,
        case_folded=case_folded_keys(catalog, entity, unique_keys),
        exclusions=exclusions,
        unique_notes=tuple(
            f"{key.constraint} has no test: the factories leave {key.empty} empty (no "
            "fresh value of its type keeps the checks)."
            for key in all_keys
            if key.empty is not None
        ),
        exclusion_notes=tuple(
            line
            for name, why in untested_exclusions(catalog, entity)
            for line in comment_lines(f"{name} has no test: {why}.")
        ),
        optional_parents=optional_parents(entity, unique_keys),
        checks=checks,
        tested_checks=tested,
        check_notes=tuple(
            line
            for check in checks
            if check.skipped
            for line in comment_lines(f"{check.constraint} has no test: {check.skipped}.")
        ),
        check_comments=tuple(comment_lines(check.expression, 4) for check in tested),
        on_delete=on_delete,
        relationships=relationships,
        imports=module_imports(
            catalog,
            entity,
            (unique_keys, tested, exclusions),
            on_delete,
            relationships,
            reason is not None,
        ),
        admin_only=reason,
        json_nulls=json_null_fields(entity),
    )


def json_null_fields(entity: Entity) -> tuple[tuple[str, str, bool], ...]:
    """``(attribute, column, has a default)`` of each nullable json field."""
    return tuple(
        (naming.attribute_name(f.name), f.name, f.default is not None or f.default_sql is not None)
        for f in entity.fields
        if f.type.name == "json" and f.nullable and not f.generated
    )


@dataclass(frozen=True)
class JunctionEnd:
    column: str
    model: str


@dataclass(frozen=True)
class ReferenceCase:
    """A composite foreign key between two tenant-scoped tables; ``extra`` is what a row
    pointing it at a parent also sets to keep its checks."""

    table: str
    column: str
    referred_table: str
    constraint: str
    extra: Overrides = ()


@dataclass(frozen=True)
class TenantTableCase:
    """The tenant entity: its model, repository and the method that removes a row."""

    model: str
    repository: str
    factory: str
    delete_method: str
    has_fields: bool
    restricted: bool = False


@dataclass(frozen=True)
class TenantIsolationView:
    entity_models: tuple[str, ...]
    junction_tables: tuple[tuple[str, tuple[JunctionEnd, JunctionEnd]], ...]
    references: tuple[ReferenceCase, ...]
    models: tuple[str, ...]
    tenant: TenantTableCase
    read_only_models: tuple[str, ...]
    writable_models: tuple[str, ...]
    # Tenant tables whose policies restrict the writer further: the tests that need it to
    # reach its own rows, or that write them as the writer, leave them out.
    restricted_tables: tuple[str, ...] = ()
    # How the tests find a table by its name: the metadata, keyed by qualified names,
    # when every table is in public, else the factories' ``TABLES_BY_NAME``.
    tables: str = "Base.metadata.tables"
    # What the references' extra values need: factory helpers, standard-library names.
    helpers: tuple[str, ...] = ()
    standard: tuple[tuple[str, tuple[str, ...]], ...] = ()


def tenant_isolation_view(schema: Schema, catalog: Catalog) -> TenantIsolationView:
    """Every tenant-scoped table, how to make one of its rows, and its tenant references."""
    assert catalog.tenancy is not None
    tenant_key = (catalog.tenancy.column, "id")
    entity_tables = tuple(
        sorted((e.table, e.name) for e in schema.entities if catalog.table(e.table).tenant_scoped)
    )
    junctions = []
    for entity in schema.entities:
        for relation in entity.relations:
            junction = relation.junction_table
            if junction and relation.source_column and catalog.table(junction).tenant_scoped:
                source = JunctionEnd(relation.source_column, entity.name)
                target = JunctionEnd(relation.target_column or "", relation.target)
                junctions.append((junction, (source, target)))
    tables: list[Table] = [catalog.table(name) for name, _ in entity_tables]
    tables += [catalog.table(name) for name, _ in junctions]
    by_table = {entity.table: entity for entity in schema.entities}
    references = []
    for table in sorted(tables, key=lambda t: t.name):
        for fk in table.foreign_keys:
            if fk.referred_columns != tenant_key:
                continue
            column = fk.columns[-1]
            owner = by_table.get(table.name)
            ends = (owner, by_table.get(fk.referred_table))
            if any(end is not None and writer_restricted(catalog, end) for end in ends):
                continue
            extra = with_parent(catalog, owner, column, nulled=False) if owner else ()
            if extra is not None:  # None: no row may point there and keep its checks
                references.append(
                    ReferenceCase(table.name, column, fk.referred_table, fk.name, extra)
                )
    helpers, standard = value_imports(
        [value for reference in references for _, value in reference.extra]
    )
    tenant_entity = schema.entity(catalog.tenancy.entity)
    # Global tables whose policies restrict the writer are left to tests/test_policies.py.
    tested = [e for e in schema.entities if not writer_restricted(catalog, e)]
    tested_names = {e.name for e in tested}
    globals_ = [e for e in tested if not e.tenant_scoped and e.name != tenant_entity.name]
    read_only = sorted(e.name for e in globals_ if admin_only(catalog, e) is not None)
    writable = sorted(e.name for e in globals_ if admin_only(catalog, e) is None)
    models = {"Base", tenant_entity.name} | {model for _, model in entity_tables}
    models |= {end.model for _, ends in junctions for end in ends}
    models |= {*read_only, *writable}
    return TenantIsolationView(
        entity_models=tuple(sorted(model for _, model in entity_tables)),
        junction_tables=tuple(sorted(junctions)),
        references=tuple(references),
        models=isort_order(models),
        tenant=TenantTableCase(
            model=tenant_entity.name,
            repository=f"{tenant_entity.name}Repository",
            factory=f"{tenant_entity.name}Factory",
            delete_method=real_delete_method(tenant_entity),
            has_fields=any(not f.generated for f in tenant_entity.fields),
            restricted=writer_restricted(catalog, tenant_entity),
        ),
        read_only_models=tuple(read_only),
        writable_models=tuple(writable),
        restricted_tables=tuple(
            sorted(
                e.table for e in schema.entities if e.name not in tested_names and e.tenant_scoped
            )
        ),
        helpers=helpers,
        standard=standard,
        tables="TABLES_BY_NAME" if catalog.schemas else "Base.metadata.tables",
    )


VIOLATES = "violates"
"""What a test module notes of its render: whether it imports ``violates`` (the support
module then defines it)."""


def entity_modules(ctx: GenerationContext, entities: list[Entity]) -> dict[str, str | None]:
    """Each entity's test module by path: its text, or None when the last generated copy
    is kept (``ctx.reuse``)."""
    modules: dict[str, str | None] = {}
    for entity in entities:
        path = f"tests/test_{naming.snake_case(entity.name)}.py"
        if ctx.reuse.kept(ctx.schema, entity, path):
            modules[path] = None
            continue
        view = entity_test_view(ctx.schema, ctx.catalog, entity)
        ctx.reuse.note(path, VIOLATES, "violates" in view.imports.support)
        modules[path] = render("tests/test_entity.py.jinja", package=ctx.package, entity=view)
    return modules


def generate(ctx: GenerationContext) -> dict[str, str]:
    schema, catalog, package = ctx.schema, ctx.catalog, ctx.package
    tenancy = schema.tenancy
    entities = sorted(schema.entities, key=lambda e: e.name)
    modules = entity_modules(ctx, entities)
    isolation = None
    if tenancy is not None and any(table.tenant_scoped for table in catalog.tables):
        isolation = tenant_isolation_view(schema, catalog)
    violations = any(ctx.reuse.fact(path, VIOLATES) for path in modules)
    violations |= bool(isolation and isolation.references)
    # What a role may not do is tested on tenant tables and on history tables.
    privileges = isolation is not None or any(entity.audit for entity in entities)
    refusals = {"DBAPIError": privileges, "IntegrityError": violations}
    files = {
        "tests/__init__.py": "",
        "tests/conftest.py": render(
            "tests/conftest.py.jinja",
            package=package,
            tenancy=tenancy is not None,
            tenant_model=tenancy.entity if tenancy else None,
            admin_written=bool(admin_written_models(catalog, schema)),
        ),
        "tests/support.py": render(
            "tests/support.py.jinja",
            package=package,
            tenancy=isolation is not None,
            privileges=privileges,
            violations=violations,
            exceptions=[name for name, needed in refusals.items() if needed],
            timestamps=any(entity.timestamps for entity in entities),
        ),
        "tests/test_migrations.py": render("tests/test_migrations.py.jinja", package=package),
        "tests/test_typing.py": render("tests/test_typing.py.jinja", package=package),
    }
    files.update((path, text) for path, text in modules.items() if text is not None)
    if isolation is not None:
        files["tests/test_tenant_isolation.py"] = render(
            "tests/test_tenant_isolation.py.jinja", package=package, view=isolation
        )
    files.update(generated_tests.generate(ctx))
    files.update(search_tests.generate(ctx))
    files.update(audit_tests.generate(ctx))
    files.update(partition_tests(ctx))
    policies = policy_test_view(schema, catalog)
    if policies is not None:
        files["tests/test_policies.py"] = render(
            "tests/test_policies.py.jinja", package=package, view=policies
        )
    return files
