"""The project's revision graph and the schema each revision leads to.

Revisions are read as text, never imported: their ``revision`` and ``down_revision``
(one parent, several for a merge revision, none for the first) make a graph whose
heads are the revisions no other one revises. What schema a revision leads to is known:

- at a first revision, from its snapshot (``app/alembic/schema/<revision>.json``);
- in a revision of an earlier entityforge, from its ``ENTITYFORGE_STATE``;
- anywhere else, from a neighbour whose schema is known: a generated revision records
  what it changes in each parent's schema (``ENTITYFORGE_CHANGES``), which applied to the
  parent's schema gives its own and undone from its own gives the parent's. A revision
  written by hand records nothing and changes nothing entityforge tracks.

So the schema at each head, and where two branches forked, is found from the first
revision's snapshot, and the branches' changes are merged against the fork's schema.
"""

from __future__ import annotations

import ast
import re
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

from entityforge.catalog import Catalog
from entityforge.errors import GenerationError
from entityforge.migrate.snapshot import (
    Entries,
    apply_change,
    catalog_from_entries,
    entries,
    merge_entries,
    read_snapshot,
)
from entityforge.migrate.state import STATE_VARIABLE, read_state

CHANGES_VARIABLE = "ENTITYFORGE_CHANGES"
_NUMBER = re.compile(r"(\d{1,6})_")


@dataclass(frozen=True)
class RevisionFile:
    """What a revision file says about itself, read from its text."""

    name: str
    revision: str
    down_revisions: tuple[str, ...]
    text: str

    def legacy_state(self) -> Catalog | None:
        """The schema an earlier entityforge recorded whole in the revision, if any."""
        if f"\n{STATE_VARIABLE} = (" not in self.text:
            return None
        try:
            return read_state(self.text)
        except GenerationError as error:
            raise GenerationError(
                f"revision {self.name}: {error.message}", hint=error.hint
            ) from None

    @cached_property
    def changes(self) -> Mapping[str, Mapping[str, Any]]:
        """What the revision changes in each parent's schema (empty: nothing recorded)."""
        marker = f"\n{CHANGES_VARIABLE}"
        start = self.text.find(marker)
        if start < 0:
            return {}
        try:
            statement = ast.parse(self.text[start + 1 :]).body[0]
            value = statement.value if isinstance(statement, ast.AnnAssign | ast.Assign) else None
            changes = ast.literal_eval(value) if value is not None else None
        except (SyntaxError, ValueError, IndexError):
            changes = None
        if not isinstance(changes, dict):
            raise GenerationError(
                f"revision {self.name}: {CHANGES_VARIABLE} cannot be read",
                hint="restore it as it was generated",
            )
        return changes


@dataclass(frozen=True)
class Graph:
    """The revisions by id, and the schemas known from snapshots."""

    files: Mapping[str, RevisionFile]
    snapshots: Mapping[str, Entries]

    @cached_property
    def heads(self) -> tuple[str, ...]:
        referred = {parent for file in self.files.values() for parent in file.down_revisions}
        return tuple(sorted(revision for revision in self.files if revision not in referred))

    @cached_property
    def next_number(self) -> int:
        """One more than the highest number a revision file name starts with."""
        numbers = [
            int(match[1]) for file in self.files.values() if (match := _NUMBER.match(file.name))
        ]
        return max(numbers, default=0) + 1

    def ancestors(self, revision: str) -> set[str]:
        """The revision and every revision it comes after."""
        seen: set[str] = set()
        pending = [revision]
        while pending:
            current = pending.pop()
            if current in seen or current not in self.files:
                continue
            seen.add(current)
            pending.extend(self.files[current].down_revisions)
        return seen

    def fork_point(self, first: str, second: str) -> str | None:
        """The newest revision both come after (``None``: they share no revision)."""
        common = self.ancestors(first) & self.ancestors(second)
        newest = [
            revision
            for revision in common
            if not any(revision in self.ancestors(other) - {other} for other in common)
        ]
        return min(newest) if newest else None

    def entries_at(self, revision: str) -> Entries:
        """The schema ``revision`` leads to, as snapshot entries: from the nearest revision
        whose schema is known, through the changes recorded on the way."""
        path = self._path_to_known(revision)
        state = self._known(path[0])
        assert state is not None
        for current, following in zip(path, path[1:], strict=False):
            state = self._step(current, following, state)
        return state

    def state_at(self, revision: str) -> Catalog:
        return catalog_from_entries(self.entries_at(revision))

    def _path_to_known(self, revision: str) -> list[str]:
        """The revisions from the nearest one with a known schema to ``revision``."""
        came_from: dict[str, str | None] = {revision: None}
        pending = deque([revision])
        while pending:
            current = pending.popleft()
            if (
                current in self.snapshots
                or self._has_legacy_state(current)
                or self._is_plain_merge(current)
            ):
                path = [current]
                while (previous := came_from[path[-1]]) is not None:
                    path.append(previous)
                return path
            for neighbour in self._neighbours(current):
                if neighbour not in came_from:
                    came_from[neighbour] = current
                    pending.append(neighbour)
        raise GenerationError(
            f"no snapshot or revision tells the schema revision {revision} leads to",
            hint="restore app/alembic/schema/ as it was generated (git checkout it)",
        )

    def _has_legacy_state(self, revision: str) -> bool:
        file = self.files.get(revision)
        return file is not None and f"\n{STATE_VARIABLE} = (" in file.text

    def _is_plain_merge(self, revision: str) -> bool:
        """A merge revision that records no changes (``alembic merge heads``)."""
        file = self.files.get(revision)
        return file is not None and len(file.down_revisions) > 1 and not file.changes

    def merged_entries(self, heads: tuple[str, ...]) -> Entries:
        """The schema the revisions ``heads`` lead to together: each one's changes since
        the revision where it forked from the first, merged (``merge_entries``)."""
        merged = self.entries_at(heads[0])
        for head in heads[1:]:
            fork = self.fork_point(heads[0], head)
            base = self.entries_at(fork) if fork is not None else {}
            merged = merge_entries(base, merged, self.entries_at(head))
        return merged

    def _known(self, revision: str) -> Entries | None:
        if revision in self.snapshots:
            return self.snapshots[revision]
        if self._is_plain_merge(revision):
            return self.merged_entries(self.files[revision].down_revisions)
        file = self.files.get(revision)
        legacy = file.legacy_state() if file is not None else None
        return entries(legacy) if legacy is not None else None

    def _neighbours(self, revision: str) -> Iterable[str]:
        """The parents and children of ``revision`` whose edge to it records its change
        (a revision written by hand records none and changes nothing)."""
        file = self.files.get(revision)
        if file is not None:
            yield from (parent for parent in file.down_revisions if _crosses(file, parent))
        for child in self._children.get(revision, ()):
            if _crosses(child, revision):
                yield child.revision

    @cached_property
    def _children(self) -> dict[str, list[RevisionFile]]:
        children: dict[str, list[RevisionFile]] = {}
        for file in self.files.values():
            for parent in file.down_revisions:
                children.setdefault(parent, []).append(file)
        return children

    def _step(self, current: str, following: str, state: Entries) -> Entries:
        """The schema at ``following``, a parent or child of ``current`` at ``state``."""
        file = self.files[current]
        if following in file.down_revisions:
            return apply_change(state, file.changes.get(following, {}), reverse=True)
        return apply_change(state, self.files[following].changes.get(current, {}))


def _crosses(file: RevisionFile, parent: str) -> bool:
    """Whether the schema at ``parent`` follows from ``file``'s and back: ``file`` records
    its change from ``parent``, or is a revision written by hand with one parent."""
    if file.changes:
        return parent in file.changes
    return len(file.down_revisions) == 1


def read_graph(
    revisions: Iterable[tuple[str, str]], snapshots: Iterable[tuple[str, str]] = ()
) -> Graph:
    files: dict[str, RevisionFile] = {}
    for name, text in revisions:
        file = read_revision_file(name, text)
        if file.revision in files:
            raise GenerationError(
                f"revisions {files[file.revision].name} and {name} have the same id "
                f"{file.revision!r}",
                hint="give one of them a new revision id, or remove it",
            )
        files[file.revision] = file
    known = dict(read_snapshot(name, text) for name, text in snapshots)
    return Graph(files, {revision: flat for revision, flat in known.items() if revision in files})


def read_revision_file(name: str, text: str) -> RevisionFile:
    try:
        values = _identifiers(text)
    except SyntaxError as error:
        raise GenerationError(
            f"revision {name} is not valid Python: {error}", hint="fix or remove it"
        ) from None
    revision = values.get("revision")
    if not isinstance(revision, str):
        raise GenerationError(f"revision {name} sets no revision id", hint="fix or remove it")
    down = values.get("down_revision")
    if down is None:
        parents: tuple[str, ...] = ()
    elif isinstance(down, str):
        parents = (down,)
    elif isinstance(down, tuple | list) and all(isinstance(item, str) for item in down):
        parents = tuple(down)
    else:
        raise GenerationError(
            f"revision {name}: down_revision must be a revision id or a tuple of them",
            hint="fix or remove it",
        )
    return RevisionFile(name, revision, parents, text)


def _identifiers(text: str) -> dict[str | None, object]:
    """``revision`` and ``down_revision`` of a revision module.

    They stand before the first function in every revision Alembic or entityforge
    writes, so only that head is parsed; the whole module when the head lacks them.
    """
    head, found, _ = text.partition("\ndef ")
    if found:
        try:
            values = _module_identifiers(ast.parse(head))
        except SyntaxError:
            values = {}
        if "revision" in values:
            return values
    return _module_identifiers(ast.parse(text))


def _module_identifiers(module: ast.Module) -> dict[str | None, object]:
    return {
        target: ast.literal_eval(value)
        for target, value in map(_assignment, module.body)
        if target in ("revision", "down_revision") and value is not None
    }


def _assignment(statement: ast.stmt) -> tuple[str | None, ast.expr | None]:
    """``(name, value)`` of a module-level ``name = value`` or ``name: type = value``."""
    if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
        return statement.target.id, statement.value
    if (
        isinstance(statement, ast.Assign)
        and len(statement.targets) == 1
        and isinstance(statement.targets[0], ast.Name)
    ):
        return statement.targets[0].id, statement.value
    return None, None


@dataclass(frozen=True)
class Start:
    """Where the next revision starts: its parents and the schema they lead to together."""

    parents: tuple[str, ...]
    state: Catalog | None
    parent_states: tuple[Catalog, ...] = ()


def next_start(graph: Graph) -> Start:
    """The parents of the next revision: the one head, or every head to merge."""
    heads = graph.heads
    if not heads:
        return Start((), None)
    states = [graph.entries_at(head) for head in heads]
    catalogs = tuple(map(catalog_from_entries, states))
    state = catalogs[0] if len(heads) == 1 else catalog_from_entries(graph.merged_entries(heads))
    return Start(heads, state, catalogs)


@lru_cache(maxsize=4)
def project_history(
    revisions: tuple[tuple[str, str], ...], snapshots: tuple[tuple[str, str], ...] = ()
) -> Graph:
    """``read_graph`` of a project's files, read once for the several stages of one
    generation that need it (table names, enum storage, the next revision)."""
    return read_graph(revisions, snapshots)


@lru_cache(maxsize=4)
def project_start(
    revisions: tuple[tuple[str, str], ...], snapshots: tuple[tuple[str, str], ...] = ()
) -> Start:
    """``next_start`` of a project's history, worked out once per generation."""
    return next_start(project_history(revisions, snapshots))


def recorded_state(
    revisions: tuple[tuple[str, str], ...], snapshots: tuple[tuple[str, str], ...] = ()
) -> Catalog | None:
    """The schema the revisions lead to (their heads' schemas merged, with several);
    None before the first revision."""
    return project_start(revisions, snapshots).state


def recorded_schema(
    revisions: tuple[tuple[str, str], ...], snapshots: tuple[tuple[str, str], ...]
) -> Catalog | None:
    """``recorded_state``, or None with a history the migrations generator reports as
    broken (it says what is wrong when it runs)."""
    try:
        return recorded_state(revisions, snapshots)
    except GenerationError:
        return None
