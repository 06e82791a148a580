"""Three-way merge of a generated file: what was generated, what is on disk, what is new."""

from __future__ import annotations

from dataclasses import dataclass

from merge3 import Merge3


@dataclass(frozen=True)
class MergeResult:
    text: str
    conflicted: bool


def merge_generated(base: str, edited: str, generated: str) -> MergeResult:
    """Carry the hand edits (``base`` → ``edited``) over to the new ``generated`` text.

    Conflicting regions are left with markers, as ``git merge-file`` leaves them.
    """
    merge = Merge3(
        base.splitlines(keepends=True),
        edited.splitlines(keepends=True),
        generated.splitlines(keepends=True),
    )
    conflicted = any(group[0] == "conflict" for group in merge.merge_groups())
    lines = merge.merge_lines(
        name_a="your edits",
        name_b="generated",
        start_marker="<<<<<<<",
        mid_marker="=======",
        end_marker=">>>>>>>",
    )
    return MergeResult("".join(lines), conflicted)
