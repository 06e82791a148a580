"""An entity's modules kept from the last generation when nothing they read has changed.

Most files a generation writes belong to one entity (its model, schema, repository and
test module, its section of ``docs/schema.md``), and a change of one field leaves nearly
all of them as they were. Each is rendered from a *key*, the digest of what its
renderers read:

- the generator itself (``render_cache.generator_fingerprint``) and the package name;
- what every entity's renderers see of the schema as a whole: the tenancy, the roles,
  the enum storage, the views, the enum types the recorded schema keeps, and the shape of
  every entity (its name, table, schema, flags, relations and policies, its fields,
  keys, indexes and checks left out): cycles of foreign keys, cascades over several
  tables and who refers to whom are decided over the whole graph, so a change to it
  renders every entity again;
- the entity in full, the entities it refers to and those that refer to it, the tenant
  entity, the entities whose tables its policies name, and the targets of one-to-one
  relations from any of them followed as far as they go (a row's capacity is bounded
  along them).

The key of each entity's path is kept in ``.entityforge/cache/entity-keys.json``
(machine-local, out of version control); when a generation finds the same key and the
last generated copy of the path, the copy is its text: the path is neither rendered nor
formatted again. A page's section is kept as its span in the page's last generated copy.
Anything else is rendered as usual, so deleting the cache only costs a full render.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from entityforge.project import read_text
from entityforge.schema import Entity, Schema


@dataclass
class Reuse:
    """The kept copies a generation may use in place of rendering, and the keys it saw.

    ``recorded`` maps a path to the key it was last rendered from, ``base_dir`` holds the
    last generated copies and ``fingerprint`` the digest of the generator and of what
    every key shares (empty: nothing is kept, every path is rendered)."""

    recorded: Mapping[str, str] = field(default_factory=dict)
    base_dir: Path | None = None
    fingerprint: str = ""
    keys: dict[str, str] = field(default_factory=dict)
    """Every per-entity path of this generation with its key."""
    texts: dict[str, str] = field(default_factory=dict)
    """The kept copies used in place of a render, by path."""
    facts: dict[str, dict[str, bool]] = field(default_factory=dict)
    """What a generator noted of a path's render that other files of it depend on."""
    recorded_sections: Mapping[str, Mapping[str, tuple[str, int, int]]] = field(
        default_factory=dict
    )
    """Per page, the sections the last generation rendered for an entity: their keys and
    where they stand in the page's last generated copy."""
    sections: dict[str, dict[str, tuple[str, str]]] = field(default_factory=dict)
    """Per page, the sections of this generation (rendered or kept): key and text."""
    _entity_keys: dict[str, str] = field(default_factory=dict)
    _definitions: dict[str, str] = field(default_factory=dict)
    _pages: dict[str, str | None] = field(default_factory=dict)

    def kept(self, schema: Schema, entity: Entity, path: str) -> bool:
        """Whether ``path`` of ``entity`` is its last generated copy (its render skipped)."""
        if not self.fingerprint:
            return False
        key = self.keys[path] = self.key(schema, entity)
        if self.recorded.get(path) != key or self.base_dir is None:
            return False
        text = read_text(self.base_dir / path)
        if text is None:
            return False
        self.texts[path] = text
        return True

    def kept_section(self, schema: Schema, entity: Entity, page: str, name: str) -> str | None:
        """The section ``name`` of ``page`` the last generation rendered for ``entity``,
        when its key did not change (None: render it, then ``record_section``)."""
        if not self.fingerprint or self.base_dir is None:
            return None
        key = self.key(schema, entity)
        found = self.recorded_sections.get(page, {}).get(name)
        if found is None or found[0] != key:
            return None
        if page not in self._pages:
            self._pages[page] = read_text(self.base_dir / page)
        text = self._pages[page]
        if text is None or not 0 <= found[1] < found[2] <= len(text):
            return None
        return text[found[1] : found[2]]

    def record_section(
        self, schema: Schema, entity: Entity, page: str, name: str, text: str
    ) -> None:
        """Keep the section ``name`` of ``page`` (rendered or kept) for ``entity``; the
        sections of a page are recorded in the order they stand in it."""
        if self.fingerprint:
            self.sections.setdefault(page, {})[name] = (self.key(schema, entity), text)

    def key(self, schema: Schema, entity: Entity) -> str:
        """The key of ``entity``'s modules (module docstring)."""
        key = self._entity_keys.get(entity.name)
        if key is None:
            scope = entity_scope(schema, entity)
            definitions = [self._definition(schema.entity(name)) for name in scope]
            key = _digest((self.fingerprint, entity.name, *definitions))
            self._entity_keys[entity.name] = key
        return key

    def _definition(self, entity: Entity) -> str:
        """The digest of ``entity`` in full (its frozen fields' representation)."""
        found = self._definitions.get(entity.name)
        if found is None:
            found = self._definitions[entity.name] = _digest((repr(entity),))
        return found

    def note(self, path: str, name: str, value: bool) -> None:
        """Keep ``name`` of the render of ``path`` for a generation that reuses it."""
        self.facts.setdefault(path, {})[name] = value

    def fact(self, path: str, name: str) -> bool:
        """What the render of a kept ``path`` noted as ``name``."""
        return self.facts.get(path, {}).get(name, False)


def load(keys_file: Path, base_dir: Path, fingerprint: str) -> Reuse:
    """The keys (and facts) the last written generation kept in ``keys_file``, for the
    copies in ``base_dir``."""
    text = read_text(keys_file)
    try:
        data = json.loads(text) if text is not None else {}
    except json.JSONDecodeError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    entries = data.get("paths", {})
    recorded, facts = {}, {}
    if isinstance(entries, dict):
        for path, entry in entries.items():
            if isinstance(entry, dict) and isinstance(entry.get("key"), str):
                recorded[path] = entry["key"]
                noted = entry.get("facts", {})
                if isinstance(noted, dict):
                    facts[path] = {k: v for k, v in noted.items() if isinstance(v, bool)}
    sections: dict[str, dict[str, tuple[str, int, int]]] = {}
    pages = data.get("sections", {})
    for page, kept in pages.items() if isinstance(pages, dict) else ():
        for name, entry in kept.items() if isinstance(kept, dict) else ():
            if _is_span(entry):
                sections.setdefault(page, {})[name] = (entry[0], entry[1], entry[2])
    return Reuse(recorded, base_dir, fingerprint, facts=facts, recorded_sections=sections)


def _is_span(entry: object) -> bool:
    """Whether ``entry`` is ``[key, start, end]``."""
    return (
        isinstance(entry, list)
        and len(entry) == 3
        and isinstance(entry[0], str)
        and all(isinstance(offset, int) for offset in entry[1:])
    )


def dump(reuse: Reuse, outputs: Mapping[str, str]) -> str:
    """The text of the keys file for the generation ``reuse`` saw, whose files are
    ``outputs`` (a section is kept as where it stands in its page)."""
    paths = {
        path: {"key": key, **({"facts": reuse.facts[path]} if reuse.facts.get(path) else {})}
        for path, key in sorted(reuse.keys.items())
    }
    sections: dict[str, dict[str, list[object]]] = {}
    for page, rendered in sorted(reuse.sections.items()):
        text, start = outputs.get(page, ""), 0
        for name, (key, section) in rendered.items():
            found = text.find(section, start)
            if found < 0:
                continue
            start = found + len(section)
            sections.setdefault(page, {})[name] = [key, found, start]
    document = {"paths": paths, "sections": sections}
    return json.dumps(document, indent=1, sort_keys=True) + "\n"


def shared_fingerprint(
    schema: Schema, generator: str, package: str, native_enums: frozenset[str]
) -> str:
    """The digest of what every entity's key holds: generator, package, schema as a whole."""
    whole = (
        generator,
        package,
        schema.version,
        schema.tenancy,
        schema.roles,
        schema.enum_storage,
        schema.views,
        tuple(sorted(native_enums)),
        tuple(_shape(entity) for entity in schema.entities),
    )
    return _digest((repr(whole),))


# What only an entity's own modules and its neighbours' read of it.
_LOCAL = frozenset({"fields", "indexes", "unique", "checks", "exclusions", "comment"})


def _shape(entity: Entity) -> tuple[tuple[str, object], ...]:
    """The entity but for what only it and its neighbours read (fields, keys, indexes)."""
    return tuple(
        (item.name, getattr(entity, item.name))
        for item in dataclasses.fields(entity)
        if item.name not in _LOCAL
    )


def entity_scope(schema: Schema, entity: Entity) -> list[str]:
    """The entities whose definitions the renderers of ``entity``'s modules read, sorted:
    the entity, those it refers to and those that refer to it, the tenant entity, the
    entities whose tables its policies name, and the targets of one-to-one relations
    from any of them, followed as far as they go."""
    names = {entity.name}
    names.update(_named_by_policies(schema, entity))
    names.update(relation.target for relation in entity.relations)
    names.update(owner.name for owner, _ in schema.relations_to(entity.name))
    if schema.tenancy is not None:
        names.add(schema.tenancy.entity)
    pending = sorted(names)
    while pending:
        for relation in schema.entity(pending.pop()).relations:
            if relation.kind == "one_to_one" and relation.target not in names:
                names.add(relation.target)
                pending.append(relation.target)
    return sorted(names)


def _named_by_policies(schema: Schema, entity: Entity) -> set[str]:
    """The entities whose table names occur as words in ``entity``'s policies' SQL."""
    sql = " ".join(
        text for policy in entity.policies for text in (policy.using, policy.check) if text
    )
    if not sql:
        return set()
    words = set(re.findall(r"\w+", sql))
    return {other.name for other in schema.entities if other.table in words}


def _digest(parts: tuple[str, ...]) -> str:
    hasher = hashlib.sha256()
    for part in parts:
        data = part.encode()
        hasher.update(len(data).to_bytes(8, "big"))
        hasher.update(data)
    return hasher.hexdigest()
