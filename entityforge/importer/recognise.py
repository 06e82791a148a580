"""A live database as a spec: entities, tenancy, roles and defaults, plus findings.

The spec is checked the way ``generate`` checks it, and the catalog it leads to is held
against the database: every table, column, constraint and index the database has and
the generated schema would not (or the reverse) is a finding too.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import inflection

from entityforge import naming
from entityforge.catalog import Catalog
from entityforge.importer.draft import EntityDraft, Path
from entityforge.importer.findings import Finding
from entityforge.importer.live import LiveDatabase, LiveTable
from entityforge.importer.policies import import_policies
from entityforge.importer.shapes import (
    IMPLIED_EXTENSIONS,
    IMPLIED_FUNCTIONS,
    JunctionShape,
    TenancyShape,
    is_audited,
    junction_shape,
    role_shape,
    tenancy_shape,
)
from entityforge.importer.tables import entity_draft
from entityforge.spec.raw import RawDefaults, RawEntity

_DEFAULT_ROLES = {"reader": "app_reader", "writer": "app_writer", "admin": "app_admin"}
_VIEW_KINDS = {"v": "view", "m": "materialized view", "f": "foreign table"}


@dataclass(frozen=True)
class ImportedSpec:
    """The spec as data, comments by path, and what could not be expressed."""

    document: dict[str, Any]
    notes: dict[Path, str]
    findings: tuple[Finding, ...]


def recognise(db: LiveDatabase) -> ImportedSpec:
    findings: list[Finding] = []
    tenancy = tenancy_shape(db)
    tables = [table for table in db.tables if table.kind in ("r", "p")]
    histories = _history_tables(tables)
    tables = [table for table in tables if table.name not in histories]
    for table in db.tables:
        if table.kind in _VIEW_KINDS:
            findings.append(
                Finding(
                    f"{_VIEW_KINDS[table.kind]} {table.name}",
                    "views are not imported",
                    "declare it under views: with its query (SELECT ... over the imported "
                    "tables); the tables it reads are imported",
                )
            )
    entity_of = {table.name: entity_name(table.name) for table in tables}
    junctions = _junctions(tables, tenancy, entity_of)
    for name in junctions:
        del entity_of[name]
    entity_of = _unique_names(entity_of)
    drafts = [
        entity_draft(db, table, entity_of[table.name], tenancy, entity_of)
        for table in tables
        if table.name not in junctions
    ]
    _add_many_to_many(drafts, junctions, entity_of)
    document: dict[str, Any] = {"version": 1}
    notes: dict[Path, str] = {}
    if tenancy is not None:
        document["tenancy"] = _tenancy_doc(tenancy, entity_of)
        notes[("tenancy",)] = (
            f"recognised from the {naming.TENANT_POLICY} policies of "
            f"{len(tenancy.scoped_tables)} tables"
        )
    roles = {**_DEFAULT_ROLES, **role_shape(db)}
    if roles != _DEFAULT_ROLES:
        document["roles"] = roles
    _mark_writable_globals(drafts, tenancy, roles["writer"])
    if "policies" in RawEntity.model_fields:
        for draft in drafts:
            import_policies(draft, roles)
    defaults: dict[str, Any] = _defaults(drafts)
    if _native_enums(drafts) and "enums" in RawDefaults.model_fields:
        defaults["enums"] = "native"
    if defaults:
        document["defaults"] = defaults
    document["entities"] = {
        draft.name: _ordered(draft.doc) for draft in _entity_order(drafts, tenancy)
    }
    notes |= {("entities", d.name, *path): text for d in drafts for path, text in d.notes.items()}
    for draft in drafts:
        findings += draft.findings
    findings += _database_findings(db)
    return ImportedSpec(document, notes, tuple(findings))


_ENTITY_KEYS = (
    "table",
    "schema",
    "tenant_scoped",
    "writable",
    "timestamps",
    "soft_delete",
    "audit",
    "comment",
    "partition",
    "fields",
    "relations",
    "unique",
    "indexes",
    "checks",
    "exclude",
    "policies",
    "search",
)


def _history_tables(tables: list[LiveTable]) -> frozenset[str]:
    """The history tables of audited tables: ``audit: true`` makes them."""
    names = frozenset(table.name for table in tables)
    return frozenset(
        naming.history_table(table.name) for table in tables if is_audited(table, names)
    )


def _ordered(doc: dict[str, Any]) -> dict[str, Any]:
    return {key: doc[key] for key in _ENTITY_KEYS if key in doc}


def _entity_order(drafts: list[EntityDraft], tenancy: TenancyShape | None) -> list[EntityDraft]:
    """The tenant entity first, then by name."""
    tenant = tenancy.tenant_table if tenancy else None
    return sorted(drafts, key=lambda draft: (draft.table.name != tenant, draft.name))


def entity_name(table: str) -> str:
    """The PascalCase entity whose default table is ``table`` (``categories`` →
    ``Category``), or the table's own name in PascalCase (the spec then names the table)."""
    stem, _, last = table.rpartition("_")
    prefix = f"{stem}_" if stem else ""
    candidates = [last[:-3] + "y", last[:-2], last[:-1], last] if len(last) > 3 else [last]
    candidates.insert(0, inflection.singularize(last))  # people → person, as table_name has it
    for candidate in candidates:
        name = naming.pascal_case(prefix + candidate)
        if candidate and naming.table_name(name) == table:
            return name
    return naming.pascal_case(table)


def _unique_names(entity_of: dict[str, str]) -> dict[str, str]:
    """Entity names clear of each other and of the names generated code uses."""
    taken: set[str] = set()
    result = {}
    for table, name in sorted(entity_of.items()):
        candidate = name
        while candidate in taken or candidate in naming.GENERATED_CODE_NAMES:
            candidate += "Record"
        taken.add(candidate)
        result[table] = candidate
    return {table: result[table] for table in entity_of}


def _junctions(
    tables: list[LiveTable], tenancy: TenancyShape | None, entity_of: dict[str, str]
) -> dict[str, JunctionShape]:
    column = tenancy.column if tenancy else None
    found = {}
    for table in tables:
        shape = junction_shape(table, column, entity_of)
        if shape is not None:
            found[table.name] = shape
    return found


def _add_many_to_many(
    drafts: list[EntityDraft], junctions: dict[str, JunctionShape], entity_of: dict[str, str]
) -> None:
    by_table = {draft.table.name: draft for draft in drafts}
    for shape in junctions.values():
        draft = by_table[shape.source_table]
        relations = draft.doc.setdefault("relations", {})
        relations[shape.relation] = {
            "kind": "many_to_many",
            "target": entity_of[shape.target_table],
        }


def _native_enums(drafts: list[EntityDraft]) -> bool:
    """Whether an enum field is stored as a native enum type (the spec's default may be
    a varchar with a check)."""
    return any(column.type.kind == "enum" for d in drafts for column in d.table.columns)


def _mark_writable_globals(
    drafts: list[EntityDraft], tenancy: TenancyShape | None, writer: str
) -> None:
    """A global table the writer may insert into is ``writable`` (when the spec format
    has the key: global tables are otherwise read-only to the writer)."""
    if tenancy is None or "writable" not in RawEntity.model_fields:
        return
    for draft in drafts:
        is_global = not draft.scoped and draft.table.name != tenancy.tenant_table
        if is_global and (writer, "INSERT") in draft.table.grants:
            draft.doc["writable"] = True


def _tenancy_doc(tenancy: TenancyShape, entity_of: dict[str, str]) -> dict[str, str]:
    doc = {"entity": entity_of[tenancy.tenant_table]}
    if tenancy.column != "tenant_id":
        doc["column"] = tenancy.column
    if tenancy.setting != "app.tenant_id":
        doc["setting"] = tenancy.setting
    return doc


def _defaults(drafts: list[EntityDraft]) -> dict[str, bool]:
    """The most common timestamps and soft_delete become the defaults; entities that
    differ say so."""
    defaults = {}
    builtin = {"timestamps": True, "soft_delete": False}
    for key, fallback in builtin.items():
        votes = Counter(bool(draft.doc[key]) for draft in drafts)
        chosen = (
            max((True, False), key=lambda v: (votes[v], v == fallback)) if drafts else fallback
        )
        if chosen != fallback:
            defaults[key] = chosen
        for draft in drafts:
            if draft.doc[key] == chosen:
                del draft.doc[key]
    return defaults


def _database_findings(db: LiveDatabase) -> list[Finding]:
    searches = tuple(
        f"{table.name}_{column.name}_{verb}("
        for table in db.tables
        for column in table.columns
        for verb in ("contains", "ilike", "match")
    )
    names = frozenset(table.name for table in db.tables)
    implied = IMPLIED_FUNCTIONS | {
        f"{naming.history_function(table.name)}()"
        for table in db.tables
        if is_audited(table, names)
    }
    # The maintenance functions of the partitioned tables the spec reads back.
    implied |= {
        f"{table.name}_make_partitions()" for table in db.tables if table.maintenance is not None
    }
    findings = [
        Finding(f"function {f}", "the spec has no functions", "keep it in a revision of your own")
        for f in db.functions
        if f not in implied and not f.startswith(searches)
    ]
    findings += [
        Finding(f"sequence {s}", "a sequence no column owns", "keep it in a revision of your own")
        for s in db.sequences
    ]
    findings += [
        Finding(
            f"extension {e}",
            "the spec installs only the extensions its indexes need",
            "create it in a revision of your own",
        )
        for e in db.extensions
        if e not in IMPLIED_EXTENSIONS
    ]
    findings += [
        Finding(
            f"schema {s}",
            f"only schema {', '.join(db.schemas)} was read",
            f"read it too: entityforge import URL {_schema_options(db.schemas)} --schema {s}",
        )
        for s in db.other_schemas
    ]
    used = {c.type.name for t in db.tables for c in t.columns} | {
        c.type.element.name for t in db.tables for c in t.columns if c.type.element
    }
    findings += [
        Finding(f"enum type {e}", "no column uses it", "add a field of type enum with its values")
        for e in db.enums
        if e not in used
    ]
    return findings


def _schema_options(schemas: tuple[str, ...]) -> str:
    return " ".join(f"--schema {schema}" for schema in schemas)


def compare_with_database(db: LiveDatabase, catalog: Catalog) -> list[Finding]:
    """What the imported spec's schema would hold differently from the database."""
    live = {t.name: t for t in db.tables if t.kind in ("r", "p")}
    built = {t.name: t for t in catalog.tables}
    findings = [
        Finding(
            f"table {name}",
            "the generated schema has it, the database does not",
            "check the spec's table names",
            "changed",
        )
        for name in sorted(built.keys() - live.keys())
    ]
    for name in sorted(live.keys() & built.keys()):
        table, target = live[name], built[name]
        have = _object_names(table)
        want = {c.name for c in target.columns} | {target.primary_key_name}
        want |= {u.name for u in target.uniques} | {f.name for f in target.foreign_keys}
        want |= {i.name for i in target.indexes} | {c.name for c in target.checks}
        want |= {e.name for e in target.exclusions}
        lacks, adds = sorted(have - want), sorted(want - have)
        if lacks or adds:
            parts = [f"lacks {', '.join(lacks)}"] if lacks else []
            parts += [f"adds {', '.join(adds)}"] if adds else []
            findings.append(
                Finding(
                    f"table {name}",
                    f"the generated table {'; '.join(parts)}",
                    "the findings above say why; rename objects in the database first to keep "
                    "their names",
                    "changed",
                )
            )
    return findings


def _object_names(table: LiveTable) -> set[str]:
    names = {c.name for c in table.columns}
    names |= {c.name for c in table.constraints if c.kind in ("p", "u", "f", "c", "x")}
    return names | {i.name for i in table.indexes if i.constraint is None}
