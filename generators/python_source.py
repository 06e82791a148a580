"""Small building blocks for emitting Python source: imports as data, literals, docstrings.

Imports are recorded where a name is used (a ``Code`` fragment carries the imports it
needs) and emitted once per module, grouped and sorted the way isort/ruff sort them, so
generated modules pass ``ruff check --select I`` without a formatting pass. Modules of
the same package import each other relatively (``from .base import Base``), which keeps
import lines short whatever the entity names.
"""

from __future__ import annotations

import re
import sys
import textwrap
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

LINE_LENGTH = 99
INDENT = "    "


@dataclass(frozen=True, order=True)
class Import:
    """``import module`` (``name`` is None) or ``from module import name [as alias]``."""

    module: str
    name: str | None = None
    alias: str | None = None

    @property
    def bound_name(self) -> str:
        """The name this import binds in the importing module."""
        if self.alias:
            return self.alias
        return self.name if self.name else self.module.split(".")[0]


@dataclass(frozen=True)
class Code:
    """A fragment of Python source and the imports it needs."""

    text: str
    imports: frozenset[Import] = frozenset()

    @staticmethod
    def join(parts: Iterable[Code], separator: str = ", ") -> Code:
        items = tuple(parts)
        imports = frozenset().union(*(part.imports for part in items))
        return Code(separator.join(part.text for part in items), imports)

    def wrap(self, prefix: str, suffix: str = "") -> Code:
        return Code(f"{prefix}{self.text}{suffix}", self.imports)

    def with_imports(self, *others: Iterable[Import]) -> Code:
        return Code(self.text, self.imports.union(*others))


@dataclass(frozen=True)
class Symbols:
    """Names a module refers to; a name clashing with a class attribute gets an alias.

    ``date: Mapped[date]`` inside a class body would see the attribute, not the import,
    so an import whose name is also an attribute of the class is bound as ``_date``.
    """

    reserved: frozenset[str] = frozenset()

    def name(self, module: str, name: str) -> Code:
        alias = f"_{name}" if name in self.reserved else None
        item = Import(module, name, alias)
        return Code(item.bound_name, frozenset({item}))

    def module(self, module: str) -> Code:
        top = module.split(".")[0]
        item = Import(module, None, f"_{top}") if top in self.reserved else Import(module)
        return Code(item.bound_name, frozenset({item}))


def call(function: Code | str, *arguments: Code | str, exploded: bool = False) -> Code:
    """``function(arg, ...)``; plain strings are source without imports. ``exploded`` puts
    one argument per line, each with a trailing comma, which keeps black from joining them.
    """
    callee = function if isinstance(function, Code) else Code(function)
    parts = [argument if isinstance(argument, Code) else Code(argument) for argument in arguments]
    imports = callee.imports.union(*(part.imports for part in parts))
    if exploded:
        body = "".join(indent(f"{part.text},") + "\n" for part in parts)
        return Code(f"{callee.text}(\n{body})", imports)
    return Code(f"{callee.text}({', '.join(part.text for part in parts)})", imports)


def indent(text: str, prefix: str = INDENT) -> str:
    """``text`` with each line that is not empty indented by ``prefix``."""
    return "\n".join(prefix + line if line else line for line in text.split("\n"))


def natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """Case-insensitive natural order (``a2`` before ``a10``), as ruff's isort sorts."""
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part)
        for part in re.split(r"(\d+)", text.lower())
        if part
    )


def _member_key(item: Import) -> tuple[int, tuple[tuple[int, int | str], ...], str]:
    name = item.name or ""
    if len(name) > 1 and name.isupper():
        kind = 0  # constant
    elif name[:1].isupper():
        kind = 1  # class
    else:
        kind = 2  # function or variable
    return kind, natural_key(name), item.alias or ""


def _section(module: str, first_party: str) -> int:
    if module.startswith("."):
        return 4  # relative: a sibling module of the same package
    top = module.split(".")[0]
    if top == "__future__":
        return 0
    if top == first_party:
        return 3
    return 1 if top in sys.stdlib_module_names else 2


def _from_line(module: str, names: list[str]) -> str:
    line = f"from {module} import {', '.join(names)}"
    if len(line) <= LINE_LENGTH:
        return line
    body = "".join(f"{INDENT}{name},\n" for name in names)
    return f"from {module} import (\n{body})"


def _section_lines(imports: list[Import]) -> list[str]:
    plain = sorted((i for i in imports if i.name is None), key=lambda i: natural_key(i.module))
    lines = [f"import {i.module} as {i.alias}" if i.alias else f"import {i.module}" for i in plain]
    by_module: dict[str, set[Import]] = {}
    for item in imports:
        if item.name is not None:
            by_module.setdefault(item.module, set()).add(item)
    for module in sorted(by_module, key=natural_key):
        members = sorted(by_module[module], key=_member_key)
        plain = [m for m in members if not m.alias]
        statements = [(_member_key(plain[0]), [str(m.name) for m in plain])] if plain else []
        # Without ``combine-as-imports`` an aliased name is imported on its own line; the
        # statements of one module are ordered by their first name, as ruff's isort does.
        statements += [(_member_key(m), [f"{m.name} as {m.alias}"]) for m in members if m.alias]
        lines += [_from_line(module, names) for _, names in sorted(statements)]
    return lines


def render_imports(imports: Iterable[Import], first_party: str) -> str:
    """The import block: sections separated by one blank line, each sorted."""
    by_section: dict[int, list[Import]] = {}
    for item in set(imports):
        by_section.setdefault(_section(item.module, first_party), []).append(item)
    blocks = ["\n".join(_section_lines(by_section[key])) for key in sorted(by_section)]
    return "\n\n".join(blocks)


def string_literal(value: str, indent: int, prefix: str = "", suffix: str = "") -> str:
    """A literal for ``value`` that black can lay out within the line length.

    ``indent``, ``prefix`` and ``suffix`` describe the line the literal stands on once
    black has split what encloses it (``        comment=<literal>,``). A literal too
    long for it is parenthesised, so black moves it one indent deeper; one too long
    for that too is cut at spaces into pieces that each fit there.
    """
    literal = repr(value)
    if indent + len(prefix) + len(literal) + len(suffix) <= LINE_LENGTH:
        return literal
    room = LINE_LENGTH - indent - len(INDENT)
    if len(literal) <= room:
        return f"({literal})"
    return "(" + " ".join(repr(piece) for piece in pieces(value, room - 2)) + ")"


def sole_argument(value: str, indent: int) -> str:
    """``value`` as the only argument of a call (``text(...)``): a literal cut into pieces
    goes without parentheses of its own, the call's hold it (ruff's UP034)."""
    literal = string_literal(value, indent)
    return literal[1:-1] if literal.startswith("(") else literal


def pieces(value: str, width: int, *, lines: bool = False) -> list[str]:
    """``value`` cut after whitespace into pieces whose literals take at most ``width``
    columns where possible (escapes and wide characters counted as shown); with
    ``lines``, also after every newline, so that each line of SQL reads as a line."""
    if lines:
        if "\n" not in value and shown_width(value) <= width:
            return [value]
        return [piece for line in value.splitlines(keepends=True) for piece in pieces(line, width)]
    cut: list[str] = []
    current = ""
    for token in re.findall(r"\S+\s*|\s+", value):
        word = token.rstrip()
        if word and shown_width(word) > width:
            # A piece without spaces may run long: style checkers let a lone word be.
            cut += [current, word] if current else [word]
            current = token[len(word) :]
        elif current and shown_width(current + token) > width:
            cut.append(current)
            current = token
        elif shown_width(token) > width:
            # A word that fits, whose spaces do not: the spaces start the next piece.
            cut.append(word)
            current = token[len(word) :]
        else:
            current += token
    if current:
        cut.append(current)
    return cut


def shown_width(text: str) -> int:
    """The columns ``text`` takes inside a string literal, as black and ruff count them:
    escapes such as ``\\n`` in full, wide (East Asian) characters twice."""
    shown = repr(text)[1:-1]
    if shown.isascii():
        return len(shown)
    return sum(
        0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1
        for c in shown
    )


def docstring(text: str, indent: int) -> str:
    """A triple-quoted docstring wrapped to the line length at ``indent`` spaces."""
    width = LINE_LENGTH - indent - 6
    cleaned = " ".join(text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"').split())
    if cleaned.endswith('"'):
        # A closing quote inside the docstring is written ``\x22``: wrapping strips a pad
        # space, `""""` ends nothing, and black and ruff disagree on `\""""`.
        body = cleaned[:-1]
        if (len(body) - len(body.rstrip("\\"))) % 2:
            body = body[:-1]
        cleaned = body + "\\x22"
    lines = textwrap.wrap(cleaned, width=width, break_long_words=False) or [""]
    if len(lines) == 1:
        return f'"""{lines[0]}"""'
    margin = "\n" + " " * indent
    return '"""' + margin.join(lines) + margin + '"""'
