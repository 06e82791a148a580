"""``memo.by_identity``: one call per object and argument values, never a stale result."""

from __future__ import annotations

from dataclasses import dataclass

from entityforge.memo import by_identity


@dataclass(frozen=True)
class Thing:
    name: str


def test_results_are_kept_per_object_and_per_value() -> None:
    calls: list[tuple[str, str]] = []

    @by_identity
    def label(thing: Thing, suffix: str) -> str:
        calls.append((thing.name, suffix))
        return thing.name + suffix

    first, equal = Thing("a"), Thing("a")
    assert label(first, "!") == label(first, "!") == "a!"
    assert label(first, "?") == "a?"
    # An equal but distinct object is computed on its own: identity is the key.
    assert label(equal, "!") == "a!"
    assert calls == [("a", "!"), ("a", "?"), ("a", "!")]


def test_an_identity_is_not_mistaken_for_a_later_object() -> None:
    @by_identity
    def name(thing: Thing) -> str:
        return thing.name

    # Each Thing is dropped at once; the memo keeps it alive, so ids are not reused.
    assert [name(Thing(str(n))) for n in range(1000)] == [str(n) for n in range(1000)]
