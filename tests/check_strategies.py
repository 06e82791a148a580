"""Hypothesis strategies: checks of the shapes real specs carry, on random specs.

``specs_with_checks()`` draws a spec from ``tests.strategies.specs`` and gives entities
extra fields and 1–4 random checks over them: comparisons between columns and with
``created_at`` or ``now()``, ``IS [NOT] NULL`` combinations, ``num_nonnulls`` and
``num_nulls``, ``BETWEEN``, ``IN``, regular expressions, ``LIKE``, ``length`` and
``octet_length``, and ``AND``/``OR``/``NOT`` of those. A drawn spec the loader refuses
(checks that contradict each other) is rejected with ``assume``; every one it accepts
must give a project whose own suite passes.
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import assume
from hypothesis import strategies as st

from entityforge import naming
from tests.spec_parts import Doc, Draw, field_type
from tests.strategies import is_valid, specs

# Fields the checks read, added beside the drawn ones (names no drawn field has).
CHECKED_FIELDS: dict[str, Doc] = {
    "starts_at": {"type": "datetime"},
    "ends_at": {"type": "datetime", "nullable": True},
    "low": {"type": "integer"},
    "high": {"type": "integer", "nullable": True},
    "price": {"type": "decimal", "precision": 10, "scale": 2},
    "discount": {"type": "decimal", "precision": 10, "scale": 2, "nullable": True},
    "code": {"type": "string", "max_length": 12},
    "slug": {"type": "string", "max_length": 40, "nullable": True},
    "color": {"type": "string", "max_length": 7},
    "born_on": {"type": "date", "nullable": True},
}
PATTERNS = ("^[a-z0-9-]+$", "^[A-Z]{2,4}-[0-9]{3}$", "^#[0-9a-fA-F]{6}$", "^[[:alpha:]]+$")


def _q(name: str) -> str:
    return naming.quote_identifier(name)


def _atoms(fields: dict[str, Any], timestamps: bool) -> list[st.SearchStrategy[str]]:
    """Single conditions over the entity's fields."""
    by_kind: dict[str, list[str]] = {}
    for name, spec in sorted(fields.items()):
        by_kind.setdefault(field_type(spec), []).append(name)
    numbers = by_kind.get("integer", []) + by_kind.get("decimal", [])
    moments = by_kind.get("datetime", [])
    texts = [name for name in by_kind.get("string", []) if name in CHECKED_FIELDS]
    nullable = sorted(n for n, s in fields.items() if isinstance(s, dict) and s.get("nullable"))
    atoms: list[st.SearchStrategy[str]] = []
    ops = st.sampled_from(["<", "<=", ">", ">="])
    if len(numbers) > 1:
        pair = st.lists(st.sampled_from(numbers), min_size=2, max_size=2, unique=True)
        atoms.append(st.tuples(pair, ops).map(lambda p: f"{_q(p[0][0])} {p[1]} {_q(p[0][1])}"))
    if numbers:
        number = st.sampled_from(numbers)
        atoms.append(number.map(lambda n: f"{_q(n)} BETWEEN 0 AND 1000"))
        atoms.append(number.map(lambda n: f"{_q(n)} IN (1, 2, 3, 5, 8)"))
        atoms.append(number.map(lambda n: f"NOT ({_q(n)} < 0)"))
    if len(moments) > 1:
        pair = st.lists(st.sampled_from(moments), min_size=2, max_size=2, unique=True)
        atoms.append(pair.map(lambda p: f"{_q(p[0])} IS NULL OR {_q(p[1])} >= {_q(p[0])}"))
    if moments and timestamps:
        atoms.append(st.sampled_from(moments).map(lambda m: f"{_q(m)} > created_at"))
    if moments:
        atoms.append(st.sampled_from(moments).map(lambda m: f"{_q(m)} > now() - interval '1 day'"))
    if "born_on" in fields:
        atoms.append(st.just("born_on <= CURRENT_DATE"))
    if len(nullable) > 1:
        pair = st.lists(st.sampled_from(nullable), min_size=2, max_size=2, unique=True)
        atoms.append(pair.map(lambda p: f"{_q(p[0])} IS NOT NULL OR {_q(p[1])} IS NOT NULL"))
        atoms.append(pair.map(lambda p: f"num_nonnulls({_q(p[0])}, {_q(p[1])}) <= 1"))
        atoms.append(pair.map(lambda p: f"num_nulls({_q(p[0])}, {_q(p[1])}) >= 1"))
    if texts:
        text = st.sampled_from(texts)
        pattern = st.tuples(text, st.sampled_from(PATTERNS))
        atoms.append(pattern.map(lambda p: f"{_q(p[0])} ~ '{p[1]}'"))
        atoms.append(text.map(lambda t: f"length({_q(t)}) >= 2"))
        atoms.append(text.map(lambda t: f"octet_length({_q(t)}) <= 40"))
        atoms.append(text.map(lambda t: f"{_q(t)} = lower({_q(t)})"))
        atoms.append(text.map(lambda t: f"{_q(t)} LIKE '%-%' OR {_q(t)} IS NULL"))
    return atoms


@st.composite
def check_expression(draw: Draw, fields: dict[str, Any], timestamps: bool) -> str | None:
    atoms = _atoms(fields, timestamps)
    if not atoms:
        return None
    first = draw(st.one_of(atoms))
    shape = draw(st.integers(0, 3))
    if shape == 0:
        return first
    second = draw(st.one_of(atoms))
    if shape == 1:
        return f"({first}) AND ({second})"
    if shape == 2:
        return f"({first}) OR ({second})"
    return f"NOT (({first}) AND NOT ({second}))"


@st.composite
def specs_with_checks(draw: Draw) -> Doc:
    """A valid spec whose entities carry random realistic checks."""
    doc = copy.deepcopy(draw(specs()))
    tenant = (doc.get("tenancy") or {}).get("entity")
    defaults = doc.get("defaults") or {}
    for name, entity in doc["entities"].items():
        if name == tenant or draw(st.integers(0, 2)) == 0:
            continue
        fields = entity.setdefault("fields", {})
        taken = set(fields) | set(entity.get("relations") or {})
        extra = draw(
            st.lists(st.sampled_from(sorted(CHECKED_FIELDS)), min_size=2, max_size=5, unique=True)
        )
        fields.update({f: dict(CHECKED_FIELDS[f]) for f in extra if f not in taken})
        timestamps = entity.get("timestamps", defaults.get("timestamps", True))
        checks = []
        for number in range(draw(st.integers(1, 4))):
            expression = draw(check_expression(fields, timestamps))
            if expression is not None:
                checks.append({"name": f"rule_{number}", "expression": expression})
        if checks:
            entity["checks"] = [*entity.get("checks", []), *checks]
    assume(is_valid(doc))
    return doc
