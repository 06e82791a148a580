"""The function behind every id's server default: ``uuidv7()``.

PostgreSQL 18 has ``uuidv7()`` (time-ordered UUIDs, RFC 9562). On an older server the
revision creates ``public.uuidv7()`` with the same result, from ``gen_random_uuid()``
and the clock; the defaults then resolve to it. On 18 and later nothing is created
(``pg_catalog`` comes first in every search path, so the built-in one is used).
"""

from __future__ import annotations

from dataclasses import dataclass

from entityforge.migrate.operations import Operation


@dataclass(frozen=True)
class CreateUuidv7Function(Operation):
    """Create ``public.uuidv7()`` where the server lacks it (before PostgreSQL 18)."""

    def reverse(self) -> DropUuidv7Function:
        return DropUuidv7Function()


@dataclass(frozen=True)
class DropUuidv7Function(Operation):
    """Drop ``public.uuidv7()`` if a revision created it."""

    def reverse(self) -> CreateUuidv7Function:
        return CreateUuidv7Function()
