"""The values the solver reasons about, beside plain numbers, strings and booleans.

Time is counted in days from the moment a generated test run starts (``Moment``): the
factories write that moment plus a whole number of days, and the database's ``now()``
during the run is a little later than the start, well within a day, which ``NOW``
stands for. Values the solver cannot compute with (a json document, a parent row's
key) are ``Opaque``: not null, and nothing else is known about them.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction


@dataclass(frozen=True, order=True)
class Moment:
    """A point in time, in days after the run's start (``date`` values at midnight)."""

    days: Fraction


@dataclass(frozen=True, order=True)
class Interval:
    """A length of time in days."""

    days: Fraction


@dataclass(frozen=True)
class RangeValue:
    """A non-empty range ``[lower, upper)`` of finite bounds (moments or numbers)."""

    lower: object
    upper: object


@dataclass(frozen=True)
class Opaque:
    """A value that is not null and that nothing can be computed from."""

    what: str


# ``now()``, ``CURRENT_TIMESTAMP`` and a row's ``created_at`` during a test run.
NOW = Moment(Fraction(1, 2))
# ``CURRENT_DATE`` during a test run.
TODAY = Moment(Fraction(0))
# A required parent row's key: the factory inserts the parent.
PARENT = Opaque("a parent row")

Value = None | bool | Decimal | str | Moment | Interval | RangeValue | Opaque | object
