"""Collecting spec errors: problems found before their position is known, did-you-mean."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from entityforge.errors import SpecError, SpecErrors

if TYPE_CHECKING:
    from entityforge.spec.document import DocPath, Document


class Problem(SpecError):
    """A spec problem found where no position is known yet: a ``SpecError`` whose caller
    gives it its place (``located``).

    ``at`` is a path relative to whatever the caller was checking; ``on_key`` says
    whether to point at that key rather than at its value.
    """

    def __init__(
        self, message: str, hint: str | None = None, at: DocPath = (), on_key: bool = False
    ) -> None:
        super().__init__(message, hint=hint)
        self.at = at
        self.on_key = on_key

    def located(self, document: Document, base: DocPath) -> SpecError:
        """This problem as a ``SpecError`` at ``base`` + ``at`` in ``document``."""
        path = base + self.at
        locate = document.key_location if self.on_key else document.value_location
        return SpecError(self.message, locate(path), hint=self.hint)


class Issues:
    """The errors found so far while building from ``document``."""

    def __init__(self, document: Document) -> None:
        self.document = document
        self.errors: list[SpecError] = []

    def at_value(self, path: DocPath, message: str, hint: str | None = None) -> None:
        self.errors.append(SpecError(message, self.document.value_location(path), hint=hint))

    def at_key(self, path: DocPath, message: str, hint: str | None = None) -> None:
        self.errors.append(SpecError(message, self.document.key_location(path), hint=hint))

    def add(self, problem: Problem, base: DocPath) -> None:
        self.errors.append(problem.located(self.document, base))

    def raise_if_any(self) -> None:
        raise_collected(self.errors)


def raise_collected(errors: list[SpecError]) -> None:
    """Raise the errors found, if any, in file order: one as itself, several together."""
    if errors:
        raise combine_errors(errors)


def combine_errors(errors: list[SpecError]) -> SpecError | SpecErrors:
    """One error as itself, several (sorted by position) as ``SpecErrors``."""
    ordered = sorted(errors, key=_error_order)
    return ordered[0] if len(ordered) == 1 else SpecErrors(ordered)


def _error_order(error: SpecError) -> tuple[int, int]:
    location = error.location
    return (location.line, location.column) if location else (0, 0)


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """``did you mean 'x'?`` for the closest candidate, if one is close enough."""
    close = difflib.get_close_matches(word, sorted(set(candidates)), n=1)
    if not close:
        folded = {candidate.lower(): candidate for candidate in candidates}
        close = [folded[word.lower()]] if word.lower() in folded else []
    return f"did you mean '{close[0]}'?" if close else None


def show_value(value: Any) -> str:
    """How a value from the spec reads in a message: YAML spelling, cut when long."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
