"""Synthetic specs for the benchmarks: N entities, 8–12 fields, 2–3 relations, indexes, tenancy.

Deterministic for a given N (a seeded random generator), so every run measures the same
input. ``python bench/synthetic.py 200 > entities.yaml`` writes one.
"""

from __future__ import annotations

import random
import sys

FIELD_TYPES = (
    "string(120)",
    "text",
    "integer",
    "bigint",
    "decimal(12,2)",
    "boolean",
    "datetime",
    "date",
    "uuid",
    "json",
)


def entity_name(index: int) -> str:
    return f"Entity{index:04d}"


def synthetic_spec(count: int, seed: int = 7) -> str:
    """The YAML text of a spec with ``count`` tenant-scoped entities and one tenant."""
    rng = random.Random(seed)
    lines = [
        "version: 1",
        "tenancy:",
        "  entity: Account",
        "entities:",
        "  Account:",
        "    fields:",
        "      name: string(200)",
    ]
    for index in range(count):
        lines += _entity_lines(index, rng)
    return "\n".join(lines) + "\n"


def _entity_lines(index: int, rng: random.Random) -> list[str]:
    lines = [f"  {entity_name(index)}:"]
    if index % 5 == 0:
        lines.append("    soft_delete: true")
    lines.append("    fields:")
    field_count = rng.randint(8, 12)
    for number in range(field_count):
        kind = FIELD_TYPES[(index + number) % len(FIELD_TYPES)]
        options = ["nullable: true"] if number % 3 == 0 else []
        if number == 1 and kind.startswith("string"):
            options.append("unique: true")
        if number == 2 and kind in ("integer", "bigint", "datetime", "date"):
            options.append("index: true")
        if kind == "json" and number % 2 == 0:
            options.append("index: gin")
        if options:
            quoted = f'"{kind}"' if "," in kind else kind
            lines.append(f"      field_{number}: {{type: {quoted}, {', '.join(options)}}}")
        else:
            lines.append(f"      field_{number}: {kind}")
    lines.append("      status: {type: enum, values: [new, active, closed], default: new}")
    if index > 0:
        lines.append("    relations:")
        for number in range(rng.randint(2, 3)):
            target = entity_name(rng.randrange(index))
            nullable = "nullable: true, on_delete: set_null" if number else "on_delete: cascade"
            lines.append(
                f"      link_{number}: {{kind: many_to_one, target: {target}, {nullable}}}"
            )
    lines.append("    indexes:")
    lines.append("      - {columns: [status, created_at]}")
    return lines


if __name__ == "__main__":
    sys.stdout.write(synthetic_spec(int(sys.argv[1]) if len(sys.argv) > 1 else 200))
