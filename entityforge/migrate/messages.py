"""A revision's message and file name, read off its operations.

Each change is a phrase (``add timeout_seconds to workflow_sources``, ``rename title to
name in tasks``, ``widen name in agents``, ``make notes optional in tasks``, ``add
labels``, ``drop legacy_notes``, ``add index on priority to tickets``, ``add done to
task_status``, ``change policy own_update in bookings``); changes of one kind are
listed together (``drop notes and body from tasks``), and the phrases are joined, a
table named once for the phrases about it (``add channel to tickets and index
status``), tables in alphabetical order. A message longer than a file name allows sums
up each table in one phrase, then names the tables (``update projects and tasks``).
What follows from a change (a new table's indexes and grants, a renamed table's
constraints, the key a new reference needs) is not a change of its own.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from entityforge import naming
from entityforge.catalog import Column, Index, Table
from entityforge.migrate import operations as ops
from entityforge.migrate.operations import (
    audit,
    ids,
    partitions,
    policies,
    renames,
    search,
    tenancy,
    views,
)
from entityforge.migrate.operations.generated import AlterGeneration
from entityforge.migrate.safety import narrowing

SLUG_LENGTH = 60

_COLUMN_CHANGES = (
    ops.AddColumn,
    ops.DropColumn,
    renames.RenameColumn,
    tenancy.AddFilledColumn,
    tenancy.DropFilledColumn,
)
# What only ever follows from another change.
_CONSEQUENCES = (
    ops.CreateUpdatedAtTrigger,
    ops.DropUpdatedAtTrigger,
    ids.CreateUuidv7Function,
    ids.DropUuidv7Function,
    search.CreateSearchFunction,
    search.DropSearchFunction,
    audit.CreateAuditTrigger,
    audit.DropAuditTrigger,
    ops.GrantPrivileges,
    ops.RevokePrivileges,
    renames.RenameConstraint,
    renames.RenameIndex,
    renames.RenameTrigger,
    tenancy.ReplacePrimaryKey,
    policies.CreateGrantedRolesPolicy,
    policies.DropGrantedRolesPolicy,
    tenancy.BuildKeyIndex,
    tenancy.DiscardKeyIndex,
    tenancy.MovePrimaryKey,
)
# What accompanies a change of the table's columns, and is a change of its own otherwise.
_KEYS = (
    ops.AddUniqueConstraint,
    ops.DropUniqueConstraint,
    ops.AddCheckConstraint,
    ops.DropCheckConstraint,
    ops.AddForeignKey,
    ops.DropForeignKey,
    ops.CreateIndex,
    ops.DropIndex,
)
_PREPOSITIONS = {"add": "to", "drop": "from", "rename": "in"}


@dataclass(frozen=True)
class _Phrase:
    """``verb what suffix`` about ``table`` (``None``: the what is a table or a type)."""

    verb: str
    what: tuple[str, ...]
    table: str | None = None
    suffix: str = ""

    def __str__(self) -> str:
        return self.text(with_table=True)

    def text(self, *, with_table: bool) -> str:
        where = ""
        if self.table and with_table:
            where = f" {_PREPOSITIONS.get(self.verb, 'in')} {self.table}"
        return f"{self.verb} {_listing(self.what)}{self.suffix}{where}"


@dataclass
class _TableChanges:
    """What the operations do to one table, in the order they do it."""

    created: bool = False
    dropped: bool = False
    renamed_from: str | None = None
    added: list[str] = field(default_factory=list)
    dropped_columns: list[str] = field(default_factory=list)
    renamed: list[str] = field(default_factory=list)
    altered: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    """Altered columns by ``(verb, suffix)``: ``("widen", "")``, ``("make", " optional")``."""
    indexes: list[Index] = field(default_factory=list)
    keys: bool = False
    other: bool = False
    policies_added: list[str] = field(default_factory=list)
    policies_dropped: list[str] = field(default_factory=list)
    audit: str | None = None
    """``audit`` or ``stop auditing`` when the table's history is added or dropped."""
    partitioning: str | None = None
    """``partition`` or ``stop partitioning`` when the table is rebuilt."""


def describe(operations: Sequence[ops.Operation], tenant_column: str | None = None) -> str:
    """The message of a revision holding ``operations``; ``tenant_column`` (which leads
    every index of a tenant-scoped table) is left out of the columns an index names."""
    tables = _table_changes(operations)
    changed = {name: _phrases(name, tables[name], tenant_column) for name in sorted(tables)}
    phrases = [phrase for table_phrases in changed.values() for phrase in table_phrases]
    schema_phrases = _schema_phrases(operations, bool(phrases))
    if len(phrases) + len(schema_phrases) == 1:
        return str((*phrases, *schema_phrases)[0])
    roles_only = all(phrase.what[0].startswith("role ") for phrase in schema_phrases)
    if schema_phrases and roles_only and not phrases:
        return "rename roles"
    merged = None if schema_phrases else _merged(phrases)
    if merged is not None:
        return merged
    summaries = _summaries(changed)
    for candidate in ([*phrases, *schema_phrases], [*summaries, *schema_phrases]):
        text = _joined(candidate)
        if text and len(text) <= SLUG_LENGTH:
            return text
    names = sorted(name for name, table_phrases in changed.items() if table_phrases)
    names = names or sorted(tables)
    if not names:
        return "update schema"
    listed = f"update {_listing(names)}"
    listed = listed if len(listed) <= SLUG_LENGTH else f"update {len(names)} tables"
    layout = next((phrase for phrase in schema_phrases if phrase.verb == "use"), None)
    if layout is not None:
        # A new key layout or kind of id, across the schema, names the revision first.
        combined = f"{layout}; {listed}"
        return combined if len(combined) <= SLUG_LENGTH else str(layout)
    return listed


def _joined(phrases: Sequence[_Phrase]) -> str:
    """The phrases as one sentence, each table named at the first phrase about it."""
    texts = []
    previous: str | None = None
    for phrase in phrases:
        texts.append(phrase.text(with_table=phrase.table is None or phrase.table != previous))
        previous = phrase.table
    return _listing(texts) if texts else ""


def _summaries(changed: dict[str, list[_Phrase]]) -> list[_Phrase]:
    """One phrase for what happens to each table; the tables with several kinds of
    change in one ``update`` phrase, where the first of them stands."""
    summaries: list[_Phrase] = []
    updated: list[str] = []
    for name, phrases in changed.items():
        if len(phrases) == 1 and phrases[0].verb != "update":
            summaries.append(phrases[0])
        elif phrases:
            if not updated:
                summaries.append(_Phrase("update", ()))
            updated.append(name)
    return [_Phrase("update", tuple(updated)) if p.verb == "update" else p for p in summaries]


def _merged(phrases: list[_Phrase]) -> str | None:
    """Phrases of one verb and kind as one (``drop notes and body``), if it reads short."""
    if not phrases or len({(phrase.verb, phrase.table is None) for phrase in phrases}) != 1:
        return None
    first = phrases[0]
    if first.verb not in _PREPOSITIONS and first.table is not None:
        return None
    tables = {phrase.table for phrase in phrases}
    table = first.table if len(tables) == 1 else None
    ordered = sorted(phrases, key=lambda phrase: phrase.table or "")
    what = tuple(item for phrase in ordered for item in phrase.what)
    text = str(_Phrase(first.verb, what, table))
    return text if len(text) <= SLUG_LENGTH else None


def _table_changes(operations: Sequence[ops.Operation]) -> dict[str, _TableChanges]:
    referred = _referred_keys(operations)
    readded = _readded_generated_columns(operations)
    tables: dict[str, _TableChanges] = {}
    # Row-level security turned on or off with a table's permissive policy follows from
    # its first policy added or its last removed.
    granted = {
        operation.table
        for operation in operations
        if isinstance(
            operation, policies.CreateGrantedRolesPolicy | policies.DropGrantedRolesPolicy
        )
    }
    histories = _history_tables(operations)
    rebuilt = {op.table for op in operations if isinstance(op, partitions.RebuildTable)}
    for operation in operations:
        name = _table_of(operation)
        if name is None or isinstance(operation, _CONSEQUENCES) or _new_id_default(operation):
            continue
        if isinstance(operation, partitions.RebuildTable):
            partitioned = operation.after.partition is not None
            changes = tables.setdefault(name, _TableChanges())
            changes.partitioning = "partition" if partitioned else "stop partitioning"
            continue
        if name in rebuilt or _around_rebuild(operation, rebuilt):
            continue
        if name in histories:
            _history_change(tables, operation)
            continue
        if isinstance(operation, ops.AddColumn | ops.DropColumn) and operation in readded:
            continue
        toggles = isinstance(operation, ops.EnableRowLevelSecurity | ops.DisableRowLevelSecurity)
        if toggles and name in granted:
            continue
        if _label_check(operation):
            continue
        changes = tables.setdefault(name, _TableChanges())
        if isinstance(operation, ops.CreateTable):
            changes.created = True
        elif isinstance(operation, ops.DropTable):
            changes.dropped = True
        elif isinstance(operation, renames.RenameTable):
            changes.renamed_from = operation.old
        elif isinstance(operation, _COLUMN_CHANGES):
            _column_change(changes, operation)
        elif isinstance(operation, ops.AlterColumn):
            kind = _alteration(operation.old, operation.new)
            changes.altered.setdefault(kind, []).append(operation.new.name)
        elif isinstance(operation, AlterGeneration):
            kind = _generation_change(operation)
            changes.altered.setdefault(kind, []).append(operation.new.name)
        elif isinstance(operation, ops.CreateIndex):
            changes.indexes.append(operation.index)
        elif isinstance(operation, _KEYS):
            changes.keys = changes.keys or not _is_referred_key(operation, referred)
        elif isinstance(operation, policies.CreatePolicy):
            changes.policies_added.append(operation.policy.name)
        elif isinstance(operation, policies.DropPolicy):
            changes.policies_dropped.append(operation.policy.name)
        else:
            changes.other = True
    return tables


def _around_rebuild(operation: ops.Operation, rebuilt: set[str]) -> bool:
    """A foreign key to a rebuilt table, dropped before the rebuild and added after."""
    if isinstance(operation, ops.AddForeignKey | ops.DropForeignKey):
        return operation.validate_later and operation.foreign_key.referred_table in rebuilt
    return False


def _history_tables(operations: Sequence[ops.Operation]) -> set[str]:
    """The history tables the operations create, drop or rename with their source: what
    happens to them is said of the audited table."""
    histories = {
        operation.table.name
        for operation in operations
        if isinstance(operation, ops.CreateTable | ops.DropTable) and operation.table.history_of
    }
    renamed = {
        (operation.old, operation.new)
        for operation in operations
        if isinstance(operation, renames.RenameTable)
    }
    histories |= {
        naming.history_table(new)
        for old, new in renamed
        if (naming.history_table(old), naming.history_table(new)) in renamed
    }
    return histories


def _history_change(tables: dict[str, _TableChanges], operation: ops.Operation) -> None:
    """``audit`` a kept table whose history is created, ``stop auditing`` one whose
    history is dropped."""
    if not isinstance(operation, ops.CreateTable | ops.DropTable):
        return
    source = operation.table.history_of
    assert source is not None
    created = isinstance(operation, ops.CreateTable)
    changes = tables.setdefault(source, _TableChanges())
    changes.audit = "audit" if created else "stop auditing"


def _readded_generated_columns(operations: Sequence[ops.Operation]) -> set[ops.Operation]:
    """A generated column dropped and added again around a change of a column it reads:
    a consequence of that change."""
    added = {op for op in operations if isinstance(op, ops.AddColumn) and op.column.generated}
    return {
        op
        for op in operations
        if isinstance(op, ops.DropColumn) and ops.AddColumn(op.table, op.column) in added
    } | {op for op in added if ops.DropColumn(op.table, op.column) in operations}


def _label_check(operation: ops.Operation) -> bool:
    """The check on the labels of an enum stored as varchar (its own phrase)."""
    if isinstance(operation, ops.AddCheckConstraint | ops.DropCheckConstraint):
        return bool(operation.constraint.values)
    return False


def _label_phrases(operations: Sequence[ops.Operation]) -> list[_Phrase]:
    """``add doing to tasks.status`` for labels only added to a varchar enum's check."""
    dropped = {
        (op.table, op.constraint.name): op.constraint.values
        for op in operations
        if isinstance(op, ops.DropCheckConstraint) and op.constraint.values
    }
    phrases = []
    for op in operations:
        if not isinstance(op, ops.AddCheckConstraint) or not op.constraint.values:
            continue
        old = dropped.get((op.table, op.constraint.name))
        if old is None:
            continue
        column = f"{op.table} {op.constraint.short_name.removesuffix('_values')}"
        added = tuple(value for value in op.constraint.values if value not in old)
        if set(old) <= set(op.constraint.values):
            phrases.append(_Phrase("add", added, column))
        else:
            phrases.append(_Phrase("change", (f"{column} labels",)))
    return phrases


def _new_id_default(operation: ops.Operation) -> bool:
    """An id column whose server default alone changes (to ``uuidv7()``)."""
    if not isinstance(operation, ops.AlterColumn) or operation.new.role != "id":
        return False
    return replace(operation.old, default_sql=operation.new.default_sql) == operation.new


def _referred_keys(operations: Sequence[ops.Operation]) -> set[tuple[str, tuple[str, ...]]]:
    """The keys the operations' foreign keys refer to (a new reference's target key)."""
    keys: set[tuple[str, tuple[str, ...]]] = set()
    for operation in operations:
        if isinstance(operation, ops.CreateTable | ops.DropTable):
            foreign_keys = operation.table.foreign_keys
        elif isinstance(operation, ops.AddForeignKey | ops.DropForeignKey):
            foreign_keys = (operation.foreign_key,)
        else:
            continue
        keys |= {(fk.referred_table, fk.referred_columns) for fk in foreign_keys}
    return keys


def _is_referred_key(operation: ops.Operation, referred: set[tuple[str, tuple[str, ...]]]) -> bool:
    if isinstance(operation, ops.AddUniqueConstraint | ops.DropUniqueConstraint):
        return (operation.table, operation.constraint.columns) in referred
    return False


def _column_change(changes: _TableChanges, operation: ops.Operation) -> None:
    if isinstance(operation, renames.RenameColumn):
        changes.renamed.append(f"{operation.old} to {operation.new}")
    elif isinstance(operation, ops.AddColumn | tenancy.AddFilledColumn):
        changes.added.append(operation.column.name)
    elif isinstance(operation, ops.DropColumn | tenancy.DropFilledColumn):
        # Drops come last added first: put back in the order of the table.
        changes.dropped_columns.insert(0, operation.column.name)


def _alteration(old: Column, new: Column) -> tuple[str, str]:
    """``(verb, suffix)`` of a column's change: its type widened or narrowed, made
    required or optional, its default changed; ``alter`` for several at once."""
    kinds = []
    if old.type != new.type:
        kinds.append(("narrow", "") if narrowing(old.type, new.type) else ("widen", ""))
    if old.nullable != new.nullable:
        kinds.append(("make", " optional") if new.nullable else ("make", " required"))
    if (old.default, old.default_sql) != (new.default, new.default_sql):
        kinds.append(("change default of", ""))
    return kinds[0] if len(kinds) == 1 else ("alter", "")


def _generation_change(operation: AlterGeneration) -> tuple[str, str]:
    if operation.recreates:
        return ("make", " generated")
    if operation.new.generated is None:
        return ("make", " plain")
    return ("change expression of", "")


def _table_of(operation: ops.Operation) -> str | None:
    table = getattr(operation, "table", None)
    if isinstance(table, Table):
        return table.name
    return table if isinstance(table, str) else None


def _phrases(name: str, changes: _TableChanges, tenant_column: str | None) -> list[_Phrase]:
    """What happens to the table: nothing when only what follows other changes does, one
    ``update`` when several kinds of change do."""
    if changes.created:
        return [_Phrase("add", (name,))]
    if changes.dropped:
        return [_Phrase("drop", (name,))]
    phrases = []
    if changes.audit:
        phrases.append(_Phrase(changes.audit, (name,)))
    if changes.partitioning:
        phrases.append(_Phrase(changes.partitioning, (name,)))
    if changes.renamed_from:
        phrases.append(_Phrase("rename", (f"{changes.renamed_from} to {name}",)))
    for verb, items in (
        ("add", changes.added),
        ("drop", changes.dropped_columns),
        ("rename", changes.renamed),
    ):
        if items:
            phrases.append(_Phrase(verb, tuple(items), name))
    for (verb, suffix), columns in changes.altered.items():
        phrases.append(_Phrase(verb, tuple(columns), name, suffix))
    if changes.indexes:
        phrases.append(_index_phrase(name, changes.indexes, tenant_column, alone=not phrases))
    phrases += _policy_phrases(name, changes)
    if changes.other or (changes.keys and not phrases):
        return [_Phrase("update", (name,))]
    return phrases


def _policy_phrases(name: str, changes: _TableChanges) -> list[_Phrase]:
    """``add policy own_update to bookings``; a policy dropped and made again is changed."""
    added, dropped = changes.policies_added, changes.policies_dropped
    phrases = []
    for verb, items in (
        ("add", [policy for policy in added if policy not in dropped]),
        ("drop", [policy for policy in dropped if policy not in added]),
        ("change", [policy for policy in added if policy in dropped]),
    ):
        if items:
            noun = "policy" if len(items) == 1 else "policies"
            phrases.append(_Phrase(verb, (f"{noun} {_listing(items)}",), name))
    return phrases


def _index_phrase(
    table: str, indexes: list[Index], tenant_column: str | None, *, alone: bool
) -> _Phrase:
    """``add index on priority to tickets`` when it is the table's one change, ``index
    priority`` after another: the indexed columns, the tenant's aside."""
    columns = [
        "_".join(name for name in index.column_names if name != tenant_column) or index.name
        for index in indexes
    ]
    if not alone:
        return _Phrase("index", tuple(columns), table)
    noun = "index" if len(indexes) == 1 else "indexes"
    return _Phrase("add", (f"{noun} on {_listing(columns)}",), table)


def _schema_phrases(operations: Sequence[ops.Operation], tables_changed: bool) -> list[_Phrase]:
    """Changes to roles and enum types, when no table change explains them."""
    phrases = []
    used = []
    if any(isinstance(operation, tenancy.MovePrimaryKey) for operation in operations):
        used.append("tenant-first primary keys")
    if any(isinstance(operation, ids.CreateUuidv7Function) for operation in operations):
        used.append("time-ordered ids")
    if used:
        phrases.append(_Phrase("use", tuple(used)))
    phrases += _label_phrases(operations)
    for operation in operations:
        if isinstance(operation, renames.RenameRole):
            phrases.append(_Phrase("rename", (f"role {operation.old} to {operation.new}",)))
        elif isinstance(operation, ops.AddEnumValues):
            phrases.append(_Phrase("add", operation.added_values, operation.name))
        elif isinstance(operation, ops.AlterEnum) and not tables_changed:
            phrases.append(_Phrase("change", (f"{operation.name} labels",)))
    return phrases if tables_changed else [*phrases, *_view_phrases(operations)]


def _view_phrases(operations: Sequence[ops.Operation]) -> list[_Phrase]:
    """Views added, dropped, and dropped to be created again (``recreate``)."""
    created = [op.view.relation for op in operations if isinstance(op, views.CreateView)]
    dropped = [op.view.relation for op in operations if isinstance(op, views.DropView)]
    groups = (
        ("add", [name for name in created if name not in dropped]),
        ("recreate", [name for name in created if name in dropped]),
        ("drop", [name for name in dropped if name not in created]),
    )
    return [
        _Phrase(verb, (f"view{'s' if len(names) > 1 else ''} {_listing(names)}",))
        for verb, names in groups
        if names
    ]


def _listing(names: Sequence[str]) -> str:
    if len(names) == 1:
        return names[0]
    return f"{', '.join(names[:-1])} and {names[-1]}"


def slug(message: str) -> str:
    """The file-name part of a message: lowercase ASCII words joined by ``_``, cut
    between words to at most ``SLUG_LENGTH`` characters."""
    ascii_text = unicodedata.normalize("NFKD", message).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    kept = words[:1]
    for word in words[1:]:
        if len("_".join([*kept, word])) > SLUG_LENGTH:
            break
        kept.append(word)
    return "_".join(kept)[:SLUG_LENGTH] or "revision"
