"""The recorded schema: snapshots, the changes revisions record, heads and merges."""

from __future__ import annotations

import ast
import base64
import json
import zlib
from pathlib import Path

import black
import pytest

from entityforge.catalog import Catalog, Column, Table, build_catalog
from entityforge.errors import GenerationError
from entityforge.generators import GenerationContext
from entityforge.generators.migrations import generate
from entityforge.generators.migrations.code import python_data
from entityforge.migrate.history import read_graph
from entityforge.migrate.plan import TABLES_PER_PART
from entityforge.migrate.snapshot import (
    apply_change,
    catalog_from_entries,
    change_between,
    entries,
    merge_entries,
    read_snapshot,
    snapshot_text,
)
from entityforge.migrate.state import catalog_from_document, catalog_to_document, read_state
from entityforge.schema import ColumnType, DefaultValue
from entityforge.spec import load_schema, load_schema_text

REPO = Path(__file__).resolve().parents[1]
SPECS = [
    REPO / "entityforge" / "examples" / "entities.yaml",
    *sorted((REPO / "tests" / "specs").glob("*.yaml")),
]
VERSIONS = "app/alembic/versions/"
NOTES = """\
version: 1
tenancy: {entity: Account}
entities:
  Account:
    fields:
      name: string(100)
  Note:
    fields:
      title: string(200)
      status: {type: enum, values: [draft, live], default: draft}
    indexes:
      - {columns: [status]}
"""


def catalog_of(text: str) -> Catalog:
    return build_catalog(load_schema_text(text))


def with_field(spec: str, entity: str, line: str) -> str:
    marker = f"  {entity}:\n    fields:\n"
    assert marker in spec
    return spec.replace(marker, f"{marker}      {line}\n")


class History:
    """A project's revisions and snapshots, as generating into it leaves them."""

    def __init__(self) -> None:
        self.revisions: dict[str, str] = {}
        self.snapshots: dict[str, str] = {}

    def copy(self) -> History:
        other = History()
        other.revisions, other.snapshots = dict(self.revisions), dict(self.snapshots)
        return other

    def generate(self, spec: str, **options: object) -> dict[str, str]:
        context = GenerationContext(
            load_schema_text(spec),
            revisions=tuple(sorted(self.revisions.items())),
            snapshots=tuple(sorted(self.snapshots.items())),
            **options,  # type: ignore[arg-type]
        )
        files = generate(context)
        new = {p[len(VERSIONS) :]: t for p, t in files.items() if p.startswith(VERSIONS)}
        for name in new:
            assert name not in self.revisions, name
        self.revisions.update(new)
        self.snapshots = {
            path.rsplit("/", 1)[1]: text
            for path, text in files.items()
            if path.startswith("app/alembic/schema/")
        }
        return new

    def merged(self, other: History) -> History:
        both = self.copy()
        both.revisions.update(other.revisions)
        both.snapshots.update(other.snapshots)
        return both


@pytest.mark.parametrize("spec", SPECS, ids=lambda path: path.stem)
def test_the_schema_round_trips_through_documents_entries_and_snapshots(spec: Path) -> None:
    catalog = build_catalog(load_schema(spec))
    assert catalog_from_document(catalog_to_document(catalog)) == catalog
    flat = entries(catalog)
    assert catalog_from_entries(flat) == catalog
    revision, read = read_snapshot("x.json", snapshot_text("abc", flat))
    assert (revision, read) == ("abc", flat)
    assert catalog_from_entries(read) == catalog


def test_literal_values_keep_their_tuples() -> None:
    column = Column(
        "prefs",
        ColumnType("json"),
        default=DefaultValue((("a", (1, 2.5, None)), ("b", True)), "object"),
    )
    catalog = Catalog(tables=(Table("t", (column,), ("id",)),))
    restored = catalog_from_entries(entries(catalog))
    assert restored == catalog
    default = restored.tables[0].columns[0].default
    assert default is not None and default.value == (("a", (1, 2.5, None)), ("b", True))


def test_a_change_is_the_entries_that_differ_and_applies_both_ways() -> None:
    before = catalog_of(NOTES)
    after = catalog_of(
        with_field(NOTES, "Note", "body: {type: text, nullable: true}").replace(
            "string(200)", "string(250)"
        )
    )
    change = change_between(before, after)
    assert sorted(change) == ["tables[notes].columns[body]", "tables[notes].columns[title]"]
    assert set(change["tables[notes].columns[body]"]) == {"new"}
    assert change["tables[notes].columns[title]"]["old"]["type"]["max_length"] == 200
    # The same entries (a column added to a live table goes last, whatever the spec says).
    assert apply_change(entries(before), change) == entries(after)
    assert apply_change(entries(after), change, reverse=True) == entries(before)
    with pytest.raises(GenerationError, match="does not match the revisions"):
        apply_change(entries(after), change)


def test_merging_keeps_both_sides_and_refuses_a_conflict() -> None:
    base = entries(catalog_of(NOTES))
    ours = entries(catalog_of(with_field(NOTES, "Note", "a: {type: integer, nullable: true}")))
    theirs = entries(catalog_of(with_field(NOTES, "Account", "b: {type: text, nullable: true}")))
    merged = catalog_from_entries(merge_entries(base, ours, theirs))
    assert {c.name for c in merged.table("notes").columns} >= {"a", "title"}
    assert {c.name for c in merged.table("accounts").columns} >= {"b", "name"}
    other = entries(catalog_of(with_field(NOTES, "Note", "a: {type: text, nullable: true}")))
    with pytest.raises(GenerationError, match=r"differently:\n  tables\[notes\]\.columns\[a\]"):
        merge_entries(base, ours, other)


def test_the_first_revision_writes_the_snapshot_and_later_ones_record_changes() -> None:
    history = History()
    (first,) = history.generate(NOTES)
    assert first.startswith("0001_initial")
    (snapshot,) = history.snapshots
    assert "ENTITYFORGE" not in history.revisions[first]
    assert history.generate(NOTES) == {}
    changed = NOTES.replace("string(200)", "string(250)")
    (second,) = history.generate(changed)
    assert second.startswith("0002_")
    text = history.revisions[second]
    assert "ENTITYFORGE_CHANGES" in text and "ENTITYFORGE_STATE" not in text
    assert len(text) < 1500
    assert history.snapshots.keys() == {snapshot}
    assert history.generate(changed) == {}
    graph = read_graph(history.revisions.items(), history.snapshots.items())
    (head,) = graph.heads
    assert graph.state_at(head) == catalog_of(changed)


def test_revision_ids_are_digests_of_the_revision() -> None:
    history = History()
    history.generate(NOTES)
    ours, theirs = history.copy(), history.copy()
    (a,) = ours.generate(NOTES.replace("string(200)", "string(250)"))
    (b,) = theirs.generate(NOTES.replace("string(200)", "string(300)"))
    assert a == b and ours.revisions[a] != theirs.revisions[b]
    assert read_graph(ours.revisions.items()).heads != read_graph(theirs.revisions.items()).heads
    again = history.copy()
    assert again.generate(NOTES.replace("string(200)", "string(250)")) == {a: ours.revisions[a]}


def test_two_heads_are_merged_by_a_revision_with_both_parents() -> None:
    history = History()
    history.generate(NOTES)
    ours, theirs = history.copy(), history.copy()
    spec_a = with_field(NOTES, "Note", "a: {type: integer, nullable: true}")
    spec_b = with_field(NOTES, "Account", "b: {type: text, nullable: true}")
    ours.generate(spec_a)
    theirs.generate(spec_b)
    merged = ours.merged(theirs)
    both = with_field(spec_a, "Account", "b: {type: text, nullable: true}")
    (name,) = merged.generate(both)
    text = merged.revisions[name]
    assert name.startswith("0003_merge_add_")
    assert "down_revision: tuple[str, ...] = (" in text
    assert text.count("    pass\n") == 2
    assert merged.generate(both) == {}
    # A change made while merging is the merge revision's upgrade.
    again = ours.merged(theirs)
    (name,) = again.generate(with_field(both, "Note", "c: {type: text, nullable: true}"))
    assert "op.add_column" in again.revisions[name]
    assert "merge add_a_to_notes and add_b_to_accounts; add c to notes" in again.revisions[name]


def test_branches_changing_one_column_differently_are_refused() -> None:
    history = History()
    history.generate(NOTES)
    ours, theirs = history.copy(), history.copy()
    ours.generate(NOTES.replace("string(200)", "string(250)"), message="ours")
    theirs.generate(NOTES.replace("string(200)", "string(300)"), message="theirs")
    with pytest.raises(GenerationError, match=r"tables\[notes\]\.columns\[title\]"):
        ours.merged(theirs).generate(NOTES.replace("string(200)", "string(300)"))


def legacy_revision(revision: str, down: str | None, catalog: Catalog) -> str:
    """A revision as entityforge wrote them before snapshots: the whole state in a blob."""
    document = {"format": 1, "catalog": catalog_to_document(catalog)}
    blob = base64.b64encode(zlib.compress(json.dumps(document).encode())).decode()
    return (
        f'"""legacy"""\nrevision = {revision!r}\ndown_revision = {down!r}\n\n\n'
        f"def upgrade() -> None:\n    pass\n\n\nENTITYFORGE_STATE = (\n    {blob!r}\n)\n"
    )


def test_a_project_whose_revisions_carry_state_blobs_keeps_working() -> None:
    history = History()
    text = legacy_revision("0001", None, catalog_of(NOTES))
    assert read_state(text) == catalog_of(NOTES)
    history.revisions["0001_initial.py"] = text
    history.revisions["0002_fix.py"] = '"""by hand"""\nrevision = "0002"\ndown_revision = "0001"\n'
    assert history.generate(NOTES) == {}
    changed = NOTES.replace("string(200)", "string(250)")
    (name,) = history.generate(changed)
    assert name.startswith("0003_") and 'down_revision: str | None = "0002"' in (
        history.revisions[name].replace("'", '"')
    )
    assert history.generate(changed) == {}


def test_damaged_or_missing_records_are_reported() -> None:
    damaged = (
        'revision = "0001"\ndown_revision = None\nENTITYFORGE_STATE = ("eJzLSM3JyQcABiwCFQ==")\n'
    )
    with pytest.raises(GenerationError, match="revision 0001_initial.py: the recorded schema"):
        read_graph([("0001_initial.py", damaged)]).state_at("0001")
    with pytest.raises(GenerationError, match="no snapshot or revision tells the schema"):
        read_graph([("a.py", "revision = 'a'\ndown_revision = None\n")]).state_at("a")
    with pytest.raises(GenerationError, match="x.json: the schema snapshot cannot be read"):
        read_snapshot("x.json", "{\n<<<<<<< HEAD\n")
    with pytest.raises(GenerationError, match="have the same id"):
        read_graph([("a.py", "revision = 'a'\n"), ("b.py", "revision = 'a'\n")])


def test_a_revision_creating_many_tables_is_cut_into_parts_that_commit() -> None:
    spec = (
        "version: 1\ntenancy: {entity: Account}\nentities:\n  Account:\n    fields: {name: text}\n"
    )
    spec += "".join(
        f"  Item{n}:\n    fields: {{name: text}}\n" for n in range(TABLES_PER_PART * 2)
    )
    history = History()
    names = sorted(history.generate(spec))
    assert names == [
        "0001_initial_part_1_of_3.py",
        "0002_initial_part_2_of_3.py",
        "0003_initial_part_3_of_3.py",
    ]
    texts = [history.revisions[name] for name in names]
    assert [text.count("op.create_table(") for text in texts] == [100, 100, 1]
    # The snapshot holds the whole schema; no part records changes.
    assert not any("ENTITYFORGE_CHANGES" in text for text in texts)
    commit = "with op.get_context().autocommit_block():\n        pass"
    upgrades = [text[text.index("def upgrade") : text.index("def downgrade")] for text in texts]
    downgrades = [text[text.index("def downgrade") :] for text in texts]
    assert [commit in upgrade for upgrade in upgrades] == [False, True, True]
    assert [commit in downgrade for downgrade in downgrades] == [True, True, False]
    graph = read_graph(history.revisions.items(), history.snapshots.items())
    assert len(graph.heads) == 1 and len(graph.snapshots) == 1
    assert graph.entries_at(graph.heads[0]) == entries(build_catalog(load_schema_text(spec)))
    assert history.generate(spec) == {}


def test_a_merge_written_by_alembic_leads_to_both_branches_schemas() -> None:
    history = History()
    history.generate(NOTES)
    ours, theirs = history.copy(), history.copy()
    spec_a = with_field(NOTES, "Note", "a: {type: integer, nullable: true}")
    ours.generate(spec_a)
    theirs.generate(with_field(NOTES, "Account", "b: {type: text, nullable: true}"))
    merged = ours.merged(theirs)
    heads = read_graph(merged.revisions.items(), merged.snapshots.items()).heads
    merged.revisions["0003_merge_heads.py"] = (
        f'"""merge heads"""\nrevision = "m3"\ndown_revision = {heads!r}\n'
    )
    both = with_field(spec_a, "Account", "b: {type: text, nullable: true}")
    assert merged.generate(both) == {}
    (name,) = merged.generate(with_field(both, "Note", "c: {type: text, nullable: true}"))
    assert name == "0004_add_c_to_notes.py"
    assert "down_revision: str | None = 'm3'" in merged.revisions[name]


def test_recorded_changes_keep_every_line_within_the_line_length() -> None:
    """A long value deep in ``ENTITYFORGE_CHANGES`` (a search column's expression) is cut
    into pieces that black keeps within 99 columns; the literal reads back the same."""
    expression = "setweight(to_tsvector('simple'::regconfig, coalesce(name, '')), 'A')"
    changes = {
        "0f3e2d1c": {
            "tables[tasks].columns[search_vector]": {
                "new": {"comment": "The weighted words of name.", "generated": expression},
                "old": [expression * 2, None, 1],
            }
        }
    }
    source = f"ENTITYFORGE_CHANGES: dict[str, object] = {python_data(changes)}\n"
    formatted = black.format_str(source, mode=black.Mode(line_length=99))
    assert max(len(line) for line in formatted.splitlines()) <= 99, formatted
    statement = ast.parse(formatted).body[0]
    assert isinstance(statement, ast.AnnAssign) and statement.value is not None
    assert ast.literal_eval(statement.value) == changes
