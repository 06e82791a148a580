"""The recorded schema as a flat, readable map, its changes, and three-way merges of it.

A catalog is kept as entries, one a line in a snapshot file: a path such as
``tables[tickets].columns[channel]`` and the JSON of what stands there (a column, an
index, a table's primary key, the roles). Two catalogs differ by the entries whose
values differ: a change is ``{path: {"old": value, "new": value}}``, ``old`` left out
for an entry that appears, ``new`` for one that goes, so a change is small (one entry
for a widened column) and can be applied both ways.

Named lists (tables; a table's columns, keys, indexes and checks; enum types) are
keyed by name, so two branches that add different columns to one table change
different entries, and a three-way merge of their catalogs is a merge of entries.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from entityforge.catalog import Catalog, Table
from entityforge.errors import GenerationError
from entityforge.migrate.state import catalog_from_document, catalog_to_document, encode_value

SNAPSHOT_FORMAT = 1
Entries = dict[str, Any]
Change = dict[str, dict[str, Any]]
_SEGMENT = re.compile(r"(\w+)(?:\[([^\]]*)\])?(?:\.|$)")
_NAMED_IN_CATALOG = ("tables", "enums", "views")


def entries(catalog: Catalog) -> Entries:
    """The catalog's entries, tables in their order, each table's in its fields' order."""
    document = catalog_to_document(catalog)
    flat: Entries = {}
    for key, value in document.items():
        if key in _NAMED_IN_CATALOG:
            for item in value:
                name = item["name"]
                if key == "tables":
                    flat.update(_table_entries(name, item))
                else:
                    flat[f"{key}[{name}]"] = _without_name(item)
        else:
            flat[key] = value
    return flat


def table_entries(table: Table) -> Entries:
    return _table_entries(table.name, encode_value(table))


def _table_entries(name: str, document: Mapping[str, Any]) -> Entries:
    prefix = f"tables[{name}]"
    flat: Entries = {}
    for key, value in document.items():
        if key == "name":
            continue
        if _is_named_list(value):
            for item in value:
                flat[f"{prefix}.{key}[{item['name']}]"] = _without_name(item)
        else:
            flat[f"{prefix}.{key}"] = value
    return flat


def _is_named_list(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(item, dict) and "name" in item for item in value)
    )


def _without_name(item: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in item.items() if key != "name"}


def catalog_from_entries(flat: Mapping[str, Any]) -> Catalog:
    """The catalog the entries describe (the inverse of ``entries``)."""
    document: dict[str, Any] = {}
    named: dict[tuple[str, ...], dict[str, Any]] = {}
    for path, value in flat.items():
        segments = [(match[1], match[2]) for match in _SEGMENT.finditer(path)]
        target = document
        for index, (key, name) in enumerate(segments):
            last = index == len(segments) - 1
            if name is None:
                if last:
                    target[key] = value
                else:
                    target = target.setdefault(key, {})
                continue
            items = named.setdefault((*map(str, segments[:index]), key), {})
            if name not in items:
                items[name] = {"name": name}
                target.setdefault(key, []).append(items[name])
            if last:
                items[name].update(value)
            target = items[name]
    return catalog_from_document(document)


def change_between(old: Catalog, new: Catalog) -> Change:
    """The entries that differ: tables compared whole first, so the work is the change's."""
    old_tables = {table.name: table for table in old.tables}
    new_tables = {table.name: table for table in new.tables}
    before: Entries = {}
    after: Entries = {}
    for name in {**old_tables, **new_tables}:
        old_table, new_table = old_tables.get(name), new_tables.get(name)
        if old_table != new_table:
            before.update(table_entries(old_table) if old_table else {})
            after.update(table_entries(new_table) if new_table else {})
    rest_old = entries(Catalog((), old.enums, old.extensions, old.roles, old.tenancy, old.views))
    rest_new = entries(Catalog((), new.enums, new.extensions, new.roles, new.tenancy, new.views))
    before.update(rest_old)
    after.update(rest_new)
    return diff_entries(before, after)


def diff_entries(before: Mapping[str, Any], after: Mapping[str, Any]) -> Change:
    change: Change = {}
    for path in {**before, **after}:
        old, new = before.get(path, _ABSENT), after.get(path, _ABSENT)
        if old != new:
            change[path] = {
                **({} if old is _ABSENT else {"old": old}),
                **({} if new is _ABSENT else {"new": new}),
            }
    return dict(sorted(change.items()))


_ABSENT = object()


def apply_change(
    flat: Mapping[str, Any], change: Mapping[str, Any], *, reverse: bool = False
) -> Entries:
    """The entries with ``change`` applied (undone with ``reverse``); new entries of a
    table go after its other entries, new tables at the end."""
    source, target = ("new", "old") if reverse else ("old", "new")
    result = dict(flat)
    added: list[str] = []
    for path, values in change.items():
        if result.get(path, _ABSENT) != values.get(source, _ABSENT):
            raise GenerationError(
                f"the recorded schema does not match the revisions at {path}",
                hint="restore the revisions and app/alembic/schema/ as they were generated",
            )
        if target in values:
            if path not in result:
                added.append(path)
            result[path] = values[target]
        else:
            del result[path]
    return _ordered(result, added) if added else result


def _ordered(flat: Entries, added: Iterable[str]) -> Entries:
    """New entries moved after the other entries of their table (new tables stay last)."""
    new = set(added)
    groups: dict[str, list[str]] = {}
    for path in flat:
        groups.setdefault(_group(path), []).append(path)
    return {
        path: flat[path]
        for paths in groups.values()
        for path in sorted(paths, key=lambda item: item in new)
    }


def _group(path: str) -> str:
    return path.split("].", 1)[0] if path.startswith("tables[") else path


def merge_entries(base: Entries, ours: Entries, theirs: Entries) -> Entries:
    """Both sides' changes from ``base``; a path both change differently is a conflict,
    and so is a table one side drops while the other changes it."""
    ours_change = diff_entries(base, ours)
    theirs_change = diff_entries(base, theirs)
    conflicts = sorted(
        path
        for path in ours_change.keys() & theirs_change.keys()
        if ours_change[path].get("new", _ABSENT) != theirs_change[path].get("new", _ABSENT)
    )
    conflicts += _dropped_and_changed(base, ours, theirs_change)
    conflicts += _dropped_and_changed(base, theirs, ours_change)
    if conflicts:
        listing = "\n".join(f"  {path}" for path in sorted(set(conflicts)))
        raise GenerationError(
            f"the merged branches change the same part of the schema differently:\n{listing}",
            hint="their revisions cannot both apply: drop one branch's revision (and its "
            "snapshot in app/alembic/schema/), then generate again from the merged spec",
        )
    merged = apply_change(base, ours_change)
    return apply_change(merged, {p: c for p, c in theirs_change.items() if p not in ours_change})


def _dropped_and_changed(base: Entries, side: Entries, other_change: Change) -> list[str]:
    """The paths ``other_change`` changes in tables that ``side`` drops."""
    kept = {_group(path) for path in side}
    dropped = {_group(path) for path in base if path.startswith("tables[")} - kept
    return [path for path in other_change if _group(path) in dropped]


def snapshot_text(revision: str, flat: Mapping[str, Any]) -> str:
    """The snapshot file: one entry a line, so a change is a change of lines."""
    lines = [
        "{",
        f' "format": {SNAPSHOT_FORMAT},',
        f' "revision": {json.dumps(revision)},',
        ' "schema": {',
    ]
    items = [
        f"  {json.dumps(path, ensure_ascii=False)}: "
        f"{json.dumps(value, ensure_ascii=False, separators=(', ', ': '))}"
        for path, value in flat.items()
    ]
    lines.append(",\n".join(items))
    lines += [" }", "}"]
    return "\n".join(lines) + "\n"


def read_snapshot(name: str, text: str) -> tuple[str, Entries]:
    """``(revision, entries)`` of a snapshot file."""
    try:
        document = json.loads(text)
        if document.get("format") != SNAPSHOT_FORMAT:
            raise GenerationError(
                f"{name}: snapshot format {document.get('format')!r}, this entityforge "
                f"reads format {SNAPSHOT_FORMAT}",
                hint="upgrade entityforge to the version that generated the revisions",
            )
        revision, flat = document["revision"], document["schema"]
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise GenerationError(
            f"{name}: the schema snapshot cannot be read: {error}",
            hint="restore it as it was generated (git checkout it), or delete it and "
            "generate again",
        ) from None
    if not isinstance(revision, str) or not isinstance(flat, dict):
        raise GenerationError(f"{name}: not a schema snapshot", hint="restore or delete it")
    return revision, flat
