"""The imported spec as YAML, in the style the examples use, with comments.

Entities, fields and relations are block mappings; a field or relation with options is
one flow mapping on its line (``email: {type: string, max_length: 320, unique: true}``).
A comment after a key says what the import decided there; the header lists what it
could not express, so nothing is lost between the database and the file.
"""

from __future__ import annotations

import io
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from entityforge.importer.findings import Finding
from entityforge.spec.modeline import SCHEMA_LINE

Path = tuple[str | int, ...]
# Mappings below these keys are written on one line each.
_FLOW_PARENTS = ("fields", "relations")
_HEADER = (
    "entities.yaml, imported from a PostgreSQL database by `entityforge import`.\n"
    "Comments after a key say what the import decided there. Check them, then run\n"
    "`entityforge generate`."
)


def spec_text(
    document: dict[str, Any], notes: dict[Path, str], findings: tuple[Finding, ...]
) -> str:
    tree = _commented(document, ())
    assert isinstance(tree, CommentedMap)
    for path, text in sorted(notes.items(), key=lambda item: tuple(map(str, item[0]))):
        _attach(tree, path, text)
    yaml = YAML()
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    buffer = io.StringIO()
    yaml.dump(tree, buffer)
    return SCHEMA_LINE + _header(findings) + buffer.getvalue()


def _header(findings: tuple[Finding, ...]) -> str:
    lines = _HEADER.splitlines()
    lost = [f for f in findings if f.outcome == "not imported"]
    changed = [f for f in findings if f.outcome != "not imported"]
    if lost:
        lines += ["", "Not expressed here (create them in revisions of your own):"]
        lines += [f"  {f.subject}: {' '.join(f.what.split())}" for f in lost]
    if changed:
        lines += ["", "Expressed with a change:"]
        lines += [f"  {f.subject}: {' '.join(f.what.split())}" for f in changed]
    return "".join(f"# {line}".rstrip() + "\n" for line in lines) + "\n"


def _commented(value: Any, path: Path) -> Any:
    if isinstance(value, dict):
        mapping = CommentedMap()
        for key, item in value.items():
            mapping[key] = _commented(item, (*path, key))
        if (
            len(path) >= 2
            and path[-2] in _FLOW_PARENTS
            or (len(path) >= 2 and path[-2] == "indexes")
        ):
            mapping.fa.set_flow_style()
        if path and path[-1] in ("tenancy",):
            mapping.fa.set_flow_style()
        return mapping
    if isinstance(value, list):
        sequence = CommentedSeq(_commented(item, (*path, i)) for i, item in enumerate(value))
        if all(not isinstance(item, (dict, list)) for item in value) or path[-1:] == ("unique",):
            sequence.fa.set_flow_style()
        return sequence
    return value


def _attach(tree: CommentedMap, path: Path, text: str) -> None:
    node: Any = tree
    for key in path[:-1]:
        node = node[key]
    if isinstance(node, CommentedMap) and path[-1] in node:
        node.yaml_add_eol_comment(" ".join(text.split()), path[-1])
