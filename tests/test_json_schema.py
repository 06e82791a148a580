"""The JSON Schema of entities.yaml: derived from the raw model, shipped, and faithful.

Every spec the loader accepts validates; the mistakes people make are flagged by both
the schema (in the editor) and the loader (at generate).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from ruamel.yaml import YAML

from entityforge.errors import EntityforgeError
from entityforge.spec import load_schema_text
from entityforge.spec.json_schema import SCHEMA_FILE, build_json_schema, render_json_schema
from entityforge.spec.modeline import SCHEMA_LINE, with_schema_line
from tests.conftest import EXAMPLE_SPEC, SPECS
from tests.strategies import spec_text, specs

SPEC_FILES = sorted(SPECS.glob("*.yaml")) + [EXAMPLE_SPEC]


def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def load_yaml(text: str) -> Any:
    return YAML(typ="safe", pure=True).load(text)


def test_shipped_schema_is_the_derived_one() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == render_json_schema(), (
        "entityforge/spec/entities.schema.json is stale for the raw spec model: "
        "run `python -m entityforge.spec.json_schema`"
    )


def test_schema_is_valid_draft_2020_12() -> None:
    jsonschema.Draft202012Validator.check_schema(build_json_schema())


def _properties(node: Any, path: str = "") -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    if isinstance(node, dict):
        for name, value in node.get("properties", {}).items():
            found.append((f"{path}.{name}", value))
        for key, value in node.items():
            if key != "properties":
                found += _properties(value, f"{path}/{key}")
            else:
                for name, prop in value.items():
                    found += _properties(prop, f"{path}.{name}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            found += _properties(item, f"{path}[{index}]")
    return found


def test_every_key_says_what_it_does() -> None:
    undescribed = [
        path for path, prop in _properties(build_json_schema()) if not prop.get("description")
    ]
    assert undescribed == [], "add an attribute docstring in entityforge/spec/raw.py"


@pytest.mark.parametrize("path", SPEC_FILES, ids=lambda p: p.stem)
def test_every_spec_of_the_repository_validates(path: Path) -> None:
    errors = [error.message for error in validator().iter_errors(load_yaml(path.read_text()))]
    assert errors == []


@settings(max_examples=40, deadline=None)
@given(specs())
def test_generated_specs_validate(doc: dict[str, Any]) -> None:
    text = spec_text(doc)
    load_schema_text(text)
    errors = [error.message for error in validator().iter_errors(load_yaml(text))]
    assert errors == []


def _spec(entity: str) -> str:
    return "version: 1\nentities:\n  Workspace:\n    fields:\n      name: string(200)\n" + entity


MISTAKES = {
    "misspelt field key": _spec("  Task:\n    fields:\n      due: {type: date, nulable: true}\n"),
    "string for a boolean": _spec(
        "  Task:\n    fields:\n      due: {type: date, nullable: 'yes'}\n"
    ),
    "SQL type name": _spec("  Task:\n    fields:\n      title: varchar(200)\n"),
    "unknown type": _spec("  Task:\n    fields:\n      title: {type: strnig, max_length: 9}\n"),
    "relation kind": _spec(
        "  Task:\n    relations:\n      owner: {kind: belongs_to, target: Workspace}\n"
    ),
    "on_delete": _spec(
        "  Task:\n    relations:\n"
        "      owner: {kind: many_to_one, target: Workspace, on_delete: nullify}\n"
    ),
    "index method": _spec("  Task:\n    fields:\n      title: {type: text, index: hash}\n"),
    "lower-case entity": _spec("  task:\n    fields:\n      title: text\n"),
    "camelCase field": _spec("  Task:\n    fields:\n      dueAt: datetime\n"),
    "unknown entity key": _spec("  Task:\n    feilds:\n      title: text\n"),
    "version 2": "version: 2\nentities:\n  Workspace:\n    fields:\n      name: text\n",
    "no version": "entities:\n  Workspace:\n    fields:\n      name: text\n",
    "unique as a flat list": _spec(
        "  Task:\n    fields:\n      title: text\n    unique: [title]\n"
    ),
    "check without a name": _spec(
        "  Task:\n    fields:\n      n: integer\n    checks:\n      - {expression: n > 0}\n"
    ),
    "tenancy without its entity": "version: 1\ntenancy: {column: tenant_id}\n"
    "entities:\n  Workspace:\n    fields:\n      name: text\n",
}


@pytest.mark.parametrize("text", list(MISTAKES.values()), ids=list(MISTAKES))
def test_typical_mistakes_are_flagged_by_schema_and_loader(text: str) -> None:
    assert list(validator().iter_errors(load_yaml(text))), "the schema lets it through"
    with pytest.raises(EntityforgeError):
        load_schema_text(text)


def test_extension_keys_and_shorthands_pass() -> None:
    text = "x-common: &name {type: string, max_length: 200}\n" + _spec(
        "  Task:\n    fields:\n      title: *name\n      cost: decimal(12, 2)\n"
        "      tags: {type: array, of: string(40)}\n"
        "      rank: {type: integer, index: true}\n"
    )
    load_schema_text(text)
    assert list(validator().iter_errors(load_yaml(text))) == []


def test_schema_line_is_added_once() -> None:
    text = "version: 1\n"
    assert with_schema_line(text) == SCHEMA_LINE + text
    assert with_schema_line(with_schema_line(text)) == SCHEMA_LINE + text
    own = "# yaml-language-server: $schema=https://example.org/s.json\nversion: 1\n"
    assert with_schema_line(own) == own
