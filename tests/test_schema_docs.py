"""docs/schema.md and `entityforge erd`: drawn from the catalog, kept by generate.

The Mermaid text is held to the grammar of Mermaid's erDiagram parser (entity names,
one-word attribute types, key markers, cardinalities); the page lists every table,
column, key, index and check of the catalog, and the exact row-level-security and grant
statements of the initial revision.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings

from entityforge.catalog import Catalog, build_catalog
from entityforge.generators.docs import SCHEMA_DOC, code, render_schema_doc
from entityforge.generators.erd import dot, drawn_foreign_keys, mermaid
from entityforge.naming import quote_identifier
from entityforge.spec import load_schema, load_schema_text
from tests.conftest import EXAMPLE_SPEC, SPECS
from tests.inprocess import generate_project, unique_package
from tests.projects import entityforge
from tests.strategies import spec_text, specs

SPEC_FILES = sorted(SPECS.glob("*.yaml")) + [EXAMPLE_SPEC]

# The tokens of mermaid's erDiagram.jison (packages/mermaid/src/diagrams/er/parser).
ENTITY = r'"[^"%\r\n\v\b\\]+"'
ATTRIBUTE_WORD = r"[*A-Za-z_][A-Za-z0-9\-_*]*"
CARDINALITY_LEFT = r"(\|o|\|\||\}o|\}\|)"
CARDINALITY_RIGHT = r"(o\||\|\||o\{|\|\{)"
ENTITY_LINE = re.compile(rf"    {ENTITY}( \{{)?")
KEYS = r"( (PK|FK|UK)(, (PK|FK|UK))*)?"
ATTRIBUTE_LINE = re.compile(rf"        {ATTRIBUTE_WORD} {ATTRIBUTE_WORD}{KEYS}")
RELATION_LINE = re.compile(
    rf'    {ENTITY} {CARDINALITY_LEFT}--{CARDINALITY_RIGHT} {ENTITY} : "[^"]*"'
)


def catalog_of(path: Path) -> Catalog:
    return build_catalog(load_schema(path))


def assert_mermaid_grammar(text: str) -> None:
    lines = text.splitlines()
    assert lines[0] == "erDiagram"
    for line in lines[1:]:
        assert (
            line == "    }"
            or ENTITY_LINE.fullmatch(line)
            or ATTRIBUTE_LINE.fullmatch(line)
            or RELATION_LINE.fullmatch(line)
        ), line
        assert not re.search(r"direction\s+(TB|BT|RL|LR)", line, re.IGNORECASE), line


@pytest.mark.parametrize("path", SPEC_FILES, ids=lambda p: p.stem)
def test_diagram_follows_mermaid_grammar_and_shows_every_table_and_key(path: Path) -> None:
    catalog = catalog_of(path)
    text = mermaid(catalog)
    assert_mermaid_grammar(text)
    for table in catalog.tables:
        assert f'    "{table.name}" {{' in text
        for fk in drawn_foreign_keys(catalog, table):
            assert re.search(rf'"{fk.referred_table}" \S+ "{table.name}" : ', text), fk.name


@pytest.mark.parametrize("path", SPEC_FILES, ids=lambda p: p.stem)
def test_page_lists_every_column_key_index_and_check(path: Path) -> None:
    catalog = catalog_of(path)
    page = render_schema_doc(catalog)
    for table in catalog.tables:
        section = page.split(f"\n## {code(table.name)}\n", 1)[1].split("\n## ", 1)[0]
        for column in table.columns:
            assert f"| {code(column.name)} |" in section
        names = [u.name for u in table.uniques] + [fk.name for fk in table.foreign_keys]
        names += [i.name for i in table.indexes] + [c.name for c in table.checks]
        for name in names + [table.primary_key_name]:
            assert code(name) in section, name
        if table.tenant_scoped:
            assert "CREATE POLICY tenant_isolation" in section
            assert "FORCE ROW LEVEL SECURITY" in section
        reader = quote_identifier(catalog.roles.reader)
        assert f"GRANT SELECT ON {quote_identifier(table.name)} TO {reader};" in section


def test_hostile_comments_and_checks_stay_inside_their_cells() -> None:
    comment = "a | pipe, `ticks`, <b>html</b>, *stars* and\\na line"
    schema = load_schema_text(
        "version: 1\nentities:\n  Note:\n"
        f"    comment: {comment!r}\n"
        "    fields:\n"
        f"      body: {{type: text, comment: {comment!r}, check: \"body <> '|'\"}}\n"
    )
    page = render_schema_doc(build_catalog(schema))
    rows = [line for line in page.splitlines() if line.startswith("| `body`")]
    assert len(rows) == 1
    assert len(re.findall(r"(?<!\\)\|", rows[0])) == 6  # five cells
    assert "<b>" not in page and "\\<b\\>html\\</b\\>" in page
    assert "`` body <> '\\|' ``" not in page and "`body <> '\\|'`" in page


@settings(max_examples=30, deadline=None)
@given(specs())
def test_generated_specs_draw_valid_diagrams(doc: dict[str, object]) -> None:
    catalog = build_catalog(load_schema_text(spec_text(doc)))
    assert_mermaid_grammar(mermaid(catalog))
    page = render_schema_doc(catalog)
    assert page.count("\n## `") == len(catalog.tables)


def test_a_large_schema_draws_an_overview_and_each_table_with_its_neighbours() -> None:
    entities = "".join(
        f"  Part{n}:\n    fields:\n      label: text\n"
        + (
            f"    relations:\n      prev: {{kind: many_to_one, target: Part{n - 1}}}\n"
            if n
            else ""
        )
        for n in range(40)
    )
    catalog = build_catalog(load_schema_text(f"version: 1\nentities:\n{entities}"))
    page = render_schema_doc(catalog)
    diagrams = re.findall(r"```mermaid\n(.*?)```", page, re.DOTALL)
    assert len(diagrams) == 1 + len(catalog.tables)
    overview, *sections = diagrams
    assert_mermaid_grammar(overview)
    assert "{" not in overview.replace("||--o{", "") and overview.count(" : ") == 39
    for diagram in sections:
        assert_mermaid_grammar(diagram)
    middle = sections[20]
    assert re.findall(r'    "(\w+)" \{', middle) == ["part19s", "part20s", "part21s"]


def test_dot_is_one_record_per_table_and_one_arrow_per_drawn_key() -> None:
    catalog = catalog_of(EXAMPLE_SPEC)
    text = dot(catalog)
    assert text.startswith("digraph schema {") and text.endswith("}\n")
    assert text.count('[label="{') == len(catalog.tables)
    arrows = sum(len(drawn_foreign_keys(catalog, table)) for table in catalog.tables)
    assert text.count(" -> ") == arrows


def test_generate_keeps_the_page_and_check_notices_it(tmp_path: Path) -> None:
    package = unique_package()
    spec = (SPECS / "single_tenant_blog.yaml").read_text()
    generate_project(tmp_path, spec, package)
    page = tmp_path / SCHEMA_DOC
    assert page.read_text() == render_schema_doc(build_catalog(load_schema_text(spec)))
    assert entityforge("generate", "--check", cwd=tmp_path).returncode == 0

    page.unlink()
    stale = entityforge("generate", "--check", cwd=tmp_path)
    assert stale.returncode == 1 and SCHEMA_DOC in stale.stderr
    generate_project(tmp_path, spec, package)
    assert page.is_file()

    added = "      x: {type: text, nullable: true}\n"
    changed = spec.replace("      name: string(120)\n", "      name: string(120)\n" + added)
    (tmp_path / "entities.yaml").write_text(changed)
    stale = entityforge("generate", "--check", cwd=tmp_path)
    assert stale.returncode == 1 and SCHEMA_DOC in stale.stderr
    generate_project(tmp_path, changed, package)
    assert "| `x` | `text` | yes |" in page.read_text()


@pytest.mark.parametrize("form", ["mermaid", "dot"])
def test_erd_prints_the_diagram_of_a_spec(tmp_path: Path, form: str) -> None:
    result = entityforge("erd", "--spec", str(EXAMPLE_SPEC), "--format", form, cwd=tmp_path)
    assert result.returncode == 0, result.output
    catalog = catalog_of(EXAMPLE_SPEC)
    assert result.stdout == (mermaid(catalog) if form == "mermaid" else dot(catalog))


def test_erd_reports_a_bad_spec_without_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "entities.yaml").write_text("version: 1\nentities:\n  task: {}\n")
    result = entityforge("erd", cwd=tmp_path)
    assert result.returncode == 2
    assert "entities.yaml:3:3" in result.stderr and "Traceback" not in result.output
