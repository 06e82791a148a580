"""Composing a spec with libyaml (PyYAML's C parser) into the nodes ruamel.yaml would make.

ruamel.yaml's pure-Python composer is most of the time spent loading a large spec
(0.56 s of 0.8 s for 200 entities); libyaml composes the same text in 30 ms. The tags
come from ruamel.yaml's YAML 1.2 resolver, so every scalar means what it means under
ruamel (``yes`` stays a string), and the nodes are ruamel's own, with the same lines and
columns (``tests/test_spec_fast_yaml.py`` compares the two paths, fuzzing included).

Only the plain YAML a spec is written in takes this path. Where the two parsers' rules
differ, or libyaml would place a node elsewhere, ``compose_fast`` returns None and ruamel
composes the text (and reports its errors) as before: no libyaml, a ``%`` directive, a
tab, an anchor (found by libyaml's scanner), a line break YAML 1.2 does not know (NEL,
LS, PS), a BOM, text libyaml rejects, a block scalar (``|``, ``>``), a local tag, an
empty value (``key:`` alone).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.resolver import VersionedResolver
from ruamel.yaml.tag import Tag

try:
    import yaml
    from yaml._yaml import CParser  # libyaml's binding (``yaml.cyaml`` imports it from here)
    from yaml.resolver import BaseResolver
except ImportError:  # PyYAML without libyaml, or no PyYAML: ruamel composes alone
    _LIBYAML = False
else:
    _LIBYAML = True

_STANDARD_TAG = "tag:yaml.org,2002:"
# Directives, tabs, and YAML 1.1's extra line breaks (1.2 reads them as text).
_TEXT_LEFT_TO_RUAMEL = ("\n%", "\t", "\x85", "\u2028", "\u2029", "\ufeff")
_BLOCK_STYLES = ("|", ">")
_RUAMEL_KINDS: dict[str, type[Node]] = {
    "ScalarNode": ScalarNode,
    "SequenceNode": SequenceNode,
    "MappingNode": MappingNode,
}


class _LeftToRuamel(Exception):
    """A node the two parsers might not read alike."""


def compose_fast(text: str) -> Node | None:
    """The root node of ``text`` composed by libyaml, or None to let ruamel do it."""
    if not _LIBYAML or text.startswith("%") or any(m in text for m in _TEXT_LEFT_TO_RUAMEL):
        return None
    if "&" in text and _has_anchors(text):
        return None
    loader = _loader_class()(text)
    try:
        root = loader.get_single_node()
    except (yaml.YAMLError, RecursionError, ValueError):
        return None
    finally:
        loader.dispose()
    if root is None:
        return None
    try:
        return _Copier().copy(root)
    except (RecursionError, _LeftToRuamel):
        return None


def _has_anchors(text: str) -> bool:
    """Whether libyaml's scanner finds an anchor (an ``&`` within quotes, as in an
    operator ``&&``, is text); text it cannot scan counts as having one."""
    scanner = CParser(text)
    try:
        while (token := scanner.get_token()) is not None:
            if isinstance(token, yaml.AnchorToken):
                return True
    except yaml.YAMLError:
        return True
    finally:
        scanner.dispose()
    return False


@cache
def _loader_class() -> type:
    resolver = VersionedResolver(version=(1, 2))

    class Loader(CParser, BaseResolver):
        """libyaml's parser and composer; tags from ruamel's YAML 1.2 resolver."""

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            BaseResolver.__init__(self)
            self.resolved: dict[tuple[str, Any, Any], str] = {}

        def resolve(self, kind: type, value: Any, implicit: Any) -> str:
            key = (kind.__name__, value, implicit)
            tag = self.resolved.get(key)
            if tag is None:
                tag = str(resolver.resolve(_RUAMEL_KINDS[kind.__name__], value, implicit))
                self.resolved[key] = tag
            return tag

    return Loader


class _Copier:
    """PyYAML nodes to ruamel nodes, sharing one ruamel ``Tag`` per tag (making a ``Tag``
    and reading it back costs more than composing the node)."""

    def __init__(self) -> None:
        self.tags: dict[str, Tag] = {}

    def copy(self, node: Any) -> Node:
        kind = _RUAMEL_KINDS[type(node).__name__]
        tag = self._tag(node.tag)
        start, end = node.start_mark, node.end_mark
        if kind is ScalarNode:
            if node.style in _BLOCK_STYLES or (node.value == "" and not node.style):
                raise _LeftToRuamel
            return ScalarNode(tag, node.value, start, end, style=node.style)
        if kind is MappingNode:
            pairs = [(self.copy(key), self.copy(value)) for key, value in node.value]
            return MappingNode(tag, pairs, start, end, flow_style=node.flow_style)
        items = [self.copy(item) for item in node.value]
        return SequenceNode(tag, items, start, end, flow_style=node.flow_style)

    def _tag(self, name: str) -> Tag:
        tag = self.tags.get(name)
        if tag is None:
            if not name.startswith(_STANDARD_TAG):
                raise _LeftToRuamel
            tag = self.tags[name] = Tag(suffix=name)
            str(tag)  # computed once, kept by the Tag
        return tag
