"""Figures the benchmarks report: a value beside its target and its anchor.

A figure's ``target`` is a predicate over its value (``≤ 3 s``, ``≥ 20×``); its anchor
is what a user would use instead, or what the value is compared with. ``time_best``
times a function several times and keeps the best and median run: on a shared
two-core machine the best run is the least disturbed one.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Target:
    """``value <op> bound``: ``le`` (at most) or ``ge`` (at least)."""

    op: str
    bound: float

    def met(self, value: float) -> bool:
        return value <= self.bound if self.op == "le" else value >= self.bound

    def describe(self, unit: str) -> str:
        sign = "≤" if self.op == "le" else "≥"
        return f"{sign} {_number(self.bound)}{unit}"


@dataclass(frozen=True)
class Figure:
    section: str
    name: str
    value: float
    unit: str
    target: Target | None = None
    anchor: str = ""
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def met(self) -> bool | None:
        return None if self.target is None else self.target.met(self.value)

    def row(self) -> tuple[str, str, str, str, str]:
        target = self.target.describe(self.unit) if self.target else "—"
        met = {None: "", True: "yes", False: "NO"}[self.met]
        return (self.name, f"{_number(self.value)}{self.unit}", target, self.anchor, met)


def _number(value: float) -> str:
    if value == 0 or abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    if abs(value) >= 0.01:
        return f"{value:.3g}" if abs(value) < 1 else f"{value:.2f}"
    return f"{value:.2g}"


@dataclass(frozen=True)
class Timing:
    best: float
    median: float
    runs: int


def time_best(function: Callable[[], Any], runs: int) -> Timing:
    """Run ``function`` ``runs`` times; the best and the median wall time, in seconds."""
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return Timing(min(samples), statistics.median(samples), runs)


def print_table(figures: list[Figure], out: Callable[[str], None] = print) -> None:
    """The figures as an aligned table, one section after another."""
    header = ("figure", "value", "target", "anchor", "met")
    for section in dict.fromkeys(figure.section for figure in figures):
        rows = [header] + [figure.row() for figure in figures if figure.section == section]
        widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
        out(f"\n## {section}")
        for number, row in enumerate(rows):
            out("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
            if number == 0:
                out("  ".join("-" * width for width in widths))


def markdown_table(figures: list[Figure]) -> str:
    lines = ["| figure | value | target | anchor | met |", "| --- | --- | --- | --- | --- |"]
    for figure in figures:
        cells = [cell.replace("|", "\\|") for cell in figure.row()]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def save(figures: list[Figure], path: Path, machine: dict[str, Any]) -> None:
    document = {"machine": machine, "figures": [asdict(figure) for figure in figures]}
    path.write_text(json.dumps(document, indent=1, default=str) + "\n", encoding="utf-8")


def load(path: Path) -> tuple[dict[str, Any], list[Figure]]:
    document = json.loads(path.read_text(encoding="utf-8"))
    figures = []
    for item in document["figures"]:
        target = Target(**item["target"]) if item["target"] else None
        figures.append(Figure(**{**item, "target": target}))
    return document["machine"], figures


if __name__ == "__main__":
    import sys

    _, saved = load(Path(sys.argv[1]))
    for section in dict.fromkeys(figure.section for figure in saved):
        print(f"\n### {section}\n")
        print(markdown_table([figure for figure in saved if figure.section == section]))
