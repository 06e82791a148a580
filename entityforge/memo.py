"""Memos of pure functions over the immutable objects of one generation.

The schema, the catalog and their entities, tables and columns are frozen and live for a
whole generation, and many views of them are asked for again by each generator. A frozen
dataclass hashes every field, deeply, on every call, so ``functools.cache`` would spend
more on its keys than many of these functions cost: ``by_identity`` keys objects by
identity (and strings, numbers and ``None`` by value), keeping each argument alive while
its result is kept, so that an identity is never mistaken for a later object's.
``forget`` lets every memo go: the pipeline calls it when a generation ends.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")
# Results kept per function; the memo starts again when it is full.
LIMIT = 16384
_SCALARS = (str, int, float, type(None))
_MEMOS: list[dict[tuple[object, ...], object]] = []


def forget() -> None:
    """Drop every kept result (and with them the objects they were computed from)."""
    for kept in _MEMOS:
        kept.clear()


def by_identity(function: Callable[P, R]) -> Callable[P, R]:
    """``function`` (positional arguments only), remembering its results."""
    kept: dict[tuple[object, ...], tuple[tuple[object, ...], R]] = {}
    _MEMOS.append(kept)  # type: ignore[arg-type]

    @functools.wraps(function)
    def memoized(*args: P.args, **kwargs: P.kwargs) -> R:
        if kwargs:
            return function(*args, **kwargs)
        key = tuple((type(arg), arg) if isinstance(arg, _SCALARS) else id(arg) for arg in args)
        found = kept.get(key)
        if found is not None and all(
            a is b or isinstance(b, _SCALARS) for a, b in zip(found[0], args, strict=True)
        ):
            return found[1]
        result = function(*args, **kwargs)
        if len(kept) >= LIMIT:
            kept.clear()
        kept[key] = (args, result)
        return result

    return memoized
