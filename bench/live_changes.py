"""The spec changes the live-migration harness applies, one revision each, in order."""

from __future__ import annotations

from dataclasses import dataclass

SPEC = """\
version: 1
tenancy: {entity: Account}
entities:
  Account:
    fields:
      name: string(100)
  Parent:
    fields:
      name: string(100)
  Event:
    fields:
      ref: string(40)
      title: string(100)
      status: {type: enum, values: [open, closed], default: open}
      qty: {type: integer, default: 0}
      note: {type: text, nullable: true}
"""
ROLES = ("app_writer", "app_admin")

PARENT = "      parent: {kind: many_to_one, target: Parent, nullable: true, on_delete: set_null}\n"
# (name, text replaced, replacement[, generate's flags]); each applies to the spec the
# previous one left.
EDITS: tuple[tuple[str, str, str] | tuple[str, str, str, tuple[str, ...]], ...] = (
    (
        "add column",
        "      note: {type: text, nullable: true}\n",
        "      note: {type: text, nullable: true}\n      extra: {type: text, nullable: true}\n",
    ),
    (
        "required column (default)",
        "      extra: {type: text, nullable: true}\n",
        "      extra: {type: text, nullable: true}\n      score: {type: integer, default: 0}\n",
    ),
    (
        "index",
        "      title: string(100)\n",
        "      title: {type: string, max_length: 100, index: true}\n",
    ),
    (
        "unique",
        "      ref: string(40)\n",
        "      ref: {type: string, max_length: 40, unique: true}\n",
    ),
    (
        "check",
        "      qty: {type: integer, default: 0}\n",
        '      qty: {type: integer, default: 0, check: "qty >= 0"}\n',
    ),
    (
        "foreign key",
        "      score: {type: integer, default: 0}\n",
        "      score: {type: integer, default: 0}\n    relations:\n"
        "      parent: {kind: many_to_one, target: Parent, nullable: true, on_delete: set_null}\n",
    ),
    ("enum value", "values: [open, closed]", "values: [open, closed, archived]"),
    (
        "rename",
        "      title: {type: string, max_length: 100, index: true}\n",
        "      headline: {type: string, max_length: 100, index: true, renamed_from: title}\n",
    ),
    ("widen", "max_length: 40, unique: true", "max_length: 80, unique: true"),
    ("make required", "      note: {type: text, nullable: true}\n", "      note: text\n"),
    (
        "rename in two steps: expand",
        "      note: text\n",
        "      body: {type: text, renamed_from: note}\n",
        ("--expand",),
    ),
    (
        "rename in two steps: contract",
        "      body: {type: text, renamed_from: note}\n",
        "      body: {type: text, renamed_from: note}\n",
        ("--contract",),
    ),
    (
        "expression index",
        PARENT,
        PARENT + '    indexes:\n      - {expressions: ["lower(headline)"]}\n',
    ),
    (
        "covering index",
        '      - {expressions: ["lower(headline)"]}\n',
        '      - {expressions: ["lower(headline)"]}\n'
        "      - {columns: [status], include: [qty]}\n",
    ),
    (
        "restrictive policy",
        "      - {columns: [status], include: [qty]}\n",
        "      - {columns: [status], include: [qty]}\n"
        "    policies:\n"
        "      - {name: not_archived, for: update, using: \"status <> 'archived'\"}\n",
    ),
)
LAST = "      body: {type: text, renamed_from: note}\n"
# Changes generate refuses on a table with rows (each rewrites it), from the last spec.
REWRITING = {
    "required column (volatile default)": (
        LAST,
        LAST + '      token: {type: uuid, default_sql: "gen_random_uuid()"}\n',
    ),
    "generated column": (LAST, LAST + '      ref_key: {type: text, generated: "lower(ref)"}\n'),
    "full-text search": (
        "    policies:\n",
        "    search: {fields: {headline: A, body: B}, language: english}\n    policies:\n",
    ),
    "exclusion constraint": (
        "    policies:\n",
        '    exclude:\n      - {name: one_ref_per_status, elements: [[ref, "="], [status, "="]]}\n'
        "    policies:\n",
    ),
}
KILL_STEPS = {
    "index": "CREATE INDEX CONCURRENTLY",
    "unique": "CREATE UNIQUE INDEX CONCURRENTLY",
    "check": "VALIDATE CONSTRAINT",
    "foreign key": "VALIDATE CONSTRAINT",
    "make required": "VALIDATE CONSTRAINT",
    "rename in two steps: expand": "WITH batch AS",
}


@dataclass(frozen=True)
class Change:
    name: str
    before: str
    after: str
    flags: tuple[str, ...] = ()
    roles: tuple[str, str] = ROLES


def _changes() -> tuple[Change, ...]:
    changes = []
    spec = SPEC
    for name, old, new, *flags in EDITS:
        if old not in spec:
            raise ValueError(f"{name}: {old!r} is not in the spec")
        changes.append(Change(name, spec, spec.replace(old, new, 1), *flags))
        spec = changes[-1].after
    return tuple(changes)


CHANGES = _changes()
REWRITING_CHANGES = tuple(
    Change(name, CHANGES[-1].after, CHANGES[-1].after.replace(old, new, 1))
    for name, (old, new) in REWRITING.items()
)
KILLS = tuple((change, KILL_STEPS[change.name]) for change in CHANGES if change.name in KILL_STEPS)
