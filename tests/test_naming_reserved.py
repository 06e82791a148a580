"""naming keeps its own copy of PostgreSQL's reserved words: it must be SQLAlchemy's."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql.base import RESERVED_WORDS

from entityforge import naming


def test_reserved_words_are_sqlalchemys() -> None:
    assert frozenset(RESERVED_WORDS) == naming.RESERVED_WORDS
