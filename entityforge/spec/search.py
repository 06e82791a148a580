"""An entity's ``search`` key: full-text search over weighted fields.

The fields' words are kept, weighted, in a stored generated ``tsvector`` column
(``search_vector``) that a GIN index serves. Its generation expression is built here
from validated names and a configuration from a fixed list, never from spec text.

PostgreSQL refuses a ``tsvector`` whose lexemes and positions take more than 1 MB
(``string is too long for tsvector``), and a generated column's refusal is a refused
write. So the expression reads at most ``SEARCH_CHARACTERS`` characters of the fields
in all: the default parser makes at most two lexemes of a character (a hyphenated word
and its parts), four bytes each in UTF-8, and each lexeme's entry and position take
eight bytes more, so no text of that length reaches 16 bytes a character (the worst
measured is 10.5: four-byte letters in dotted hyphenated pairs). Fields shorter than
their share are read whole; the longer ones share what is left.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from entityforge.catalog.sql import quote_literal
from entityforge.naming import quote_identifier
from entityforge.schema import SEARCH_WEIGHTS, ColumnType, Field, SearchSpec, SearchWeight
from entityforge.spec.document import DocPath
from entityforge.spec.issues import Issues, did_you_mean
from entityforge.spec.raw import RawSearch

# PostgreSQL's largest tsvector, in bytes, and the most it may take a character.
MAX_TSVECTOR_BYTES = 1_048_575
WORST_BYTES_PER_CHARACTER = 16
SEARCH_CHARACTERS = MAX_TSVECTOR_BYTES // WORST_BYTES_PER_CHARACTER
# The text search configurations every PostgreSQL server has (``\dF``).
LANGUAGES = (
    "simple",
    "arabic",
    "armenian",
    "basque",
    "catalan",
    "danish",
    "dutch",
    "english",
    "finnish",
    "french",
    "german",
    "greek",
    "hindi",
    "hungarian",
    "indonesian",
    "irish",
    "italian",
    "lithuanian",
    "nepali",
    "norwegian",
    "portuguese",
    "romanian",
    "russian",
    "serbian",
    "spanish",
    "swedish",
    "tamil",
    "turkish",
    "yiddish",
)
SEARCHABLE_TYPES = ("string", "text")
SEARCH_COLUMN = "search_vector"


def build_search(
    issues: Issues, path: DocPath, raw: RawSearch, fields: Sequence[Field]
) -> tuple[SearchSpec, Field] | None:
    """The entity's search and the generated column that holds it, or None (reported)."""
    by_name = {field.name: field for field in fields}
    weighted: list[tuple[Field, SearchWeight]] = []
    if not raw.fields:
        issues.at_value(
            path + ("fields",),
            "a search needs at least one field",
            hint="name the string or text fields to search, each with a weight: {title: A}",
        )
    for name, weight in raw.fields.items():
        field = by_name.get(name)
        ok = _known_field(issues, path + ("fields", name), name, field, by_name)
        if weight not in SEARCH_WEIGHTS:
            issues.at_value(
                path + ("fields", name),
                f"'{weight}' is not a search weight",
                hint="weights are A (ranks highest), B, C and D",
            )
            ok = False
        if ok and field is not None:
            weighted.append((field, cast(SearchWeight, weight)))
    if raw.language not in LANGUAGES:
        close = did_you_mean(raw.language, LANGUAGES)
        issues.at_value(
            path + ("language",),
            f"'{raw.language}' is not a text search configuration PostgreSQL ships",
            hint=(f"did you mean '{close}'? " if close else "")
            + f"the configurations are: {', '.join(LANGUAGES)}",
        )
        return None
    if len(weighted) != len(raw.fields) or not weighted:
        return None
    spec = SearchSpec(tuple((field.name, weight) for field, weight in weighted), raw.language)
    column = Field(
        SEARCH_COLUMN,
        ColumnType("tsvector"),
        index="gin",
        generated=search_expression(spec, weighted),
        comment="The weighted words of " + ", ".join(f.name for f, _ in weighted) + ".",
    )
    return spec, column


def _known_field(
    issues: Issues, path: DocPath, name: str, field: Field | None, fields: dict[str, Field]
) -> bool:
    if field is None:
        close = did_you_mean(name, [f.name for f in fields.values()])
        issues.at_key(
            path,
            f"the search reads '{name}', which is not a field of this entity",
            hint=f"did you mean '{close}'?" if close else "name a string or text field",
        )
        return False
    if field.type.name not in SEARCHABLE_TYPES:
        issues.at_key(
            path,
            f"the search reads '{name}', whose type is {field.type.name}",
            hint="full-text search reads string and text fields",
        )
        return False
    if field.generated is not None:
        issues.at_key(
            path,
            f"the search reads '{name}', which is a generated column",
            hint="PostgreSQL computes generated columns from stored ones only: search the "
            "fields it is computed from",
        )
        return False
    return True


def search_expression(spec: SearchSpec, weighted: Sequence[tuple[Field, SearchWeight]]) -> str:
    """The generation expression: each field's words, weighted, at most
    ``SEARCH_CHARACTERS`` characters in all."""
    shares = character_shares([field.type.max_length for field, _ in weighted])
    language = f"{quote_literal(spec.language)}::regconfig"
    parts = []
    for (field, weight), share in zip(weighted, shares, strict=True):
        text = quote_identifier(field.name)
        if share is not None:
            text = f"left({text}, {share})"
        if field.nullable:
            text = f"coalesce({text}, '')"
        parts.append(f"setweight(to_tsvector({language}, {text}), {quote_literal(weight)})")
    return " || ".join(parts)


def character_shares(lengths: Sequence[int | None]) -> list[int | None]:
    """How many characters of each field the search reads: None for all of it (a field
    shorter than its share), else its share of ``SEARCH_CHARACTERS``."""
    shares: list[int | None] = [None] * len(lengths)
    left = SEARCH_CHARACTERS
    open_fields = list(range(len(lengths)))
    while open_fields:
        share = left // len(open_fields)
        fitting = [i for i in open_fields if (lengths[i] or SEARCH_CHARACTERS + 1) <= share]
        if not fitting:
            for i in open_fields:
                shares[i] = share
            break
        for i in fitting:
            left -= lengths[i] or 0
            open_fields.remove(i)
    return shares
