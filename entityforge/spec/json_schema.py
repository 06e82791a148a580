"""The JSON Schema of ``entities.yaml``, derived from the raw spec model.

Editors (through yaml-language-server, or any JSON Schema aware YAML plugin) complete
and check a spec with it. It is pydantic's schema of ``RawSpec``, whose attribute
docstrings become the descriptions, with what pydantic cannot see added: the shorthand
forms (``title: string(200)``, ``of: text``), the names the builder accepts for types,
index methods, relation kinds and delete actions, the ``x-`` keys the loader ignores and
the naming rules of entities and fields.

The package ships the rendered schema as ``entities.schema.json``; a test holds it equal
to what this module derives. After changing the raw model, regenerate it with::

    python -m entityforge.spec.json_schema
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from entityforge import naming
from entityforge.schema import (
    DISTRIBUTIONS,
    FIELD_TYPES,
    INDEX_METHODS,
    ON_DELETE_ACTIONS,
    POLICY_COMMANDS,
    RELATION_KINDS,
    SEARCH_WEIGHTS,
)
from entityforge.spec.raw import EXTENSION_PREFIX, RawSpec
from entityforge.spec.search import LANGUAGES

SCHEMA_FILE = Path(__file__).with_name("entities.schema.json")
DRAFT = "https://json-schema.org/draft/2020-12/schema"

_PARAMETERS = r"(\s*\(\s*[0-9]+\s*(,\s*[0-9]+\s*)?\))?\s*"
TYPE_EXPRESSION: dict[str, Any] = {
    "description": "A type name, with its parameters in parentheses where it takes them: "
    "text, string(200), decimal(12,2).",
    "anyOf": [
        {"enum": list(FIELD_TYPES)},
        {
            "type": "string",
            "pattern": rf"^\s*({'|'.join(FIELD_TYPES)}){_PARAMETERS}$",
        },
    ],
}


def build_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) every valid ``entities.yaml`` satisfies."""
    schema = RawSpec.model_json_schema(ref_template="#/$defs/{model}")
    defs: dict[str, Any] = schema.pop("$defs")
    schema = _tidy(schema)
    defs = {name: _tidy(definition) for name, definition in defs.items()}
    defs["TypeExpression"] = TYPE_EXPRESSION
    _add_shorthands(defs)
    _add_choices(defs)
    _add_names(schema, defs)
    schema["properties"]["version"] = {"const": 1, "description": _description(RawSpec, "version")}
    schema["patternProperties"] = {
        f"^{EXTENSION_PREFIX}": {"description": "Ignored: a place for YAML anchors to reuse."}
    }
    document = {
        "$schema": DRAFT,
        "title": "entityforge entities.yaml",
        "description": "The entity spec: tables, fields, relations, tenancy and soft delete "
        "of a PostgreSQL database layer (docs/spec-format.md).",
        **{key: value for key, value in schema.items() if key not in ("title", "description")},
        "$defs": dict(sorted(defs.items())),
    }
    return _renamed(document)


def render_json_schema() -> str:
    """The schema as the package ships it: indented JSON, one trailing newline."""
    return json.dumps(build_json_schema(), indent=2, ensure_ascii=False) + "\n"


def _description(model: type[RawSpec], key: str) -> str:
    description = model.model_fields[key].description or ""
    return " ".join(description.split())


def _tidy(node: Any) -> Any:
    """Drop pydantic's titles, flatten descriptions, write ``T | None`` as a type list."""
    if isinstance(node, list):
        return [_tidy(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _tidy(value) for key, value in node.items() if key != "title"}
    if isinstance(node.get("description"), str):
        node["description"] = " ".join(node["description"].split())
    options = node.get("anyOf")
    if isinstance(options, list) and len(options) == 2 and {"type": "null"} in options:
        other = next(option for option in options if option != {"type": "null"})
        if set(other) == {"type"} and isinstance(other["type"], str):
            del node["anyOf"]
            node["type"] = [other["type"], "null"]
    return node


def _add_shorthands(defs: dict[str, Any]) -> None:
    """A field may be a bare type expression, and so may an array's ``of``; a policy's
    ``for`` one command or a list."""
    expression = {"$ref": "#/$defs/TypeExpression"}
    defs["RawField"]["properties"]["type"] = _with_description(
        defs["RawField"]["properties"]["type"], expression
    )
    defs["RawItemType"]["properties"]["type"] = _with_description(
        defs["RawItemType"]["properties"]["type"], expression
    )
    of = defs["RawField"]["properties"]["of"]
    of["anyOf"] = [expression, *of["anyOf"]]
    fields = defs["RawEntity"]["properties"]["fields"]
    mapping = next(option for option in fields["anyOf"] if option.get("type") == "object")
    mapping["additionalProperties"] = {"anyOf": [expression, {"$ref": "#/$defs/RawField"}]}
    commands = defs["RawPolicy"]["properties"]["for"]
    one = {"enum": list(POLICY_COMMANDS)}
    commands.pop("type", None)
    commands["anyOf"] = [one, {"type": "array", "items": one}]


def _add_choices(defs: dict[str, Any]) -> None:
    """The values the builder accepts where the raw model only says "a string"."""
    choices = {
        ("RawRelation", "kind"): RELATION_KINDS,
        ("RawRelation", "on_delete"): ON_DELETE_ACTIONS,
        ("RawIndex", "using"): INDEX_METHODS,
        ("RawTenancy", "distribution"): DISTRIBUTIONS,
        ("RawSearch", "language"): LANGUAGES,
    }
    for (model, key), values in choices.items():
        prop = defs[model]["properties"][key]
        prop.pop("type", None)
        prop.pop("anyOf", None)
        prop["enum"] = list(values) + ([None] if key in ("on_delete", "distribution") else [])
    weights = defs["RawSearch"]["properties"]["fields"]
    weights["additionalProperties"] = {"enum": list(SEARCH_WEIGHTS)}
    weights["propertyNames"] = {"pattern": naming.SNAKE_CASE.pattern}
    index = defs["RawField"]["properties"]["index"]
    index.pop("anyOf", None)
    index["anyOf"] = [{"type": ["boolean", "null"]}, {"enum": list(INDEX_METHODS)}]


def _add_names(schema: dict[str, Any], defs: dict[str, Any]) -> None:
    """Entity and view names are PascalCase; field, relation and check names snake_case."""
    pascal = {"pattern": naming.PASCAL_CASE.pattern}
    snake = {"pattern": naming.SNAKE_CASE.pattern}
    schema["properties"]["entities"]["propertyNames"] = pascal
    views = schema["properties"]["views"]["anyOf"]
    next(option for option in views if option.get("type") == "object")["propertyNames"] = pascal
    entity = defs["RawEntity"]["properties"]
    for key in ("fields", "relations"):
        mapping = next(option for option in entity[key]["anyOf"] if option.get("type") == "object")
        mapping["propertyNames"] = snake
    defs["RawCheck"]["properties"]["name"].update(snake)


def _with_description(original: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    return {**schema, "description": original.get("description", "")}


def _renamed(document: dict[str, Any]) -> dict[str, Any]:
    """``RawField`` → ``Field``: the definitions as a spec's author knows them."""
    text = json.dumps(document)
    text = re.sub(r'"(#/\$defs/)?Raw([A-Z]\w*)"', r'"\1\2"', text)
    renamed: dict[str, Any] = json.loads(text)
    return renamed


def main(argv: list[str] | None = None) -> int:
    """Write the shipped schema (``--check``: exit 1 when it is stale)."""
    args = sys.argv[1:] if argv is None else argv
    text = render_json_schema()
    current = SCHEMA_FILE.read_text(encoding="utf-8") if SCHEMA_FILE.is_file() else None
    if "--check" in args:
        stale = current != text
        print(f"{SCHEMA_FILE}: {'stale' if stale else 'up to date'}")
        return 1 if stale else 0
    if current != text:
        SCHEMA_FILE.write_text(text, encoding="utf-8")
        print(f"wrote {SCHEMA_FILE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
