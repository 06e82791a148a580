"""The models generator: rendered text, the mapped classes, and the database they create."""

from __future__ import annotations

import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, MetaData, create_engine, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session
from sqlalchemy.schema import CreateIndex, CreateTable

from entityforge import naming
from entityforge.catalog import Column
from entityforge.generators import GenerationContext, models
from entityforge.generators.models.columns import ModelNames, server_default
from entityforge.generators.python_source import Import, Symbols, render_imports
from entityforge.schema import ColumnType, DefaultValue
from tests.rendering import (
    RenderedLayer,
    awkward_schema,
    create_extensions,
    edge_schema,
    example_schema,
    rendered_layer,
    single_tenant_schema,
    style_problems,
)

LAYERS = {
    "example": (example_schema, "app"),
    "single": (single_tenant_schema, "blog"),
    "edge": (edge_schema, "edge"),
    "awkward": (awkward_schema, "awk"),
}


@pytest.fixture(scope="module")
def layers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, RenderedLayer]]:
    """Every schema rendered, written and imported (each under its own package)."""
    root = tmp_path_factory.mktemp("models")
    with ExitStack() as stack:
        result = {}
        for name, (schema, package) in LAYERS.items():
            layer = stack.enter_context(rendered_layer(schema(), package, root / name))
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                layer.module("models")
                # This layer's mappers only: packages other tests imported and forgot may
                # leave registries behind whose classes are gone.
                layer.module("models.base").Base.registry.configure()
            result[name] = layer
        yield result


@pytest.fixture(scope="module")
def databases(
    layers: dict[str, RenderedLayer], create_database: Callable[[], str]
) -> Iterator[dict[str, Engine]]:
    """One database per layer, created with ``Base.metadata.create_all``."""
    engines = {}
    for name, layer in layers.items():
        engine = create_engine(create_database())
        with engine.begin() as connection:
            create_extensions(connection, layer.catalog)
            layer.module("models").Base.metadata.create_all(connection)
        engines[name] = engine
    yield engines
    for engine in engines.values():
        engine.dispose()


def _metadata(layer: RenderedLayer) -> MetaData:
    return layer.module("models").Base.metadata


# -- rendered text ---------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_rendered_layer_passes_black_and_ruff(layers: dict[str, RenderedLayer], name: str) -> None:
    layer = layers[name]
    assert style_problems(layer.root, layer.package) == ""


def test_rendered_modules_are_the_ones_promised() -> None:
    files = models.generate(GenerationContext(example_schema(), "shop"))
    expected = {
        "shop/models/__init__.py",
        "shop/models/base.py",
        "shop/models/associations.py",
        *(f"shop/models/{naming.snake_case(e.name)}.py" for e in example_schema().entities),
    }
    assert set(files) == expected


def test_rendering_is_identical_across_runs_and_hash_seeds() -> None:
    script = (
        "import hashlib, json;"
        "from entityforge.generators import GenerationContext, models, repositories, runtime;"
        "from tests.rendering import example_schema;"
        "c = GenerationContext(example_schema(), 'app');"
        "files = {**models.generate(c), **repositories.generate(c), **runtime.generate(c)};"
        "print(hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest())"
    )
    digests = set()
    for seed in ("1", "2", "random"):
        result = subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parents[1],
            env={"PYTHONHASHSEED": seed, "PATH": ""},
        )
        digests.add(result.stdout.strip())
    assert len(digests) == 1


def test_imports_are_grouped_and_sorted_like_isort() -> None:
    imports = [
        Import("typing", "TYPE_CHECKING"),
        Import("typing", "Any"),
        Import("uuid"),
        Import("sqlalchemy", "text", "_text"),
        Import("sqlalchemy", "String"),
        Import("sqlalchemy", "func"),
        Import("datetime", "date"),
        Import("app.models.base", "Base"),
        Import("sqlalchemy.orm", "Mapped"),
    ]
    assert render_imports(imports, "app") == (
        "import uuid\n"
        "from datetime import date\n"
        "from typing import TYPE_CHECKING, Any\n"
        "\n"
        "from sqlalchemy import String, func\n"
        "from sqlalchemy import text as _text\n"
        "from sqlalchemy.orm import Mapped\n"
        "\n"
        "from app.models.base import Base"
    )


@pytest.mark.parametrize(
    ("column", "rendered", "sql"),
    [
        (Column("notes", ColumnType("text"), default=DefaultValue("")), "''", ""),
        (
            Column("bio", ColumnType("text"), default=DefaultValue("It's: a ':bio'")),
            '''"It's: a ':bio'"''',
            "It's: a ':bio'",
        ),
        (Column("n", ColumnType("smallint"), default=DefaultValue(-3)), "text('-3')", "-3"),
        (Column("b", ColumnType("boolean"), default=DefaultValue(True)), "text('true')", "true"),
        (
            Column("prefs", ColumnType("json"), default=DefaultValue((), "object")),
            """text("'{}'::jsonb")""",
            "'{}'::jsonb",
        ),
        (
            Column("doc", ColumnType("json"), default=DefaultValue((("k", "it's :x"),), "object")),
            r"""text('\'{"k": "it\'\'s \\:x"}\'::jsonb')""",
            """'{"k": "it''s :x"}'::jsonb""",
        ),
        (
            Column(
                "tags",
                ColumnType("array", item=ColumnType("string", max_length=40)),
                default=DefaultValue((), "array"),
            ),
            """text("'{}'::varchar(40)[]")""",
            "'{}'::varchar(40)[]",
        ),
        (
            Column("t", ColumnType("datetime"), default_sql="now() + ' :x'::interval"),
            r"""text("now() + ' \\:x'::interval")""",
            "now() + ' :x'::interval",
        ),
    ],
)
def test_server_defaults_are_python_literals_of_the_exact_sql(
    column: Column, rendered: str, sql: str
) -> None:
    code = server_default(column, ModelNames(Symbols(), "app"))
    assert code is not None
    assert code.text == f"server_default={rendered}"
    value = eval(rendered, {"text": text})  # the rendered literal, evaluated as the model does
    if isinstance(value, str):
        assert value == sql  # a plain string: SQLAlchemy quotes it itself
    else:
        assert str(value.compile(dialect=postgresql.dialect())) == sql


def test_entity_module_declares_columns_exactly() -> None:
    files = models.generate(GenerationContext(example_schema(), "app"))
    task = files["app/models/task.py"]
    declaration = (
        'metadata_: Mapped[Any] = mapped_column("metadata", '
        "postgresql.JSONB(none_as_null=True), nullable=True)"
    )
    assert declaration in task.replace("'", '"')
    assert (
        "status: Mapped[TaskStatus] = mapped_column(Enum(TaskStatus, native_enum=False, "
        'length=63, values_callable=enum_values), server_default="todo")'
    ) in " ".join(task.replace("'", '"').split()).replace("( ", "(").replace(", )", ")")
    assert 'PG_13 = "PG-13"' in files["app/models/project.py"].replace("'", '"')
    assert "class Task(UUIDPrimaryKeyMixin, TenantScopedMixin, TimestampMixin, Base):" in task


def test_base_emits_only_what_the_schema_uses() -> None:
    example = models.generate(GenerationContext(example_schema(), "app"))["app/models/base.py"]
    single = models.generate(GenerationContext(single_tenant_schema(), "blog"))[
        "blog/models/base.py"
    ]
    assert "class TenantScopedMixin" in example and "TENANT_SETTING" in example
    assert "class TenantScopedMixin" not in single and "TENANT_COLUMN" not in single
    assert "class SoftDeleteMixin" in single and "def enum_values" in single
    assert "onupdate=" not in example.replace("server_onupdate=", "")


# -- the mapped classes ---------------------------------------------------------------


def test_package_exports_every_model_and_enum_sorted(layers: dict[str, RenderedLayer]) -> None:
    package = layers["example"].module("models")
    assert package.__all__ == sorted(package.__all__)
    for entity in layers["example"].schema.entities:
        assert getattr(package, entity.name).__tablename__ == entity.table
        for field in entity.fields:
            if field.type.name == "enum":
                enum_class = getattr(package, naming.enum_class_name(entity.name, field.name))
                assert [member.value for member in enum_class] == list(field.type.values)
    assert package.ProjectRating.PG_13 == "PG-13"


def test_attributes_follow_naming(layers: dict[str, RenderedLayer]) -> None:
    example, single = layers["example"].module("models"), layers["single"].module("models")
    assert example.Task.metadata_.property.columns[0].name == "metadata"
    assert example.Task.__table__.c["order"].comment == "Position in the project's board."
    assert single.Post.class_.property.columns[0].name == "class"
    assert single.Post.__table__.c["date"].type.python_type.__name__ == "date"
    assert example.Member.tenant_id.property.columns[0].name == "tenant_id"


def test_columns_come_in_catalog_order(layers: dict[str, RenderedLayer]) -> None:
    for layer in layers.values():
        metadata = _metadata(layer)
        for table in layer.catalog.tables:
            rendered = [column.name for column in metadata.tables[table.name].columns]
            assert rendered == [column.name for column in table.columns]


def test_column_types_nullability_and_comments_match_the_catalog(
    layers: dict[str, RenderedLayer],
) -> None:
    dialect = postgresql.dialect()
    for layer in layers.values():
        metadata = _metadata(layer)
        for table in layer.catalog.tables:
            mapped = metadata.tables[table.name]
            assert mapped.comment == table.comment
            for column in table.columns:
                sa_column = mapped.c[column.name]
                assert sa_column.nullable == column.nullable, (table.name, column.name)
                assert sa_column.comment == column.comment
                assert (sa_column.server_default is None) == (
                    column.default is None and column.default_sql is None
                ), (table.name, column.name)
            ddl = str(CreateTable(mapped).compile(dialect=dialect))
            assert "TIMESTAMP WITHOUT" not in ddl and "SERIAL" not in ddl


def test_relationships_have_the_promised_shapes(layers: dict[str, RenderedLayer]) -> None:
    package = layers["example"].module("models")
    task = package.Task.__mapper__.relationships
    # Only the reference column is written through a relationship, never the tenant.
    for name, column in (("project", "project_id"), ("parent", "parent_id")):
        pairs = task[name].synchronize_pairs
        assert [(near.name, far.name) for near, far in pairs] == [("id", column)]
    assert task["project"].back_populates == "tasks"
    assert task["detail"].uselist is False
    member = package.Member.__mapper__.relationships
    assert member["projects"].secondary.name == "project_members"
    assert member["mentors"].secondary.name == "member_mentors"
    assert package.Project.__mapper__.relationships["tasks"].uselist is True


# -- the database they create ---------------------------------------------------------


def _expected_names(layer: RenderedLayer) -> dict[str, set[str]]:
    expected = {}
    for table in layer.catalog.tables:
        names = {table.primary_key_name}
        names |= {fk.name for fk in table.foreign_keys}
        names |= {unique.name for unique in table.uniques}
        names |= {index.name for index in table.indexes}
        names |= {check.name for check in table.checks}
        expected[table.name] = names
    return expected


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_database_names_are_the_catalog_names(
    layers: dict[str, RenderedLayer], databases: dict[str, Engine], name: str
) -> None:
    with databases[name].connect() as connection:
        rows = connection.execute(
            text(
                "SELECT conrelid::regclass::text, conname FROM pg_constraint c"
                " JOIN pg_namespace n ON n.oid = c.connamespace"
                " WHERE n.nspname = 'public' AND c.contype <> 'n'"
                " UNION SELECT tablename, indexname FROM pg_indexes WHERE schemaname = 'public'"
            )
        ).all()
    found: dict[str, set[str]] = {}
    for table, constraint in rows:
        found.setdefault(table.strip('"'), set()).add(constraint)
    assert found == _expected_names(layers[name])


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_index_and_foreign_key_definitions_match_the_catalog(
    layers: dict[str, RenderedLayer], databases: dict[str, Engine], name: str
) -> None:
    with databases[name].connect() as connection:
        index_defs = dict(
            connection.execute(
                text("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'")
            ).all()
        )
        fk_defs = dict(
            connection.execute(
                text(
                    "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
                    " WHERE contype = 'f'"
                )
            ).all()
        )
    for table in layers[name].catalog.tables:
        for index in table.indexes:
            definition = index_defs[index.name]
            assert f"USING {index.method} (" in definition
            assert definition.startswith("CREATE UNIQUE" if index.unique else "CREATE INDEX")
            assert (" WHERE " in definition) == (index.where is not None), definition
            for column in index.columns:
                if column.opclass:
                    assert f"{column.name} {column.opclass}" in definition
        for fk in table.foreign_keys:
            definition = fk_defs[fk.name]
            columns = ", ".join(naming.quote_identifier(c) for c in fk.columns)
            referred = naming.quote_identifier(fk.referred_table)
            assert definition.startswith(f"FOREIGN KEY ({columns}) REFERENCES {referred}(")
            if fk.on_delete != "NO ACTION":
                assert f"ON DELETE {fk.on_delete_clause}" in definition


def test_partial_index_predicates_are_the_spec_predicates(databases: dict[str, Engine]) -> None:
    with databases["example"].connect() as connection:
        definition = connection.scalar(
            text("SELECT indexdef FROM pg_indexes WHERE indexname = :name"),
            {"name": "ix_tasks_tenant_id_due_at_partial"},
        )
    assert definition.endswith("WHERE ((status)::text <> 'done'::text)")


def test_enum_types_hold_the_spec_values(
    layers: dict[str, RenderedLayer], databases: dict[str, Engine]
) -> None:
    with databases["example"].connect() as connection:
        labels = connection.execute(
            text(
                "SELECT t.typname, e.enumlabel FROM pg_enum e"
                " JOIN pg_type t ON t.oid = e.enumtypid ORDER BY t.typname, e.enumsortorder"
            )
        ).all()
    found: dict[str, list[str]] = {}
    for type_name, label in labels:
        found.setdefault(type_name, []).append(label)
    assert found == {enum.name: list(enum.values) for enum in layers["example"].catalog.enums}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_alembic_compare_finds_no_difference(
    layers: dict[str, RenderedLayer], databases: dict[str, Engine], name: str
) -> None:
    with databases[name].connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, _metadata(layers[name])) == []


def test_server_defaults_reach_the_database(databases: dict[str, Engine]) -> None:
    with databases["single"].begin() as connection:
        row = connection.execute(
            text("INSERT INTO authors (name) VALUES ('x') RETURNING bio, settings, karma")
        ).one()
        assert row == ("It's: a ':bio'", {"theme": "dark"}, -3)
        connection.execute(text("INSERT INTO tags (label) VALUES ('t')"))
        author_id = connection.scalar(text("SELECT id FROM authors"))
        post = connection.execute(
            text(
                "INSERT INTO posts (title, slug, author_id) VALUES ('t', 'a-b', :a)"
                " RETURNING status::text, labels, rating"
            ),
            {"a": author_id},
        ).one()
        assert post[:2] == ("in review", ["news", "it's"]) and str(post[2]) == "1.50"


def test_none_given_is_null_where_a_default_would_fill_the_column(
    layers: dict[str, RenderedLayer], databases: dict[str, Engine]
) -> None:
    """The ORM leaves ``None`` out of an INSERT for a column with a default; the models
    have it sent, so ``None`` given is NULL and an omitted value is the default."""
    author = layers["single"].module("models").Author
    with Session(databases["single"]) as session:
        session.add_all([author(name="given", bio=None, settings=None), author(name="omitted")])
        session.flush()
        rows = session.execute(
            text(
                "SELECT name, bio IS NULL, settings IS NULL FROM authors "
                "WHERE name IN ('given', 'omitted') ORDER BY name"
            )
        ).all()
        session.rollback()
    assert [tuple(row) for row in rows] == [("given", True, True), ("omitted", False, False)]


def test_index_ddl_compiles_with_operator_classes(layers: dict[str, RenderedLayer]) -> None:
    members = _metadata(layers["example"]).tables["members"]
    trigram = next(i for i in members.indexes if i.name.endswith("_trgm"))
    ddl = str(CreateIndex(trigram).compile(dialect=postgresql.dialect()))
    assert ddl.endswith("USING gin (tenant_id, display_name gin_trgm_ops)")
