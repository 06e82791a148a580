"""Reading an entity's ``search`` back from its ``search_vector`` column.

The column ``search`` makes is a stored generated ``tsvector`` whose expression
PostgreSQL prints as ``setweight(to_tsvector('english'::regconfig, (subject)::text),
'A'::"char") || ...``, each field perhaps under ``"left"(...)`` and ``COALESCE(...,
''::text)``. An expression of that shape, over the table's string and text columns in
one configuration, is the spec's ``search``; any other ``tsvector`` column is reported.
"""

from __future__ import annotations

from typing import Any

from pglast import ast

from entityforge.importer.draft import EntityDraft
from entityforge.parse_tree import column_name, function_name, select_target
from entityforge.schema import SEARCH_WEIGHTS
from entityforge.spec.search import LANGUAGES, SEARCH_COLUMN

_TEXT_TYPES = ("varchar", "text")


def search_columns(draft: EntityDraft) -> set[str]:
    """The table's ``tsvector`` columns: the spec's ``search`` where one has its shape
    (written into the draft), reported otherwise; the fields leave them out."""
    columns = {c.name for c in draft.table.columns if c.type.name == "tsvector"}
    for name in sorted(columns):
        column = draft.table.column(name)
        search = _search(draft, column.generated) if name == SEARCH_COLUMN else None
        if search is not None:
            draft.doc["search"] = search
            continue
        draft.find(
            f"column {draft.table.name}.{name}",
            "a tsvector column the spec's search does not make",
            "declare 'search' on the entity for its fields (it adds search_vector), or keep "
            "this column in a revision of your own",
        )
    return columns


def _search(draft: EntityDraft, expression: str | None) -> dict[str, Any] | None:
    if expression is None:
        return None
    fields: dict[str, str] = {}
    languages: set[str] = set()
    for part in _concatenated(select_target(expression)):
        found = _weighted_field(part)
        if found is None:
            return None
        name, weight, language = found
        column = next((c for c in draft.table.columns if c.name == name), None)
        if column is None or column.type.name not in _TEXT_TYPES or name in fields:
            return None
        fields[name] = weight
        languages.add(language)
    if len(languages) != 1 or not fields:
        return None
    search: dict[str, Any] = {"fields": fields}
    (language,) = languages
    if language != "simple":
        search["language"] = language
    return search


def _concatenated(node: Any) -> list[Any]:
    """The operands of a chain of ``||``."""
    if isinstance(node, ast.A_Expr) and _operator(node) == "||":
        return [*_concatenated(node.lexpr), *_concatenated(node.rexpr)]
    return [node]


def _weighted_field(node: Any) -> tuple[str, str, str] | None:
    """``(field, weight, language)`` of ``setweight(to_tsvector(language, field), weight)``."""
    if not isinstance(node, ast.FuncCall) or function_name(node) != "setweight":
        return None
    arguments = node.args or ()
    if len(arguments) != 2:
        return None
    vector, weight = arguments
    weight_text = _string(weight)
    if not isinstance(vector, ast.FuncCall) or function_name(vector) != "to_tsvector":
        return None
    if weight_text not in SEARCH_WEIGHTS or len(vector.args or ()) != 2:
        return None
    language, text = vector.args or (None, None)
    language_text = _string(language)
    field = _field(text)
    if language_text not in LANGUAGES or field is None:
        return None
    return field, weight_text, language_text


def _field(node: Any) -> str | None:
    """The column under casts, ``COALESCE(x, '')`` and ``left(x, n)``."""
    while True:
        if isinstance(node, ast.TypeCast):
            node = node.arg
        elif isinstance(node, ast.CoalesceExpr):
            value, *otherwise = node.args or (None,)
            if [_string(other) for other in otherwise] != [""]:
                return None
            node = value
        elif isinstance(node, ast.FuncCall) and function_name(node) == "left":
            node = (node.args or (None,))[0]
        elif isinstance(node, ast.ColumnRef):
            return column_name(node)
        else:
            return None


def _string(node: Any) -> str | None:
    """The string of a (cast) string constant."""
    while isinstance(node, ast.TypeCast):
        node = node.arg
    if isinstance(node, ast.A_Const) and isinstance(node.val, ast.String):
        return str(node.val.sval)
    return None


def _operator(node: ast.A_Expr) -> str | None:
    names = node.name or ()
    return str(names[-1].sval) if names else None
