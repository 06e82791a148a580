"""The one error type the library raises; only the CLI prints it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    """A place in a spec file, 1-based like an editor shows it."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class EntityforgeError(Exception):
    """Base of every error entityforge reports to a user."""

    exit_code = 2

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def render(self) -> str:
        text = self.message
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class SpecError(EntityforgeError):
    """A spec that cannot be accepted, with where and what to do."""

    def __init__(
        self, message: str, location: Location | None = None, hint: str | None = None
    ) -> None:
        super().__init__(message, hint)
        self.location = location

    def render(self) -> str:
        prefix = f"{self.location}: " if self.location else ""
        return prefix + super().render()

    def __str__(self) -> str:
        return self.render()


class SpecErrors(EntityforgeError):
    """Several spec errors found in one pass, reported together."""

    def __init__(self, errors: list[SpecError]) -> None:
        super().__init__(errors[0].message if errors else "invalid spec")
        self.errors = errors

    def render(self) -> str:
        return "\n".join(error.render() for error in self.errors)

    def __str__(self) -> str:
        return self.render()


class GenerationError(EntityforgeError):
    """The project cannot be (re)generated as asked; nothing was written."""

    exit_code = 1
