"""The catalog as JSON, and the state blobs that revisions of earlier versions carry.

The JSON holds each dataclass as an object of its fields, leaving out fields equal to
their defaults; reading rebuilds the dataclasses from their type hints and every JSON
array as a tuple, so ``catalog_from_document(catalog_to_document(c)) == c``. Snapshots
(``entityforge.migrate.snapshot``) keep the schema in this form.

Revisions generated before snapshots end with a module constant, ``ENTITYFORGE_STATE``,
holding their whole catalog compressed and base64-encoded; ``read_state`` still reads
it (by parsing the file's text, never by importing it), so existing projects keep
working.
"""

from __future__ import annotations

import ast
import base64
import dataclasses
import json
import types
import typing
import zlib
from collections.abc import Callable
from functools import cache
from typing import Any

from entityforge.catalog import Catalog
from entityforge.errors import GenerationError

STATE_VARIABLE = "ENTITYFORGE_STATE"
STATE_FORMAT = 1


def catalog_to_document(catalog: Catalog) -> dict[str, Any]:
    """The catalog as JSON data (dicts, lists and scalars)."""
    document: dict[str, Any] = encode_value(catalog)
    return document


def catalog_from_document(document: dict[str, Any]) -> Catalog:
    catalog: Catalog = _decode(document, Catalog)
    return catalog


def catalog_from_json(text: str) -> Catalog:
    document = json.loads(text)
    if document.get("format") != STATE_FORMAT:
        raise GenerationError(
            f"recorded schema state has format {document.get('format')!r}, "
            f"this entityforge reads format {STATE_FORMAT}",
            hint="upgrade entityforge to the version that generated the revisions",
        )
    return catalog_from_document(document["catalog"])


def decode_state(chunks: tuple[str, ...] | str) -> Catalog:
    text = chunks if isinstance(chunks, str) else "".join(chunks)
    try:
        return catalog_from_json(zlib.decompress(base64.b64decode(text)).decode())
    except (ValueError, TypeError, KeyError, AttributeError, zlib.error) as error:
        raise GenerationError(
            f"the recorded schema state cannot be read: {error}",
            hint="restore the revision's ENTITYFORGE_STATE as it was generated",
        ) from None


def read_state(revision_text: str) -> Catalog | None:
    """The catalog a revision file records; ``None`` for a revision written by hand.

    Only the ``ENTITYFORGE_STATE = (...)`` statement is parsed when it stands at the
    start of a line (as generated): a large revision's upgrade code is not parsed again.
    """
    start = _state_statement_start(revision_text)
    if start is not None:
        try:
            tail = ast.parse(revision_text[start:])
        except SyntaxError:
            tail = None
        if tail is not None and len(tail.body) == 1:
            return _state_in(tail.body)
    try:
        module = ast.parse(revision_text)
    except SyntaxError:
        return None
    return _state_in(module.body)


def _state_statement_start(text: str) -> int | None:
    marker = f"\n{STATE_VARIABLE} = ("
    position = text.find(marker)
    return None if position < 0 else position + 1


def _state_in(statements: list[ast.stmt]) -> Catalog | None:
    for statement in statements:
        if (
            isinstance(statement, ast.Assign)
            and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name)
            and statement.targets[0].id == STATE_VARIABLE
        ):
            value = ast.literal_eval(statement.value)
            if isinstance(value, str):
                return decode_state(value)
    return None


def encode_value(value: Any) -> Any:
    """A dataclass (or tuple, or scalar) as JSON data, fields at their defaults left out."""
    if isinstance(value, tuple):
        return [encode_value(item) for item in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        encoded = {}
        for name, default in _field_defaults(type(value)):
            item = getattr(value, name)
            if default is _NO_DEFAULT or item != default:
                encoded[name] = encode_value(item)
        return encoded
    return value


_NO_DEFAULT = object()


@cache
def _field_defaults(dataclass: type) -> tuple[tuple[str, Any], ...]:
    """Each field's name and default (``_NO_DEFAULT`` when it has none), read once a class."""
    defaults = []
    for field in dataclasses.fields(dataclass):
        if field.default is not dataclasses.MISSING:
            default = field.default
        elif field.default_factory is not dataclasses.MISSING:
            default = field.default_factory()
        else:
            default = _NO_DEFAULT
        defaults.append((field.name, default))
    return tuple(defaults)


def _decode(value: Any, hint: Any) -> Any:
    return _decoder(hint)(value)


@cache
def _decoder(hint: Any) -> Callable[[Any], Any]:
    """A function that rebuilds a value of type ``hint`` from its JSON, made once a type.

    Decoding runs on every generation (the head's recorded catalog), so the type hints
    are read once here rather than at each value.
    """
    dataclass = _dataclass_in(hint)
    if dataclass is not None:
        fields = _field_types(dataclass)

        def build(value: Any) -> Any:
            if value is None:
                return None
            return dataclass(
                **{name: _decoder(fields[name])(item) for name, item in value.items()}
            )

        return build
    if typing.get_origin(hint) is tuple:
        arguments = typing.get_args(hint)
        if len(arguments) == 2 and arguments[1] is Ellipsis:
            item_decoder = _decoder(arguments[0])
            return lambda value: None if value is None else tuple(map(item_decoder, value))
    return _freeze


def _dataclass_in(hint: Any) -> type | None:
    """The dataclass ``hint`` names, alone or in a union with ``None``."""
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return hint
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        classes = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        if len(classes) == 1:
            return _dataclass_in(classes[0])
    return None


@cache
def _field_types(dataclass: type) -> dict[str, Any]:
    return typing.get_type_hints(dataclass)


def _freeze(value: Any) -> Any:
    """JSON data with every array as a tuple, the way the schema holds literal values."""
    if isinstance(value, list):
        return tuple(_freeze(item) for item in value)
    return value
