"""Default table names: English plurals from ``inflection``, and old projects keep theirs."""

from __future__ import annotations

from pathlib import Path

import pytest

from entityforge import naming
from tests.projects import entityforge, new_project


@pytest.mark.parametrize(
    ("entity", "table"),
    [
        ("Person", "people"),
        ("Child", "children"),
        ("Staff", "staff"),
        ("Communications", "communications"),
        ("Category", "categories"),
        ("Address", "addresses"),
        ("OrderItem", "order_items"),
        ("SlaPolicy", "sla_policies"),
        ("Status", "statuses"),
        ("Equipment", "equipment"),
        ("Knife", "knives"),
    ],
)
def test_default_table_names_are_english_plurals(entity: str, table: str) -> None:
    assert naming.table_name(entity) == table


SPEC = """\
version: 1
entities:
  Person:
{table}    fields:
      name: string(80)
"""


def test_a_project_generated_with_the_old_names_keeps_its_tables(tmp_path: Path) -> None:
    """The recorded schema says ``persons`` (the old default): no rename is generated."""
    spec = tmp_path / "entities.yaml"
    spec.write_text(SPEC.format(table="    table: persons\n"))
    project = new_project(tmp_path, spec)
    (project / "entities.yaml").write_text(SPEC.format(table=""))
    result = entityforge("generate", "--project-dir", str(project), cwd=tmp_path)
    assert result.returncode == 0, result.output
    assert sorted(path.name for path in (project / "app" / "alembic" / "versions").glob("0*")) == [
        "0001_initial.py"
    ]
    assert '__tablename__ = "persons"' in (project / "app" / "models" / "person.py").read_text()


def test_a_new_project_gets_the_english_plural(tmp_path: Path) -> None:
    spec = tmp_path / "entities.yaml"
    spec.write_text(SPEC.format(table=""))
    project = new_project(tmp_path, spec)
    assert '__tablename__ = "people"' in (project / "app" / "models" / "person.py").read_text()
