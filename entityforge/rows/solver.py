"""A small constraint solver: one source per column so that every row keeps every check.

The columns the checks read (and the unique columns, which need fresh values) are
chosen one after another, each from its candidates, backtracking when a check whose
columns are all chosen refuses the row. A family of values (a unique column's) must keep
the checks with each of its samples. The same search finds, for one check, a row that
breaks exactly that check and keeps all the others: the row a check test inserts.
The search is deterministic, and bounded; ``NoRow`` says which check it could not keep.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice

from pglast import ast

from entityforge.parse_tree import column_name
from entityforge.rows.candidates import (
    CHOICE_TYPES,
    MOMENT_TYPES,
    NUMBER_TYPES,
    TEXT_TYPES,
    ColumnSpec,
    check_facts,
    derived_candidates,
    family_candidates,
    literal_candidates,
)
from entityforge.rows.evaluate import Unsupported, evaluate, parse_check, walk
from entityforge.rows.sources import Fixed, RangeFamily, Source, Varying
from entityforge.rows.values import NOW
from entityforge.schema import RANGE_ELEMENTS

# Kinds of unique column a family of values exists for; other unique columns keep
# polyfactory's random values unless a check reads them.
FAMILY_KINDS = NUMBER_TYPES | TEXT_TYPES | CHOICE_TYPES | MOMENT_TYPES
# Check evaluations one search may spend before it gives up.
BUDGET = 20_000


@dataclass(frozen=True)
class TableChecks:
    """A table's checks as ``(name, expression)``, its columns, and the ones it fills.

    ``filled`` maps the columns the database or the session fills (``created_at``,
    ``deleted_at``, ``id``) to the values they take during a test run.
    """

    checks: tuple[tuple[str, str], ...]
    columns: tuple[ColumnSpec, ...]
    filled: tuple[tuple[str, tuple[object, ...]], ...] = ()
    trusted: tuple[str, ...] = ()


@dataclass(frozen=True)
class Row:
    """The source of each column the solver chose, in the table's column order."""

    sources: tuple[tuple[str, Source], ...]

    def get(self, column: str) -> Source | None:
        return dict(self.sources).get(column)


@dataclass(frozen=True)
class NoRow:
    """No row was found; ``check`` is the first check the search could not keep."""

    check: str
    reason: str


def check_columns(expression: str) -> tuple[str, ...]:
    names = (column_name(n) for n in walk(parse_check(expression)) if isinstance(n, ast.ColumnRef))
    return tuple(dict.fromkeys(names))


@lru_cache(maxsize=512)
def solve(table: TableChecks, violate: str | None = None) -> Row | NoRow:
    """A row keeping every check, or (``violate``) breaking that check alone."""
    search = _Search(table, violate)
    if search.run():
        return Row(tuple(search.chosen.items()))
    return _blame(table, violate, search)


def _blame(table: TableChecks, violate: str | None, failed: _Search) -> NoRow:
    """The first check that, added to those before it, leaves no row."""
    for count in range(1, len(table.checks) + 1):
        prefix = TableChecks(table.checks[:count], table.columns, table.filled, table.trusted)
        names = {name for name, _ in prefix.checks}
        if violate is not None and violate not in names:
            continue
        if not _Search(prefix, violate).run():
            name = table.checks[count - 1][0]
            return NoRow(name, failed.reasons.get(name, "every row tried breaks it"))
    name = violate or (table.checks[-1][0] if table.checks else "")
    return NoRow(name, failed.reasons.get(name, "no value of a unique column fits its type"))


class _Search:
    def __init__(self, table: TableChecks, violate: str | None) -> None:
        self.table = table
        self.violate = violate
        self.columns = {column.name: column for column in table.columns}
        self.expressions = {name: expression for name, expression in table.checks}
        self.facts = check_facts([expression for _, expression in table.checks])
        self.reads = {name: check_columns(expr) for name, expr in table.checks}
        self.chosen: dict[str, Source] = {}
        filled = dict(table.filled)
        if violate is not None:
            filled = {name: values[:1] for name, values in filled.items()}
        for name, values in filled.items():
            self.chosen[name] = Varying(values) if len(values) > 1 else Fixed(values[0])
        self.order = self._order()
        self.ready = self._ready()
        self.spent = 0
        self.reasons: dict[str, str] = {}

    def _order(self) -> list[str]:
        """Columns in the order the checks name them; unique ones without checks last."""
        read = [column for name in self.reads for column in self.reads[name]]
        named = [c for c in dict.fromkeys(read) if c in self.columns and c not in self.chosen]
        named += [
            c.name
            for c in self.table.columns
            if c.unique and c.kind in FAMILY_KINDS and c.name not in named
        ]
        return named

    def _ready(self) -> dict[int, list[str]]:
        """Checks by the position of the last column they need (-1: none)."""
        ready: dict[int, list[str]] = {}
        for name, columns in self.reads.items():
            if name in self.table.trusted and name != self.violate:
                continue
            positions = [self.order.index(c) for c in columns if c in self.order]
            ready.setdefault(max(positions, default=-1), []).append(name)
        return ready

    def run(self) -> bool:
        return self._keeps(self.ready.get(-1, [])) and self._choose(0)

    def _choose(self, position: int) -> bool:
        if position == len(self.order):
            return True
        name = self.order[position]
        for source in self._candidates(self.columns[name]):
            if self.spent > BUDGET:
                return False
            self.chosen[name] = source
            if self._keeps(self.ready.get(position, [])) and self._choose(position + 1):
                return True
            del self.chosen[name]
        return False

    def _candidates(self, column: ColumnSpec) -> list[Source]:
        row = {name: source.samples()[0] for name, source in self.chosen.items()}
        expressions = [expr for name, expr in self.table.checks if column.name in self.reads[name]]
        derived = derived_candidates(column, expressions, row)
        if column.kind in RANGE_ELEMENTS:
            # A range column is always the factory's run of ranges.
            return [RangeFamily(column.kind)]
        family = column.unique and column.kind in FAMILY_KINDS and not column.examples
        if family and self.violate is None:
            return family_candidates(column, self.facts, derived)
        return [Fixed(value) for value in literal_candidates(column, self.facts, derived)]

    def _keeps(self, checks: list[str]) -> bool:
        return all(self._keeps_one(name) for name in checks)

    def _keeps_one(self, name: str) -> bool:
        node = parse_check(self.expressions[name])
        for row in self._rows(self.reads[name]):
            self.spent += 1
            try:
                result = evaluate(node, row)
            except Unsupported as error:
                self.reasons[name] = f"the factories cannot compute {error}"
                return False
            if (result is False) != (name == self.violate):
                return False
        return True

    def _rows(self, columns: tuple[str, ...]) -> list[Mapping[str, object]]:
        """The rows to try: each family's samples in turn, the others at their value."""
        samples = {column: self.chosen[column].samples() for column in columns}
        longest = max((len(values) for values in samples.values()), default=1)
        return [
            {column: values[index % len(values)] for column, values in samples.items()}
            for index in islice(range(longest), 64)
        ]


def filled_values(soft_delete: bool, timestamps: bool) -> dict[str, tuple[object, ...]]:
    """What the database's own columns hold while a generated test runs."""
    values: dict[str, tuple[object, ...]] = {}
    if timestamps:
        values |= {"created_at": (NOW,), "updated_at": (NOW,)}
    if soft_delete:
        values["deleted_at"] = (None, NOW)
    return values
