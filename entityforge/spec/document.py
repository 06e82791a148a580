"""Reading a spec file into plain data with the position of every key and value.

The YAML is composed into nodes (never constructed into Python objects by ruamel), so
every mapping key and every value keeps its line and column, duplicate keys are
reported with both positions, and no YAML tag can build an arbitrary object. The
result is JSON-like data (``dict``/``list``/``str``/``int``/``float``/``bool``/``None``)
plus a table from each path in that data to where it was written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from entityforge.errors import Location, SpecError
from entityforge.spec.fast_yaml import compose_fast
from entityforge.spec.issues import raise_collected

PathPart = str | int
DocPath = tuple[PathPart, ...]

MAX_DEPTH = 64
MAX_NODES = 200_000

_TAG = "tag:yaml.org,2002:"
_CONSTRUCTED_SCALARS = {_TAG + "bool", _TAG + "int", _TAG + "float"}


@dataclass(frozen=True)
class Position:
    """Where a value was written and, inside a mapping, where its key was."""

    value: Location
    key: Location | None = None


@dataclass(frozen=True)
class Document:
    """A spec file as plain data, with positions for every path in it."""

    filename: str
    data: Any
    positions: Mapping[DocPath, Position] = field(default_factory=dict)

    def value_location(self, path: DocPath) -> Location:
        """Where the value at ``path`` (or its nearest written ancestor) starts."""
        return self._nearest(path).value

    def key_location(self, path: DocPath) -> Location:
        """Where the key of ``path`` is written, else where its value starts."""
        position = self._nearest(path)
        return position.key or position.value

    def _nearest(self, path: DocPath) -> Position:
        for end in range(len(path), -1, -1):
            position = self.positions.get(path[:end])
            if position is not None:
                return position
        return Position(Location(self.filename, 1, 1))


def describe_path(path: DocPath) -> str:
    """A reader's name for the place ``path`` leads to (``field 'email' of entity 'Member'``)."""
    if len(path) >= 2 and path[0] == "entities":
        return _describe_entity_path(path[1], path[2:])
    if not path:
        return "the top level"
    if len(path) == 1:
        return f"'{path[0]}'"
    return f"'{path[-1]}' in '{path[0]}'"


def _describe_entity_path(entity: PathPart, rest: DocPath) -> str:
    owner = f"entity '{entity}'"
    if not rest:
        return owner
    section = rest[0]
    if len(rest) == 1:
        return f"'{section}' of {owner}"
    item = rest[1]
    if section == "fields":
        label = f"field '{item}' of {owner}"
        if len(rest) >= 3 and rest[2] == "of":
            return f"the item type ('of') of {label}"
        return label
    if section == "relations":
        return f"relation '{item}' of {owner}"
    if section in ("indexes", "checks", "unique") and isinstance(item, int):
        singular = {"indexes": "index", "checks": "check", "unique": "unique"}[section]
        return f"{singular} #{item + 1} of {owner}"
    return f"'{section}' of {owner}"


def parse_document(text: str, filename: str) -> Document:
    """Compose ``text`` as YAML and convert it to plain data with positions."""
    yaml = YAML(typ="safe", pure=True)
    try:
        root = compose_fast(text) or yaml.compose(text)
    except YAMLError as error:
        raise _yaml_error(error, text, filename) from None
    except RecursionError:
        raise SpecError(
            "the YAML is nested too deeply to read",
            Location(filename, 1, 1),
            hint=f"a spec needs no more than {MAX_DEPTH} levels of nesting",
        ) from None
    if root is None:
        raise SpecError(
            "the spec is empty",
            Location(filename, 1, 1),
            hint="start with 'version: 1' and an 'entities:' mapping",
        )
    converter = _Converter(filename, yaml)
    data = converter.convert(root, ())
    raise_collected(converter.errors)
    return Document(filename, data, converter.positions)


def _yaml_error(error: YAMLError, text: str, filename: str) -> SpecError:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    if isinstance(error, MarkedYAMLError) and mark is not None:
        location = Location(filename, mark.line + 1, mark.column + 1)
        problem = error.problem or error.context or "invalid YAML"
    else:
        offset = getattr(error, "position", 0) or 0
        location = _offset_location(text, offset, filename)
        problem = str(error).splitlines()[0] if str(error) else "invalid YAML"
    hint = "fix the YAML syntax here (indentation, quotes, brackets, a ':' after each key)"
    if "escape" in problem:
        hint = (
            "a backslash in a double-quoted string starts an escape: put the text in single "
            "quotes ('a\\d+' stays as written), or double the backslash"
        )
    return SpecError(f"invalid YAML: {problem}", location, hint=hint)


def _offset_location(text: str, offset: int, filename: str) -> Location:
    before = text[:offset]
    line = before.count("\n") + 1
    column = offset - (before.rfind("\n") + 1) + 1
    return Location(filename, line, column)


def _location(filename: str, node: Node) -> Location:
    mark = node.start_mark
    return Location(filename, mark.line + 1, mark.column + 1)


class _Converter:
    """Turns composed nodes into plain data, recording positions and collecting errors."""

    def __init__(self, filename: str, yaml: YAML) -> None:
        self.filename = filename
        self.constructor = yaml.constructor
        self.positions: dict[DocPath, Position] = {}
        self.errors: list[SpecError] = []
        self._active: set[int] = set()
        self._count = 0

    def convert(self, node: Node, path: DocPath, key: Location | None = None) -> Any:
        self.positions[path] = Position(_location(self.filename, node), key)
        self._count += 1
        if self._count > MAX_NODES:
            raise self._fatal(node, "the spec is too large", "expand fewer aliases")
        if len(path) > MAX_DEPTH:
            raise self._fatal(node, "the spec is nested too deeply", "flatten the data")
        if id(node) in self._active:
            raise self._fatal(node, "an alias refers to itself", "remove the recursive alias")
        self._active.add(id(node))
        try:
            if isinstance(node, MappingNode):
                return self._mapping(node, path)
            if isinstance(node, SequenceNode):
                return self._sequence(node, path)
            return self._scalar(node)
        finally:
            self._active.discard(id(node))

    def _fatal(self, node: Node, message: str, hint: str) -> SpecError:
        return SpecError(message, _location(self.filename, node), hint=hint)

    def _sequence(self, node: SequenceNode, path: DocPath) -> list[Any]:
        if node.tag != _TAG + "seq":
            self._unsupported_tag(node)
        return [self.convert(item, path + (index,)) for index, item in enumerate(node.value)]

    def _mapping(self, node: MappingNode, path: DocPath) -> dict[str, Any]:
        if node.tag != _TAG + "map":
            self._unsupported_tag(node)
        explicit = {
            k.value for k, _ in node.value if isinstance(k, ScalarNode) and k.tag == _TAG + "str"
        }
        result: dict[str, Any] = {}
        seen: dict[str, Location] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _TAG + "merge":
                self._merge(value_node, path, result, explicit)
                continue
            key = self._key(key_node, path)
            if key is None:
                continue
            key_location = _location(self.filename, key_node)
            if key in seen:
                self._duplicate(key, key_location, seen[key], path)
                continue
            seen[key] = key_location
            result[key] = self.convert(value_node, path + (key,), key_location)
        return result

    def _merge(
        self, value_node: Node, path: DocPath, result: dict[str, Any], explicit: set[str]
    ) -> None:
        sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
        for source in sources:
            if not isinstance(source, MappingNode):
                self.errors.append(
                    self._fatal(source, "a merge key ('<<') needs a mapping", "merge an anchor")
                )
                continue
            merged = self.convert(source, path + ("<<",))
            for key, value in merged.items():
                if key in explicit or key in result:
                    continue
                result[key] = value
                self._copy_positions(path + ("<<",), path, key)

    def _copy_positions(self, source: DocPath, target: DocPath, key: str) -> None:
        prefix = source + (key,)
        for known, position in list(self.positions.items()):
            if known[: len(prefix)] == prefix:
                self.positions[target + known[len(source) :]] = position

    def _key(self, key_node: Node, path: DocPath) -> str | None:
        if isinstance(key_node, ScalarNode) and key_node.tag == _TAG + "str":
            return str(key_node.value)
        shown = repr(key_node.value) if isinstance(key_node, ScalarNode) else "(a collection)"
        self.errors.append(
            SpecError(
                f"the key {shown} in {describe_path(path)} is not a string",
                _location(self.filename, key_node),
                hint="write keys as plain names; quote one that YAML reads as a number, "
                "a boolean or null",
            )
        )
        return None

    def _duplicate(self, key: str, where: Location, first: Location, path: DocPath) -> None:
        self.errors.append(
            SpecError(
                f"duplicate key '{key}' in {describe_path(path)} (first written at {first})",
                where,
                hint="keep one of them: YAML would silently drop the other",
            )
        )

    def _scalar(self, node: Node) -> Any:
        tag = node.tag
        if tag == _TAG + "str":
            return str(node.value)
        if tag == _TAG + "null":
            return None
        if tag == _TAG + "timestamp":
            return str(node.value)
        if tag in _CONSTRUCTED_SCALARS:
            try:
                return self.constructor.construct_object(node, deep=True)
            except (YAMLError, ValueError, TypeError, OverflowError):
                return str(node.value)
        self._unsupported_tag(node)
        return str(node.value)

    def _unsupported_tag(self, node: Node) -> None:
        self.errors.append(
            SpecError(
                f"unsupported YAML tag '{node.tag}'",
                _location(self.filename, node),
                hint="remove the tag: a spec uses plain mappings, lists, strings, "
                "numbers and booleans",
            )
        )
