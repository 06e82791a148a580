"""Raw spec → frozen ``Schema``: meaning, defaults and every semantic check.

Errors are gathered per stage (top-level settings and each entity, then relations
across entities, then the database names the catalog leads to) and raised together,
in file order, before the next stage would only repeat them.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from entityforge import naming
from entityforge.catalog import build_catalog
from entityforge.schema import DISTRIBUTIONS, Distribution, Roles, Schema, Tenancy
from entityforge.spec.crosscheck import (
    check_catalog_names,
    check_citus_tenant_keys,
    check_class_names,
    check_relations_across,
    check_required_cycles,
    check_table_names,
)
from entityforge.spec.document import Document
from entityforge.spec.entities import TIMESTAMP_COLUMNS, EntityContext, build_entity
from entityforge.spec.factory_rows import check_factory_rows
from entityforge.spec.issues import Issues, did_you_mean, show_value
from entityforge.spec.names import check_entity_name, check_identifier
from entityforge.spec.partitions import check_references_to_partitions
from entityforge.spec.raw import RawDefaults, RawRoles, RawSpec, RawTenancy
from entityforge.spec.views import build_views

SUPPORTED_VERSION = 1
_RESERVED_ROLES = frozenset({"public", "none", "current_user", "session_user", "current_role"})


def build_schema(document: Document, raw: RawSpec) -> Schema:
    """The ``Schema`` a raw spec describes; raise ``SpecError(s)`` if it is not valid."""
    issues = Issues(document)
    _check_version(issues, raw.version)
    names = tuple(raw.entities)
    tenancy = _tenancy(issues, raw.tenancy, names)
    roles = _roles(issues, raw.roles or RawRoles())
    _check_entity_names(issues, names)
    if not names:
        issues.at_value(("entities",), "the spec declares no entities", hint="add at least one")
    context = EntityContext(tenancy, raw.defaults or RawDefaults(), names, roles)
    entities = tuple(
        build_entity(issues, name, raw_entity, context)
        for name, raw_entity in raw.entities.items()
    )
    _check_renamed_entities(issues, raw, names)
    issues.raise_if_any()
    check_relations_across(issues, entities, tenancy)
    check_required_cycles(issues, entities)
    check_references_to_partitions(issues, entities)
    check_table_names(issues, entities)
    check_class_names(issues, entities)
    issues.raise_if_any()
    schema = Schema(
        entities=entities,
        tenancy=tenancy,
        roles=roles,
        version=SUPPORTED_VERSION,
        enum_storage=raw.defaults.enums if raw.defaults else None,
    )
    catalog = build_catalog(schema)
    check_catalog_names(issues, schema, catalog)
    check_citus_tenant_keys(issues, schema)
    issues.raise_if_any()
    if raw.views:
        schema = replace(schema, views=build_views(issues, raw.views, schema, catalog))
        issues.raise_if_any()
    check_factory_rows(issues, schema, catalog)
    issues.raise_if_any()
    return schema


def _check_version(issues: Issues, version: Any) -> None:
    if type(version) is int and version == SUPPORTED_VERSION:
        return
    issues.at_value(
        ("version",),
        f"unsupported spec version {show_value(version)}",
        hint=f"this entityforge reads 'version: {SUPPORTED_VERSION}'",
    )


def _tenancy(issues: Issues, raw: RawTenancy | None, names: tuple[str, ...]) -> Tenancy | None:
    if raw is None:
        return None
    if raw.entity not in names:
        issues.at_value(
            ("tenancy", "entity"),
            f"the tenant entity '{raw.entity}' is not declared under 'entities'",
            hint=did_you_mean(raw.entity, names) or "declare it, e.g. 'Workspace: {fields: ...}'",
        )
    column_ok = check_identifier(issues, ("tenancy", "column"), raw.column, "tenant column")
    if column_ok and (raw.column == "id" or raw.column in TIMESTAMP_COLUMNS):
        issues.at_value(
            ("tenancy", "column"),
            f"the tenant column may not be '{raw.column}', a column the generator adds",
            hint="keep the default 'tenant_id'",
        )
    if not naming.SETTING_NAME.match(raw.setting):
        issues.at_value(
            ("tenancy", "setting"),
            f"'{raw.setting}' is not a custom setting name PostgreSQL accepts",
            hint="write '<prefix>.<name>' in lower case, e.g. 'app.tenant_id'",
        )
    return Tenancy(raw.entity, raw.column, raw.setting, _distribution(issues, raw.distribution))


def _distribution(issues: Issues, value: str | None) -> Distribution | None:
    if value is None:
        return None
    if value not in DISTRIBUTIONS:
        issues.at_value(
            ("tenancy", "distribution"),
            f"unknown distribution {show_value(value)}",
            hint=did_you_mean(value, DISTRIBUTIONS) or "the one distribution is 'citus'",
        )
        return None
    return "citus"


def _roles(issues: Issues, raw: RawRoles) -> Roles:
    seen: dict[str, str] = {}
    for key in ("reader", "writer", "admin"):
        name = getattr(raw, key)
        path = ("roles", key)
        what = f"the {key} role name"
        if not check_identifier(issues, path, name, what, pattern=naming.PLAIN_IDENTIFIER):
            continue
        if name.startswith("pg_") or name in _RESERVED_ROLES:
            issues.at_value(
                path,
                f"{what} '{name}' is reserved by PostgreSQL",
                hint="names starting with 'pg_' and public, none, current_user, session_user "
                "and current_role are taken; choose another, e.g. 'app_admin'",
            )
        elif name in seen:
            issues.at_value(
                path,
                f"the {key} and {seen[name]} roles are both named '{name}'",
                hint="the reader, writer and admin roles need distinct names",
            )
        seen.setdefault(name, key)
    return Roles(raw.reader, raw.writer, raw.admin)


def _check_entity_names(issues: Issues, names: tuple[str, ...]) -> None:
    folded: dict[str, str] = {}
    for name in names:
        path = ("entities", name)
        if not check_entity_name(issues, path, name):
            continue
        if name.lower() in folded:
            issues.at_key(
                path,
                f"entity '{name}' differs from entity '{folded[name.lower()]}' only in case",
                hint="entity names become table and module names; choose distinct names",
            )
        folded.setdefault(name.lower(), name)


def _check_renamed_entities(issues: Issues, raw: RawSpec, names: tuple[str, ...]) -> None:
    for name, entity in raw.entities.items():
        old = entity.renamed_from if entity else None
        if old is None:
            continue
        path = ("entities", name, "renamed_from")
        if not (naming.PASCAL_CASE.match(old) or naming.SNAKE_CASE.match(old)):
            issues.at_value(
                path,
                f"renamed_from {old!r} is neither an entity name nor a table name",
                hint="give the entity's old name (PascalCase) or its old table (snake_case)",
            )
        elif old in names:
            issues.at_value(
                path,
                f"renamed_from names '{old}', which is still an entity",
                hint="renamed_from is the entity's old name, which no longer exists",
            )
