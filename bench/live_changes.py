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
)
VOLATILE = (
    "      body: {type: text, renamed_from: note}\n",
    "      body: {type: text, renamed_from: note}\n"
    '      token: {type: uuid, default_sql: "gen_random_uuid()"}\n',
)
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
VOLATILE_CHANGE = Change(
    "required column (volatile default)",
    CHANGES[-1].after,
    CHANGES[-1].after.replace(*VOLATILE, 1),
)
KILLS = tuple((change, KILL_STEPS[change.name]) for change in CHANGES if change.name in KILL_STEPS)
