"""PostgreSQL patterns (``~`` regular expressions, ``LIKE``) in Python's ``re`` dialect.

The solver matches candidate strings with these, and the generated factories draw
strings from them with ``rstr`` (``Rstr(random).xeger``), so both read the translated
pattern. PostgreSQL's bracket classes (``[[:alpha:]]``) and word-boundary escapes
(``\\m``, ``\\M``, ``\\y``) have no ``re`` spelling and are rewritten; the rest of the
common syntax is the same in both dialects.
"""

from __future__ import annotations

import random
import re
import string
from functools import lru_cache

import rstr

_POSIX_CLASSES = {
    "alpha": "a-zA-Z",
    "digit": "0-9",
    "alnum": "a-zA-Z0-9",
    "upper": "A-Z",
    "lower": "a-z",
    "space": r"\s",
    "xdigit": "0-9a-fA-F",
    "punct": r"!-/:-@\[-`{-~",
    "word": r"\w",
    "blank": r" \t",
}
_POSIX_CLASS = re.compile(r"\[:([a-z]+):\]")
_BOUNDARY = re.compile(r"\\[mMy]")
# How many repetitions ``*`` and ``+`` stand for at most in a drawn string.
REPEAT_LIMIT = 8


@lru_cache(maxsize=1024)
def python_regex(pattern: str) -> str:
    """A PostgreSQL ARE as a Python regular expression with the same matches."""
    translated = _POSIX_CLASS.sub(lambda match: _POSIX_CLASSES.get(match[1], match[0]), pattern)
    return _BOUNDARY.sub(r"\\b", translated)


def like_to_regex(pattern: str) -> str:
    """A ``LIKE`` pattern (``%``, ``_``, ``\\`` escapes) as an anchored regular expression."""
    parts = ["^"]
    escaped = False
    for char in pattern:
        if escaped:
            parts.append(re.escape(char))
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "%":
            parts.append(".*")
        elif char == "_":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    return "".join(parts) + "$"


def drawable(pattern: str) -> bool:
    """Whether strings can be drawn from ``pattern`` (Python's ``re`` parses it)."""
    try:
        re.compile(python_regex(pattern))
    except re.error:
        return False
    return True


@lru_cache(maxsize=1024)
def drawing_regex(pattern: str) -> str:
    """``pattern`` in Python's dialect, bounded and spelled for drawing strings from.

    Unbounded repetitions (``*``, ``+``, ``{n,}``) repeat at most ``REPEAT_LIMIT`` times
    more, and negated classes (``[^@ ]``) become the printable characters they admit,
    in order, so a draw depends on the seed alone. Every drawn string matches ``pattern``.
    """
    source = python_regex(pattern)
    out: list[str] = []
    position = 0
    while position < len(source):
        char = source[position]
        if char == "\\":
            out.append(source[position : position + 2])
            position += 2
        elif char == "[":
            end = _class_end(source, position)
            out.append(_positive_class(source[position : end + 1]))
            position = end + 1
        elif char in "*+":
            out.append(f"{{{'0' if char == '*' else '1'},{REPEAT_LIMIT}}}")
            position += 1
        elif char == "{" and (open_ended := _OPEN_REPEAT.match(source, position)):
            low = int(open_ended[1])
            out.append(f"{{{low},{low + REPEAT_LIMIT}}}")
            position = open_ended.end()
        else:
            out.append(char)
            position += 1
    return "".join(out)


_OPEN_REPEAT = re.compile(r"\{(\d+),\}")


def _class_end(source: str, start: int) -> int:
    """The index of the ``]`` closing the bracket class that opens at ``start``."""
    position = start + 1
    if source[position : position + 1] == "^":
        position += 1
    if source[position : position + 1] == "]":
        position += 1
    while position < len(source) and source[position] != "]":
        position += 2 if source[position] == "\\" else 1
    return position


# The characters a negated class draws from: printable ASCII, the space the only blank.
_DRAWN_CHARACTERS = sorted(string.digits + string.ascii_letters + string.punctuation + " ")


def _positive_class(bracket: str) -> str:
    """``[^...]`` as the ranges of drawable characters it admits (``[^@ ]`` → ``[!-?A-~]``)."""
    if not bracket.startswith("[^"):
        return bracket
    admitted = [ord(char) for char in _DRAWN_CHARACTERS if re.fullmatch(bracket, char)]
    ranges: list[list[int]] = []
    for code in admitted:
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    parts = [
        re.escape(chr(low)) + ("" if low == high else "-" + re.escape(chr(high)))
        for low, high in ranges
    ]
    return "[" + "".join(parts) + "]"


def draw(regex: str, seed: int) -> str:
    """A string matching ``regex`` (a ``drawing_regex``), the same one for the same seed."""
    generator = rstr.Rstr(random.Random(seed))
    text: str = generator.xeger(regex)
    return text
