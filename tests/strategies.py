"""Hypothesis strategies: random VALID spec documents, and valid edits of them.

A spec document is the plain data a spec file holds (``dict``/``list``/``str``...),
dumped to YAML by ``spec_text``. ``specs()`` draws 2–6 entities with fields of every
type and random options, relations of every kind (self references and cycles
included), indexes (btree, partial, gin, trgm, brin, gist where the types allow),
uniques, simple checks, full-text search, tenancy on or off (global entities, read-only
or writable, that tenant-scoped ones reference), soft delete and timestamps on or off,
and comments of arbitrary text. The draws are valid by construction where that is cheap;
the few collisions only the loader sees (a junction table named like another table)
are rejected with ``assume``.

``edit_sequences()`` draws a spec and then 1–3 edits a user makes between two
generations: add or drop a field, add an entity, an index or a relation, toggle soft
delete, rename a field or an entity with ``renamed_from``. Each state is a whole spec
document; an edit that would make the spec invalid is dropped.
"""

from __future__ import annotations

import copy
import io
from typing import Any

from hypothesis import assume
from hypothesis import strategies as st
from ruamel.yaml import YAML

from entityforge import naming
from entityforge.errors import EntityforgeError
from entityforge.spec import load_schema_text
from tests.spec_parts import (
    ENTITY_NAMES,
    FIELD_NAMES,
    ROLE_SETS,
    TENANCY_NAMES,
    TENANT_ENTITIES,
    Doc,
    Draw,
    distinct_indexes,
    entity_doc,
    field_doc,
    index_doc,
    relation_doc,
)


def spec_text(doc: Doc) -> str:
    yaml = YAML(typ="safe", pure=True)
    yaml.allow_unicode = True
    yaml.width = 1 << 16
    buffer = io.StringIO()
    yaml.dump(doc, buffer)
    return buffer.getvalue()


def is_valid(doc: Doc) -> bool:
    try:
        load_schema_text(spec_text(doc))
    except EntityforgeError:
        return False
    return True


# --- whole specs ---------------------------------------------------------------------


@st.composite
def specs(draw: Draw) -> Doc:
    """A valid spec document with 2–6 entities."""
    tenancy_on = draw(st.booleans())
    count = draw(st.integers(2, 6))
    names = draw(
        st.lists(st.sampled_from(ENTITY_NAMES), min_size=count, max_size=count, unique=True)
    )
    doc: Doc = {"version": 1}
    if tenancy_on:
        tenant = draw(st.sampled_from(TENANT_ENTITIES))
        # Not <tenant>_id: the tenant entity's own many-to-many junction tables would get
        # a column of that name (a known issue, kept in tests/regressions/).
        names_ok = [n for n in TENANCY_NAMES if n[0] != f"{naming.snake_case(tenant)}_id"]
        column, setting = draw(st.sampled_from(names_ok))
        doc["tenancy"] = {"entity": tenant, "column": column, "setting": setting}
        names = [tenant, *names[1:]]
    reader, writer, admin = draw(st.sampled_from(ROLE_SETS))
    doc["roles"] = {"reader": reader, "writer": writer, "admin": admin}
    if draw(st.booleans()):
        doc["defaults"] = {"timestamps": draw(st.booleans()), "soft_delete": draw(st.booleans())}
    doc["entities"] = {}
    for name in names:
        entity = draw(entity_doc(name, doc.get("defaults")))
        if tenancy_on and name != doc["tenancy"]["entity"] and draw(st.integers(0, 4)) == 0:
            entity["tenant_scoped"] = False
            if draw(st.booleans()):
                entity["writable"] = True
        doc["entities"][name] = entity
    for name in names:
        for _ in range(draw(st.integers(0, 2))):
            drawn = draw(relation_doc(doc, name))
            if drawn is not None:
                relation_name, relation = drawn
                doc["entities"][name].setdefault("relations", {})[relation_name] = relation
    assume(is_valid(doc))
    return doc


# --- edits ---------------------------------------------------------------------------


def _entities(doc: Doc, *, renameable: bool = False) -> list[str]:
    tenant = (doc.get("tenancy") or {}).get("entity")
    return sorted(n for n in doc["entities"] if not (renameable and n == tenant))


def _referenced_columns(entity: Doc) -> set[str]:
    """Columns named by the entity's indexes, uniques and checks (so not to drop/rename)."""
    used: set[str] = set()
    for index in entity.get("indexes", []):
        used |= set(index.get("columns", [])) | set(index.get("include", []))
        sql = " ".join([index.get("where", ""), *index.get("expressions", [])])
        used |= {c for c in (entity.get("fields") or {}) if c in sql}
    for columns in entity.get("unique", []):
        used |= set(columns)
    for check in entity.get("checks", []):
        used |= {c for c in (entity.get("fields") or {}) if c in check["expression"]}
    used |= set((entity.get("search") or {}).get("fields", {}))
    return used


def _fillable(spec: Any) -> Any:
    """A field existing rows can take: nullable unless it has a default.

    The generator refuses a required column without a default on a table that exists
    (it cannot be applied once the table has rows), whatever ``--allow-destructive`` says.
    """
    spec = dict(spec) if isinstance(spec, dict) else {"type": spec}
    if "default" not in spec and "default_sql" not in spec:
        spec["nullable"] = True
    return spec


@st.composite
def add_field(draw: Draw, doc: Doc) -> str | None:
    name = draw(st.sampled_from(_entities(doc)))
    entity = doc["entities"][name]
    taken = set(entity.get("fields", {})) | set(entity.get("relations", {}))
    free = [f for f in FIELD_NAMES if f not in taken]
    if not free:
        return None
    field = draw(st.sampled_from(free))
    entity.setdefault("fields", {})[field] = _fillable(draw(field_doc(field)))
    return f"add field {name}.{field}"


@st.composite
def drop_field(draw: Draw, doc: Doc) -> str | None:
    name = draw(st.sampled_from(_entities(doc)))
    entity = doc["entities"][name]
    droppable = sorted(set(entity.get("fields", {})) - _referenced_columns(entity))
    if not droppable:
        return None
    field = draw(st.sampled_from(droppable))
    del entity["fields"][field]
    return f"drop field {name}.{field}"


@st.composite
def add_entity(draw: Draw, doc: Doc) -> str | None:
    free = [n for n in ENTITY_NAMES if n not in doc["entities"]]
    if not free:
        return None
    name = draw(st.sampled_from(free))
    doc["entities"][name] = draw(entity_doc(name, doc.get("defaults")))
    drawn = draw(relation_doc(doc, name))
    if drawn is not None:
        doc["entities"][name]["relations"] = {drawn[0]: drawn[1]}
    return f"add entity {name}"


@st.composite
def add_index(draw: Draw, doc: Doc) -> str | None:
    name = draw(st.sampled_from(_entities(doc)))
    entity = doc["entities"][name]
    if not entity.get("fields"):
        return None
    index = draw(index_doc(entity["fields"], naming.snake_case(name)))
    before = entity.get("indexes", [])
    kept = distinct_indexes(entity["fields"], [*before, index])
    if len(kept) == len(before):
        return None
    entity["indexes"] = kept
    keys = [*index.get("columns", []), *index.get("expressions", [])]
    return f"add index on {name}({', '.join(keys)})"


@st.composite
def toggle_soft_delete(draw: Draw, doc: Doc) -> str | None:
    name = draw(st.sampled_from(_entities(doc)))
    entity = doc["entities"][name]
    default = (doc.get("defaults") or {}).get("soft_delete", False)
    entity["soft_delete"] = not entity.get("soft_delete", default)
    return f"soft delete {name}: {entity['soft_delete']}"


@st.composite
def add_relation(draw: Draw, doc: Doc) -> str | None:
    name = draw(st.sampled_from(_entities(doc)))
    drawn = draw(relation_doc(doc, name))
    if drawn is None:
        return None
    if drawn[1]["kind"] != "many_to_many":
        drawn[1]["nullable"] = True  # existing rows reference nothing yet
    doc["entities"][name].setdefault("relations", {})[drawn[0]] = drawn[1]
    return f"add relation {name}.{drawn[0]} ({drawn[1]['kind']} {drawn[1]['target']})"


@st.composite
def rename_field(draw: Draw, doc: Doc) -> str | None:
    name = draw(st.sampled_from(_entities(doc)))
    entity = doc["entities"][name]
    renameable = sorted(set(entity.get("fields", {})) - _referenced_columns(entity))
    if not renameable:
        return None
    old = draw(st.sampled_from(renameable))
    taken = set(entity["fields"]) | set(entity.get("relations", {}))
    new = draw(st.sampled_from([f"{old}_v2", *(f for f in FIELD_NAMES if f not in taken)]))
    spec = entity["fields"][old]
    spec = dict(spec) if isinstance(spec, dict) else {"type": spec}
    spec["renamed_from"] = old
    entity["fields"] = {
        (new if key == old else key): (spec if key == old else value)
        for key, value in entity["fields"].items()
    }
    return f"rename field {name}.{old} -> {new}"


@st.composite
def rename_entity(draw: Draw, doc: Doc) -> str | None:
    candidates = _entities(doc, renameable=True)
    free = [n for n in ENTITY_NAMES if n not in doc["entities"]]
    if not candidates or not free:
        return None
    old = draw(st.sampled_from(candidates))
    new = draw(st.sampled_from(free))
    doc["entities"][old]["renamed_from"] = old
    doc["entities"] = {(new if k == old else k): v for k, v in doc["entities"].items()}
    for other in doc["entities"].values():
        for relation in (other.get("relations") or {}).values():
            if relation["target"] == old:
                relation["target"] = new
    return f"rename entity {old} -> {new}"


EDITS = (
    add_field, drop_field, add_entity, add_index, toggle_soft_delete, add_relation,
    rename_field, rename_entity,
)  # fmt: skip


def _clear_renames(doc: Doc) -> Doc:
    """A new state starts from the last one with its ``renamed_from`` keys done."""
    fresh = copy.deepcopy(doc)
    for entity in fresh["entities"].values():
        entity.pop("renamed_from", None)
        for spec in (entity.get("fields") or {}).values():
            if isinstance(spec, dict):
                spec.pop("renamed_from", None)
    return fresh


@st.composite
def edit_sequences(draw: Draw) -> tuple[list[Doc], list[str]]:
    """A spec and 1–3 valid edits of it: the states in order and what each edit did."""
    states = [draw(specs())]
    steps: list[str] = []
    for _ in range(draw(st.integers(1, 3))):
        edit = draw(st.sampled_from(EDITS))
        keep_renames = draw(st.integers(0, 3)) == 0  # a stale renamed_from is harmless
        candidate = copy.deepcopy(states[-1]) if keep_renames else _clear_renames(states[-1])
        description = draw(edit(candidate))
        if description is not None and is_valid(candidate):
            states.append(candidate)
            steps.append(description)
    assume(steps)
    return states, steps
