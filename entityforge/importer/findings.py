"""What an import could not express, or expressed with a change, each with a hint.

Nothing the database holds is dropped silently: every object the spec cannot carry,
and every decision that changes what the generated schema will hold, is a finding.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Outcome = Literal["not imported", "changed"]


@dataclass(frozen=True)
class Finding:
    """``subject`` names the object (``table orders``, ``column orders.total``)."""

    subject: str
    what: str
    hint: str
    outcome: Outcome = "not imported"

    def line(self) -> str:
        return f"{self.outcome}: {self.subject}: {self.what} (hint: {self.hint})"


def render_report(findings: tuple[Finding, ...]) -> str:
    """The report the CLI prints: grouped by outcome, in a fixed order."""
    if not findings:
        return "everything in the database is expressed in the spec\n"
    lines = []
    for outcome in ("not imported", "changed"):
        chosen = [f for f in findings if f.outcome == outcome]
        if not chosen:
            continue
        lines.append(f"{outcome} ({len(chosen)}):")
        for finding in chosen:
            lines.append(f"  {finding.subject}: {finding.what}")
            lines.append(f"      hint: {finding.hint}")
    return "\n".join(lines) + "\n"
