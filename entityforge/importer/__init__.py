"""``entityforge import``: a spec from a live PostgreSQL database, and what it missed.

    read the catalog (``live``) → recognise entityforge's shapes and the rest
    (``shapes``, ``tables``, ``recognise``) → write YAML with comments (``spec_yaml``)
    → check the spec as ``generate`` would and hold its catalog against the database.

The spec is never written when it does not load: an import that cannot produce a valid
spec fails with the loader's error instead.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from entityforge.catalog import build_catalog
from entityforge.errors import GenerationError
from entityforge.importer.constraints import fold_field_indexes
from entityforge.importer.findings import Finding, render_report
from entityforge.importer.live import LiveDatabase, read_database
from entityforge.importer.recognise import compare_with_database, recognise
from entityforge.importer.spec_yaml import spec_text
from entityforge.spec import load_schema_text

__all__ = ["ImportResult", "import_database", "import_from_url", "import_live", "render_report"]


@dataclass(frozen=True)
class ImportResult:
    text: str
    findings: tuple[Finding, ...]


def import_database(conninfo: str, schemas: str | Sequence[str] = "public") -> ImportResult:
    """Read ``schemas`` of the database at ``conninfo`` (libpq form) and make its spec."""
    return import_live(read_database(conninfo, schemas))


def import_from_url(url: str, schemas: str | Sequence[str] = "public") -> ImportResult:
    """As ``import_database``, for a libpq or SQLAlchemy URL (``postgresql+psycopg://``);
    a connection failure is a ``GenerationError`` that shows no password."""
    try:
        conninfo = make_url(url).set(drivername="postgresql").render_as_string(False)
    except ArgumentError:
        conninfo = url
    try:
        return import_database(conninfo, schemas)
    except psycopg.OperationalError as error:
        shown = (
            make_url(conninfo).render_as_string(hide_password=True)
            if "://" in conninfo
            else "the database"
        )
        raise GenerationError(
            f"cannot read {shown}: {str(error).strip()}",
            hint="check the URL, that the server runs, and that the user may connect",
        ) from None


def import_live(db: LiveDatabase) -> ImportResult:
    imported = recognise(db)
    document = _without_conventional_index_names(imported.document)
    draft = spec_text(document, imported.notes, imported.findings)
    catalog = build_catalog(load_schema_text(draft, "imported entities.yaml"))
    findings = imported.findings + tuple(compare_with_database(db, catalog))
    return ImportResult(spec_text(document, imported.notes, findings), findings)


def _without_conventional_index_names(document: dict[str, Any]) -> dict[str, Any]:
    """Keep an index's ``name`` only where the naming convention would name it otherwise."""
    bare = copy.deepcopy(document)
    for entity in bare["entities"].values():
        for index in entity.get("indexes", ()):
            index.pop("name", None)
    catalog = build_catalog(load_schema_text(spec_text(bare, {}, ()), "imported entities.yaml"))
    result = copy.deepcopy(document)
    for entity_name, entity in result["entities"].items():
        table = catalog.table(next(t.name for t in catalog.tables if t.entity == entity_name))
        built = {index.name for index in table.indexes}
        for index in entity.get("indexes", ()):
            if index.get("name") in built:
                del index["name"]
        fold_field_indexes(entity)
    return result
