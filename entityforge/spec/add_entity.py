"""``entityforge add-entity``: grow the spec from the command line, keeping its text.

The new entity is inserted as a block of text after the last entity, so every other
byte of the spec (comments, key order, quoting, blank lines) stays as it was. ruamel.yaml
finds where the ``entities`` mapping ends and lays out the new block; the caller
validates the edited text exactly as ``generate`` validates a spec.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, StreamMark, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from entityforge.errors import Location, SpecError

_FIELD_FLAGS = {"unique", "nullable"}
_INDEX_OPTION = re.compile(r"^index(?:=(btree|gin|gist|brin|trgm))?$")
_ENUM_TYPE = re.compile(r"^enum\((.+)\)$")
_RELATION_KINDS = ("many_to_one", "one_to_one", "many_to_many")
_ON_DELETE = ("cascade", "set_null", "restrict", "no_action")
_DEFAULT_STEP = 2
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
"""A line with its line break, as YAML counts lines (``str.splitlines`` counts more)."""


@dataclass(frozen=True)
class NewEntity:
    """An entity as the command line describes it."""

    name: str
    fields: tuple[str, ...] = ()
    relations: tuple[str, ...] = ()
    tenant_scoped: bool = True
    soft_delete: bool = False
    table: str | None = None
    schema: str | None = None


@dataclass(frozen=True)
class _Layout:
    """Where the new entity goes in the spec's lines, and how it is indented."""

    line: int
    """Index of the line the block is inserted before (``len(lines)``: at the end)."""
    indent: int
    step: int
    blank_line_before: bool


def _split_type(text: str) -> list[str]:
    """Split ``name:string(64):unique`` on colons outside parentheses."""
    parts, depth, current = [], 0, ""
    for char in text:
        depth += (char == "(") - (char == ")")
        if char == ":" and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


def parse_field(option: str) -> tuple[str, object]:
    """``weight:integer:nullable`` → ``("weight", {type: integer, nullable: true})``."""
    parts = _split_type(option)
    if len(parts) < 2 or not parts[0] or not parts[1]:
        raise SpecError(
            f"--field {option!r}: expected NAME:TYPE[:OPTION...]",
            hint="for example --field name:string(64):unique --field weight:integer:nullable",
        )
    name, type_expression, options = parts[0], parts[1], parts[2:]
    enum = _ENUM_TYPE.match(type_expression)
    spec = CommentedMap()
    if enum:
        spec["type"] = "enum"
        spec["values"] = _flow_list([v.strip() for v in enum.group(1).split(",")])
    else:
        spec.update(_type_mapping(type_expression))
    for item in options:
        index = _INDEX_OPTION.match(item)
        if item in _FIELD_FLAGS:
            spec[item] = True
        elif index:
            spec["index"] = index.group(1) or True
        elif item.startswith("default="):
            spec["default"] = _scalar(item.removeprefix("default="))
        else:
            raise SpecError(
                f"--field {option!r}: unknown option {item!r}",
                hint="options are unique, nullable, index[=gin|gist|brin|trgm], default=VALUE",
            )
    if len(spec) == 1 and not enum:
        return name, type_expression
    spec.fa.set_flow_style()
    return name, spec


def _type_mapping(expression: str) -> dict[str, object]:
    """``string(64)`` → ``{type: string, max_length: 64}``; ``decimal(12,2)`` likewise."""
    match = re.fullmatch(r"(\w+)\((.*)\)", expression)
    if not match:
        return {"type": expression}
    name, arguments = match.group(1), [a.strip() for a in match.group(2).split(",")]
    keys = {"string": ("max_length",), "decimal": ("precision", "scale")}.get(name)
    if keys is None or len(arguments) > len(keys) or not all(a.isdigit() for a in arguments):
        return {"type": expression}
    return {"type": name, **{key: int(value) for key, value in zip(keys, arguments, strict=False)}}


def parse_relation(option: str) -> tuple[str, CommentedMap]:
    """``workflow:many_to_one:Workflow[:cascade][:nullable]`` → a relation mapping."""
    parts = option.split(":")
    if len(parts) < 3 or not parts[0] or parts[1] not in _RELATION_KINDS or not parts[2]:
        raise SpecError(
            f"--relation {option!r}: expected NAME:KIND:TARGET[:ON_DELETE][:nullable]",
            hint=f"KIND is one of {', '.join(_RELATION_KINDS)}; "
            "for example --relation workflow:many_to_one:Workflow:cascade",
        )
    name, kind, target, options = parts[0], parts[1], parts[2], parts[3:]
    spec = CommentedMap([("kind", kind), ("target", target)])
    for item in options:
        if item == "nullable":
            spec["nullable"] = True
        elif item in _ON_DELETE:
            spec["on_delete"] = item
        else:
            raise SpecError(
                f"--relation {option!r}: unknown option {item!r}",
                hint=f"options are nullable and one of {', '.join(_ON_DELETE)}",
            )
    spec.fa.set_flow_style()
    return name, spec


def add_entity_to_spec(text: str, entity: NewEntity, filename: str = "entities.yaml") -> str:
    """Return the spec ``text`` with ``entity`` inserted after the last entity.

    Only the new block is added: every other character of ``text`` is kept.
    """
    entities = _entities_node(text, filename)
    names = [key.value for key, _ in entities.value if isinstance(key, ScalarNode)]
    if entity.name in names:
        raise SpecError(
            f"entity {entity.name!r} exists already in {filename}",
            hint="choose another name, or edit the entity in the spec",
        )
    lines = _LINE.findall(text)
    layout = _layout(lines, entities)
    newline = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
    block = _render_entity(entity, layout, newline)
    before, after = lines[: layout.line], lines[layout.line :]
    if before and not before[-1].endswith(("\n", "\r")):
        block = [newline, *block]
    return "".join([*before, *block, *after])


def _entities_node(text: str, filename: str) -> MappingNode:
    """The ``entities`` mapping of the spec, as a non-empty block mapping node."""
    try:
        document = YAML(typ="rt").compose(text)
    except YAMLError as error:
        mark = error.problem_mark if isinstance(error, MarkedYAMLError) else None
        location = Location(filename, mark.line + 1, mark.column + 1) if mark else None
        raise SpecError(
            f"invalid YAML: {getattr(error, 'problem', None) or error}",
            location,
            hint="fix the YAML syntax, then run add-entity again",
        ) from None
    entities = None
    if isinstance(document, MappingNode):
        entities = next(
            (value for key, value in document.value if getattr(key, "value", None) == "entities"),
            None,
        )
    if not isinstance(entities, MappingNode) or entities.flow_style or not entities.value:
        where = entities or document
        mark = where.start_mark if where is not None else None
        raise SpecError(
            "add-entity needs 'entities' as a block mapping with at least one entity",
            Location(filename, mark.line + 1, mark.column + 1) if mark else None,
            hint="write each entity on lines of its own under 'entities:'",
        )
    return entities


def _layout(lines: Sequence[str], entities: MappingNode) -> _Layout:
    """Indentation of the entities, and the line after the last one's content."""
    first_key, first_value = entities.value[0]
    indent = first_key.start_mark.column
    step = _DEFAULT_STEP
    if isinstance(first_value, MappingNode) and first_value.value and not first_value.flow_style:
        step = first_value.value[0][0].start_mark.column - indent
    last_key, last_value = entities.value[-1]
    end = max(_last_content_line(node) for node in (last_key, *_leaves(last_value)))
    end = min(end, len(lines) - 1)
    while end > last_key.start_mark.line and not lines[end].strip():
        end -= 1  # a block scalar's end mark comes after the blank lines that follow it
    line = end + 1
    while line < len(lines) and _is_comment(lines[line]) and _indent_of(lines[line]) > indent:
        line += 1
    return _Layout(line, indent, step, _separated(lines, last_key.start_mark.line, indent))


def _leaves(node: Node) -> Iterator[Node]:
    """Scalars and flow collections: their end marks end at their last character."""
    if isinstance(node, (MappingNode, SequenceNode)) and not node.flow_style:
        for child in node.value:
            for part in child if isinstance(child, tuple) else (child,):
                yield from _leaves(part)
    else:
        yield node


def _last_content_line(node: Node) -> int:
    """The 0-based line of the node's last character (block scalars end a line later)."""
    mark: StreamMark = node.end_mark
    if mark.column == 0 and mark.line > node.start_mark.line:
        return mark.line - 1
    return mark.line


def _separated(lines: Sequence[str], key_line: int, indent: int) -> bool:
    """Whether a blank line comes before the last entity (and its leading comments)."""
    line = key_line - 1
    while line >= 0 and _is_comment(lines[line]) and _indent_of(lines[line]) >= indent:
        line -= 1
    return line >= 0 and not lines[line].strip()


def _is_comment(line: str) -> bool:
    return line.lstrip().startswith("#")


def _indent_of(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _render_entity(entity: NewEntity, layout: _Layout, newline: str) -> list[str]:
    """The entity's lines, indented like the spec's other entities."""
    yaml = YAML(typ="rt")
    yaml.width = 4096
    yaml.indent(mapping=layout.step, sequence=layout.step + 2, offset=layout.step)
    buffer = io.StringIO()
    yaml.dump(CommentedMap([(entity.name, _entity_mapping(entity))]), buffer)
    pad = " " * layout.indent
    block = [f"{pad}{line}{newline}" for line in buffer.getvalue().splitlines()]
    return [newline, *block] if layout.blank_line_before else block


def _entity_mapping(entity: NewEntity) -> CommentedMap:
    mapping = CommentedMap()
    if entity.table:
        mapping["table"] = entity.table
    if entity.schema:
        mapping["schema"] = entity.schema
    if not entity.tenant_scoped:
        mapping["tenant_scoped"] = False
    if entity.soft_delete:
        mapping["soft_delete"] = True
    fields = CommentedMap(parse_field(option) for option in entity.fields)
    if fields:
        mapping["fields"] = fields
    relations = CommentedMap(parse_relation(option) for option in entity.relations)
    if relations:
        mapping["relations"] = relations
    return mapping


def _flow_list(items: Sequence[str]) -> CommentedSeq:
    seq = CommentedSeq(items)
    seq.fa.set_flow_style()
    return seq


def _scalar(text: str) -> object:
    """A default typed as YAML would type it (``0`` → 0, ``true`` → True, ``x`` → "x")."""
    if not text:
        return ""
    try:
        return YAML(typ="safe").load(text)
    except YAMLError:
        return text
