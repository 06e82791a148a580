"""An entity being imported: the spec mapping so far, comments, findings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from entityforge.importer.findings import Finding, Outcome
from entityforge.importer.live import LiveTable

Path = tuple[str | int, ...]


@dataclass
class EntityDraft:
    """An entity being imported: its spec mapping, comments by path, and findings."""

    name: str
    table: LiveTable
    scoped: bool
    tenant_column: str | None = None
    doc: dict[str, Any] = field(default_factory=dict)
    notes: dict[Path, str] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    def note(self, path: Path, text: str) -> None:
        self.notes[path] = f"{self.notes[path]}; {text}" if path in self.notes else text

    def find(self, subject: str, what: str, hint: str, outcome: Outcome = "not imported") -> None:
        self.findings.append(Finding(subject, what, hint, outcome))

    @property
    def lead(self) -> tuple[str, ...]:
        return (self.tenant_column,) if self.scoped and self.tenant_column else ()


def renamed(draft: EntityDraft, kind: str, name: str) -> None:
    """A finding: the object's name is not the one the convention gives it."""
    draft.find(
        f"{kind} {name} on {draft.table.name}",
        "its name does not follow the naming convention; the generated one differs",
        "rename it in the database first, or accept the rename",
        "changed",
    )


def set_key(fields: dict[str, Any], name: str, key: str, value: Any) -> None:
    """Add ``key`` to a field, turning a bare type expression into a mapping."""
    spec = fields[name]
    fields[name] = {"type": spec, key: value} if isinstance(spec, str) else {**spec, key: value}
