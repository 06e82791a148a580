"""``entityforge add-entity``: grow the spec from the command line, keeping its comments.

The spec is edited with ruamel.yaml's round-trip mode, so every comment, the key order
and the quoting of the rest of the file stay as they were. The edited text is validated
exactly as ``generate`` validates a spec before anything is written.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from entityforge.errors import GenerationError

_FIELD_FLAGS = {"unique", "nullable"}
_INDEX_OPTION = re.compile(r"^index(?:=(btree|gin|gist|brin|trgm))?$")
_ENUM_TYPE = re.compile(r"^enum\((.+)\)$")
_RELATION_KINDS = ("many_to_one", "one_to_one", "many_to_many")
_ON_DELETE = ("cascade", "set_null", "restrict", "no_action")


@dataclass(frozen=True)
class NewEntity:
    """An entity as the command line describes it."""

    name: str
    fields: tuple[str, ...] = ()
    relations: tuple[str, ...] = ()
    tenant_scoped: bool = True
    soft_delete: bool = False
    table: str | None = None


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
        raise GenerationError(
            f"--field {option!r}: expected NAME:TYPE[:OPTION...]",
            hint="for example --field name:string(64):unique --field weight:integer:nullable",
        )
    name, type_expression, options = parts[0], parts[1], parts[2:]
    enum = _ENUM_TYPE.match(type_expression)
    spec = CommentedMap()
    if enum:
        spec["type"] = "enum"
        spec["values"] = _flow_list(v.strip() for v in enum.group(1).split(","))
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
            raise GenerationError(
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
    if len(parts) < 3 or parts[1] not in _RELATION_KINDS:
        raise GenerationError(
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
            raise GenerationError(
                f"--relation {option!r}: unknown option {item!r}",
                hint=f"options are nullable and one of {', '.join(_ON_DELETE)}",
            )
    spec.fa.set_flow_style()
    return name, spec


def add_entity_to_spec(text: str, entity: NewEntity) -> str:
    """Return the spec ``text`` with ``entity`` appended under ``entities``."""
    yaml = _round_trip_yaml()
    document = yaml.load(text)
    if not isinstance(document, CommentedMap) or not isinstance(
        document.get("entities"), CommentedMap
    ):
        raise GenerationError(
            "the spec has no 'entities' mapping to add to",
            hint="run entityforge generate first to see what is wrong with the spec",
        )
    entities: CommentedMap = document["entities"]
    if entity.name in entities:
        raise GenerationError(
            f"entity {entity.name!r} exists already", hint="choose another name or edit it"
        )
    entities[entity.name] = _entity_mapping(entity)
    buffer = io.StringIO()
    yaml.dump(document, buffer)
    return buffer.getvalue()


def _entity_mapping(entity: NewEntity) -> CommentedMap:
    mapping = CommentedMap()
    if entity.table:
        mapping["table"] = entity.table
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


def _round_trip_yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def _flow_list(items: Sequence[str] | object) -> CommentedSeq:
    seq = CommentedSeq(items)  # type: ignore[arg-type]
    seq.fa.set_flow_style()
    return seq


def _scalar(text: str) -> object:
    """A default typed as YAML would type it (``0`` → 0, ``true`` → True, ``x`` → "x")."""
    return YAML(typ="safe").load(text) if text else ""
