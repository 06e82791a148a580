"""Where a factory takes a column's value from: one literal, or a family of fresh values.

A unique column needs a new value in every row, so its source is a family (letters
counting up, numbers counting up, strings drawn from a pattern); every other column the
checks read gets one literal. ``samples`` are values the family produces, which the
solver checks against every check before choosing the family.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from entityforge.rows.patterns import draw, drawing_regex
from entityforge.rows.values import Moment, RangeValue

# How many of a family's values the solver checks before trusting it.
SAMPLES = 40
ALPHABETS = {
    "lower": "abcdefghijklmnopqrstuvwxyz",
    "upper": "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "digits": "0123456789",
    # For columns one character wide: 574 characters, so a suite does not run out.
    "wide": "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    + "".join(chr(code) for code in range(0x4E00, 0x5000)),
}
# Columns this narrow try the wide alphabet first (26 letters would run out).
NARROW = 1


@dataclass(frozen=True)
class Fixed:
    """The same value in every row."""

    value: object

    def samples(self) -> tuple[object, ...]:
        return (self.value,)


@dataclass(frozen=True)
class Varying:
    """Values the database or the session chooses (``deleted_at``): any of ``values``."""

    values: tuple[object, ...]

    def samples(self) -> tuple[object, ...]:
        return self.values


@dataclass(frozen=True)
class UniqueText:
    """``width`` characters of ``alphabet``, counting up: never the same twice in a run."""

    width: int
    alphabet: str

    def samples(self) -> tuple[object, ...]:
        numbers = [*range(1, SAMPLES), 10**6]
        found = (serial_text(n, self.width, ALPHABETS[self.alphabet]) for n in numbers)
        return tuple(text for text in found if text is not None)


def serial_text(number: int, width: int, letters: str) -> str | None:
    """The ``number``-th text of ``width`` characters of ``letters`` (None if none is)."""
    text = ""
    while number:
        number, digit = divmod(number, len(letters))
        text = letters[digit] + text
    return None if len(text) > width else text.rjust(width, letters[0])


@dataclass(frozen=True)
class PatternText:
    """Strings drawn from a regular expression (``regex`` is already spelled for drawing)."""

    regex: str
    max_length: int | None

    @classmethod
    def of(cls, pattern: str, max_length: int | None) -> PatternText:
        return cls(drawing_regex(pattern), max_length)

    def samples(self) -> tuple[object, ...]:
        drawn = (draw_within(self.regex, self.max_length, seed) for seed in range(SAMPLES))
        return tuple(text for text in drawn if text is not None)


def draw_within(regex: str, max_length: int | None, seed: int) -> str | None:
    """A string drawn from ``regex`` that fits ``max_length``, trying a few draws."""
    for attempt in range(10):
        text = draw(regex, seed * 10 + attempt)
        if max_length is None or len(text) <= max_length:
            return text
    return None


@dataclass(frozen=True)
class UniqueNumber:
    """``start``, ``start + 1``, ...: never the same twice in a run."""

    start: Decimal

    def samples(self) -> tuple[object, ...]:
        return tuple(self.start + step for step in (0, 1, 2, 10, 100))


@dataclass(frozen=True)
class UniqueChoice:
    """The values of a small domain (enum labels, booleans) in turn: rows made one after
    another differ while there are values left, which is all a unique key over them
    allows."""

    values: tuple[object, ...]

    def samples(self) -> tuple[object, ...]:
        return self.values


@dataclass(frozen=True)
class UniqueMoment:
    """``start``, then a ``step`` (a minute, or a day for dates) later each row."""

    start: Moment
    step: Fraction

    def samples(self) -> tuple[object, ...]:
        return tuple(Moment(self.start.days + k * self.step) for k in (0, 1, 2, 10, 100))


@dataclass(frozen=True)
class RangeFamily:
    """The ranges a factory writes for a range column (``kind``, the field type): the
    n-th row's is ``[2n, 2n + 1)`` hours from the run's start, days from its first day,
    or numbers, so that none overlap or touch."""

    kind: str

    def samples(self) -> tuple[object, ...]:
        step = _RANGE_STEPS.get(self.kind)
        starts = (2 * k for k in (0, 1, 2, 10, 100))
        if step is None:
            return tuple(RangeValue(Decimal(n), Decimal(n + 1)) for n in starts)
        return tuple(RangeValue(Moment(n * step), Moment((n + 1) * step)) for n in starts)


# The unit of a range of moments, in days.
_RANGE_STEPS = {"tstzrange": Fraction(1, 24), "daterange": Fraction(1)}

Source = (
    Fixed
    | Varying
    | UniqueText
    | PatternText
    | UniqueNumber
    | UniqueChoice
    | UniqueMoment
    | RangeFamily
)
