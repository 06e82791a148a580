"""Generated revisions on a real PostgreSQL: upgrade, downgrade, upgrade again; the
catalog guarantees hold; the catalog says what the spec says; no drift at head."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.pool import NullPool

from entityforge import naming
from entityforge.catalog import Catalog, build_catalog
from entityforge.catalog.views import unique_index_name
from entityforge.generators import GenerationContext, migrations, models
from entityforge.naming import quote_identifier, quote_qualified
from entityforge.output.formatting import format_python
from entityforge.schema import Schema
from entityforge.spec import load_schema, load_schema_text
from tests.projects import writable_global_tables

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "entityforge" / "examples" / "entities.yaml"
SINGLE_TENANT = REPO / "tests" / "specs" / "single_tenant_blog.yaml"
AWKWARD = REPO / "tests" / "specs" / "awkward_names.yaml"
CATALOGUE = REPO / "tests" / "specs" / "catalogue.yaml"
GUARANTEES = REPO / "tests" / "guarantees.sql"
# The schemas a project's objects may live in: every one but PostgreSQL's own.
USER_SCHEMAS = (
    "SELECT oid FROM pg_namespace WHERE nspname !~ '^pg_' AND nspname <> 'information_schema'"
)
POLICY_CONDITION = (
    "({column} = ( SELECT (NULLIF(current_setting('{setting}'::text, true), ''::text))::uuid"
    ' AS "nullif"))'
)
EMPTY_MODELS = {
    "models/__init__.py": "from {package}.models import base\n",
    "models/base.py": (
        "from sqlalchemy import MetaData\n\n\nclass Base:\n    metadata = MetaData()\n"
    ),
}


@dataclass(frozen=True)
class Project:
    """A minimal generated project on disk: alembic.ini, env.py, revisions, models."""

    root: Path
    package: str
    schema: Schema

    generated: Catalog | None = None

    @property
    def catalog(self) -> Catalog:
        """The catalog the project was generated with: the spec's, enum columns kept in
        the native types the revisions before made."""
        return self.generated or build_catalog(self.schema)

    @property
    def versions(self) -> Path:
        return self.root / self.package / "alembic" / "versions"

    def revisions(self) -> tuple[tuple[str, str], ...]:
        return tuple((p.name, p.read_text()) for p in sorted(self.versions.glob("*.py")))

    def snapshots(self) -> tuple[tuple[str, str], ...]:
        directory = self.versions.parent / "schema"
        return tuple((p.name, p.read_text()) for p in sorted(directory.glob("*.json")))

    def write(
        self,
        schema: Schema,
        *,
        with_models: bool = False,
        allow_destructive: bool = False,
        allow_rewrite: bool = False,
        message: str | None = None,
        expand: bool = False,
        contract: bool = False,
    ) -> Project:
        """Generate into the project (the next revision too, if the schema changed)."""
        context = GenerationContext(
            schema,
            self.package,
            self.revisions(),
            self.snapshots(),
            message=message,
            allow_destructive=allow_destructive,
            allow_rewrite=allow_rewrite,
            expand=expand,
            contract=contract,
        )
        files = migrations.generate(context)
        if with_models:
            files |= models.generate(context)
        else:
            files |= {
                f"{self.package}/{path}": text.format(package=self.package)
                for path, text in EMPTY_MODELS.items()
            }
        files[f"{self.package}/__init__.py"] = ""
        for cache in self.root.rglob("__pycache__"):
            shutil.rmtree(cache)
        for path, content in files.items():
            (self.root / path).parent.mkdir(parents=True, exist_ok=True)
            formatted = format_python(path, content) if path.endswith(".py") else content
            (self.root / path).write_text(formatted)
        return Project(self.root, self.package, schema, context.catalog)

    def alembic(self, url: str, action: str, *arguments: Any) -> None:
        """Run an Alembic command in this process on a connection to ``url``; env.py
        imports the models afresh, as they may have been regenerated. The connection is
        not in a transaction: env.py begins one, which autocommit blocks may commit."""
        forget_modules([self.package])
        config = Config(str(self.root / "alembic.ini"))
        engine = create_engine(url, poolclass=NullPool)
        try:
            with engine.connect() as connection:
                config.attributes["connection"] = connection
                getattr(command, action)(config, *arguments)
                connection.commit()
        finally:
            engine.dispose()


@pytest.fixture
def new_project(tmp_path: Path) -> Iterator[Callable[..., Project]]:
    """Make projects with packages of their own; forget their modules afterwards."""
    packages: list[str] = []
    saved_path = list(sys.path)

    def make(schema: Schema, *, with_models: bool = False) -> Project:
        package = f"proj_{uuid.uuid4().hex[:10]}"
        packages.append(package)
        root = tmp_path / package
        return Project(root, package, schema).write(schema, with_models=with_models)

    yield make
    sys.path[:] = saved_path
    forget_modules(packages)


def forget_modules(packages: list[str]) -> None:
    for name in [module for module in sys.modules if module.split(".")[0] in packages]:
        del sys.modules[name]


def query(url: str, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql), params)]
    finally:
        engine.dispose()


# --- the guarantees of the spec format, as catalog queries ----------------------------


def guarantee_queries() -> dict[str, str]:
    """Each ``\\echo``-titled query of guarantees.sql with psql variables as binds."""
    queries = {}
    for section in re.split(r"^\\echo ", GUARANTEES.read_text(), flags=re.MULTILINE)[1:]:
        title, _, body = section.partition("\n")
        lines = [line for line in body.splitlines() if not line.startswith("--")]
        sql = "\n".join(lines).strip().rstrip(";")
        queries[title.split()[0]] = re.sub(r":'(\w+)'", r":\1", sql)
    expected = {"G1", "G2", "G3", "M1", "R1", "T1", "T2", "T3", "T4"}
    expected |= {"T6", "T7", "T8", "T9", "T10", "T11"}
    assert expected <= set(queries)
    return queries


def guarantee_violations(url: str, schema: Schema) -> dict[str, list[tuple[Any, ...]]]:
    tenancy = schema.tenancy
    binds = {"writer": schema.roles.writer}
    if tenancy:
        tenant_table = schema.entity(tenancy.entity).table
        binds |= {"tenant_col": tenancy.column, "tenant_table": tenant_table}
        binds |= {"setting": tenancy.setting, "writable_tables": writable_global_tables(schema)}
    violations = {}
    for name, sql in guarantee_queries().items():
        if name.startswith("T") and not tenancy:
            continue
        rows = query(url, sql, **{k: v for k, v in binds.items() if f":{k}" in sql})
        if rows:
            violations[name] = rows
    return violations


# --- the catalog against the spec ------------------------------------------------------


def not_partition(relation: str) -> str:
    """A condition: the relation ``relation`` holds is not a partition of a table."""
    return f"NOT (SELECT relispartition FROM pg_class WHERE oid = {relation})"


def index_definitions(url: str) -> dict[str, str]:
    """The indexes of the tables, not of their partitions (which the tables' own make)."""
    rows = query(
        url,
        "SELECT i.indexname, i.indexdef FROM pg_indexes AS i JOIN pg_namespace AS n "
        "ON n.nspname = i.schemaname JOIN pg_class AS c "
        "ON c.relnamespace = n.oid AND c.relname = i.tablename "
        "WHERE i.schemaname !~ '^pg_' AND i.schemaname <> 'information_schema' "
        "AND NOT c.relispartition",
    )
    return dict(rows)


def assert_catalog_matches(url: str, catalog: Catalog) -> None:
    """Indexes (method, opclass, predicate), checks, enum labels, generated columns,
    policies, triggers."""
    definitions = index_definitions(url)
    expected_names = {"alembic_version_pkc"}
    expected_names |= {name for view in catalog.views if (name := unique_index_name(view))}
    for table in catalog.tables:
        expected_names |= {table.primary_key_name, *(u.name for u in table.uniques)}
        expected_names |= {exclusion.name for exclusion in table.exclusions}
        for index in table.indexes:
            expected_names.add(index.name)
            # The digest of a varchar column: PostgreSQL shows the cast to text.
            definition = re.sub(r"md5\(\((.+?)\)::text\)", r"md5(\1)", definitions[index.name])
            # A partitioned table's index is its own (``ON ONLY``), its partitions' attached.
            definition = definition.replace(" ON ONLY ", " ON ", 1)
            keyword = "CREATE UNIQUE INDEX" if index.unique else "CREATE INDEX"
            schema = table.schema or "public"
            assert definition.startswith(f"{keyword} {index.name} ON {schema}."), definition
            if any(c.expression for c in index.columns):
                # PostgreSQL prints an expression with its casts: compare the words.
                words = re.findall(r"\w+", " ".join(c.sql for c in index.columns))
                shown = re.findall(r"\w+", definition.partition(" USING ")[2])
                assert [w for w in shown if w in words and w != "text"] == [
                    w for w in words if w != "text"
                ], definition
            else:
                columns = ", ".join(
                    (c.sql if c.hashed else quote_identifier(c.name))
                    + (f" {c.opclass}" if c.opclass else "")
                    for c in index.columns
                )
                assert f" USING {index.method} ({columns})" in definition, definition
            if index.include:
                assert f" INCLUDE ({', '.join(index.include)})" in definition, definition
            assert (" WHERE " in definition) == (index.where is not None), definition
    assert set(definitions) == expected_names

    checks = query(
        url,
        "SELECT conrelid::regclass::text, conname FROM pg_constraint "
        f"WHERE contype = 'c' AND connamespace IN ({USER_SCHEMAS}) "
        f"AND {not_partition('conrelid')}",
    )
    assert sorted(checks) == sorted(
        (quote_qualified(t.qualified_name), c.name) for t in catalog.tables for c in t.checks
    )
    enums = query(
        url,
        "SELECT t.typname, array_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_type t "
        "JOIN pg_enum e ON e.enumtypid = t.oid GROUP BY t.typname",
    )
    assert sorted((name, tuple(labels)) for name, labels in enums) == sorted(
        (enum.name, enum.values) for enum in catalog.enums
    )
    generated = query(
        url,
        "SELECT c.relname, a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
        f"WHERE a.attgenerated = 's' AND c.relnamespace IN ({USER_SCHEMAS}) "
        "AND NOT c.relispartition",
    )
    assert sorted(generated) == sorted(
        (t.name, c.name) for t in catalog.tables for c in t.columns if c.generated
    )
    assert_policies(url, catalog)
    triggers = query(
        url,
        "SELECT tgrelid::regclass::text, tgname FROM pg_trigger "
        f"WHERE NOT tgisinternal AND {not_partition('tgrelid')}",
    )
    assert sorted(triggers) == sorted(
        [
            (quote_qualified(t.qualified_name), naming.trigger_name(t.name))
            for t in catalog.tables
            if t.updated_at_trigger
        ]
        + [
            (quote_qualified(t.qualified_name), trigger)
            for t in catalog.tables
            if t.audit
            for trigger in t.audit.triggers
        ]
    )


def assert_policies(url: str, catalog: Catalog) -> None:
    """The tenant policies with their conditions; the spec's restrictive policies and the
    permissive ``granted_roles`` beside them by name, command and clauses."""
    policies = query(
        url,
        "SELECT tablename, policyname, cmd, permissive, qual, with_check FROM pg_policies "
        "WHERE NOT (SELECT relispartition FROM pg_class AS c JOIN pg_namespace AS n "
        "ON n.oid = c.relnamespace WHERE n.nspname = schemaname AND c.relname = tablename)",
    )
    expected = []
    if catalog.tenancy:
        condition = POLICY_CONDITION.format(
            column=quote_identifier(catalog.tenancy.column), setting=catalog.tenancy.setting
        )
        expected = [
            (t.name, "tenant_isolation", "ALL", "PERMISSIVE", condition, condition)
            for t in catalog.tables
            if t.tenant_scoped
        ]
        own_row = POLICY_CONDITION.format(column="id", setting=catalog.tenancy.setting)
        expected += [
            (t.name, "tenant_isolation", "ALL", "PERMISSIVE", own_row, own_row)
            for t in catalog.tables
            if t.tenant_policy
        ]
        # A junction of the tenant entity: its column referring to the tenant table.
        junctions = [t for t in catalog.tables if t.tenant_key and not t.tenant_policy]
        for junction in junctions:
            link = POLICY_CONDITION.format(
                column=junction.tenant_key, setting=catalog.tenancy.setting
            )
            expected.append((junction.name, "tenant_isolation", "ALL", "PERMISSIVE", link, link))
    assert sorted(p for p in policies if p[1] == "tenant_isolation") == sorted(expected)
    extra = [
        (
            t.name,
            p.name,
            p.command.upper(),
            "RESTRICTIVE",
            p.using is not None,
            p.check is not None,
        )
        for t in catalog.tables
        for p in t.policies
    ]
    extra += [
        (t.name, "granted_roles", "ALL", "PERMISSIVE", True, True)
        for t in catalog.tables
        if t.granted_roles_policy
    ]
    found = [(*p[:4], p[4] is not None, p[5] is not None) for p in policies if p not in expected]
    assert sorted(found) == sorted(extra)
    secured = query(
        url,
        f"SELECT relname FROM pg_class WHERE relnamespace IN ({USER_SCHEMAS}) "
        "AND relrowsecurity AND relforcerowsecurity AND NOT relispartition",
    )
    granted = [t.name for t in catalog.tables if t.granted_roles_policy]
    assert sorted(name for (name,) in secured) == sorted({*(t[0] for t in expected), *granted})


def assert_roles_and_grants(url: str, catalog: Catalog) -> None:
    roles = catalog.roles
    attributes = query(
        url,
        "SELECT rolname, rolcanlogin, rolbypassrls, rolsuper FROM pg_roles "
        "WHERE rolname IN (:reader, :writer, :admin)",
        reader=roles.reader,
        writer=roles.writer,
        admin=roles.admin,
    )
    assert sorted(attributes) == sorted(
        [
            (roles.reader, False, False, False),
            (roles.writer, False, False, False),
            (roles.admin, False, True, False),
        ]
    )
    everything = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
    for table in catalog.tables:
        expected = {
            roles.reader: {"SELECT"},
            roles.writer: set(table.writer_privileges),
            roles.admin: {"SELECT", "INSERT", "UPDATE", "DELETE"},
        }
        for role, privileges in expected.items():
            held = {
                privilege
                for privilege in everything
                if query(
                    url,
                    "SELECT has_table_privilege(:role, :table, :privilege)",
                    role=role,
                    table=quote_qualified(table.qualified_name),
                    privilege=privilege,
                )[0][0]
            }
            assert held == privileges, (table.name, role)


def schema_snapshot(url: str) -> list[tuple[Any, ...]]:
    """Everything a migration decides, in a comparable form: of tables, not of the
    partitions a partitioned table's rows are spread over (those follow its own)."""
    return query(
        url,
        """
        WITH partitions AS (SELECT oid, relname FROM pg_class WHERE relispartition)
        SELECT 'column', table_name, column_name, data_type || coalesce(udt_name, ''),
               coalesce(column_default, ''), is_nullable
        FROM information_schema.columns
        WHERE table_schema !~ '^pg_' AND table_schema <> 'information_schema'
          AND table_name NOT IN (SELECT relname FROM partitions)
        UNION ALL SELECT 'index', tablename, indexname, indexdef, '', '' FROM pg_indexes
        WHERE schemaname !~ '^pg_' AND schemaname <> 'information_schema'
          AND tablename NOT IN (SELECT relname FROM partitions)
        UNION ALL SELECT 'constraint', conrelid::regclass::text, conname,
               pg_get_constraintdef(oid), '', '' FROM pg_constraint
        WHERE connamespace IN (USER_SCHEMAS) AND conrelid NOT IN (SELECT oid FROM partitions)
        UNION ALL SELECT 'policy', tablename, policyname, qual, coalesce(with_check, ''), cmd
        FROM pg_policies WHERE tablename NOT IN (SELECT relname FROM partitions)
        UNION ALL SELECT 'trigger', tgrelid::regclass::text, tgname, '', '', ''
        FROM pg_trigger WHERE NOT tgisinternal AND tgrelid NOT IN (SELECT oid FROM partitions)
        UNION ALL SELECT 'comment', c.relname, '', coalesce(obj_description(c.oid), ''), '', ''
        FROM pg_class c WHERE c.relnamespace IN (USER_SCHEMAS) AND NOT c.relispartition
        UNION ALL SELECT 'schema', nspname, coalesce(nspacl::text, ''), '', '', ''
        FROM pg_namespace WHERE oid IN (USER_SCHEMAS)
        ORDER BY 1, 2, 3, 4
        """.replace("USER_SCHEMAS", USER_SCHEMAS),
    )


def assert_empty(url: str) -> None:
    """Nothing the revisions made is left (alembic's own table aside)."""
    leftovers = query(
        url,
        """
        SELECT 'table', relname FROM pg_class WHERE relnamespace IN (USER_SCHEMAS)
          AND relkind IN ('r', 'p') AND relname <> 'alembic_version'
        UNION ALL SELECT 'type', typname FROM pg_type WHERE typnamespace IN (USER_SCHEMAS)
          AND typtype = 'e'
        UNION ALL SELECT 'function', proname FROM pg_proc
          WHERE pronamespace IN (USER_SCHEMAS)
        UNION ALL SELECT 'schema', nspname FROM pg_namespace
          WHERE oid IN (USER_SCHEMAS) AND nspname <> 'public'
        UNION ALL SELECT 'policy', policyname FROM pg_policies
        UNION ALL SELECT 'extension', extname FROM pg_extension WHERE extname <> 'plpgsql'
        """.replace("USER_SCHEMAS", USER_SCHEMAS),
    )
    assert leftovers == []


# --- the rendered revision -------------------------------------------------------------


@pytest.mark.parametrize("spec", [EXAMPLE, SINGLE_TENANT, AWKWARD], ids=lambda p: p.stem)
def test_initial_revision_is_black_and_ruff_clean(
    spec: Path, new_project: Callable[..., Project]
) -> None:
    project = new_project(load_schema(spec))
    path = project.versions / "0001_initial.py"
    source = path.read_text()
    assert format_python(path.name, source) == source
    assert re.search(r'^revision: str = "[0-9a-f]{12}"$', source, re.MULTILINE)
    assert "down_revision: str | None = None" in source
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated"]
        + ["--select", "E,F,W,I,UP,B,SIM", "--line-length", "99", "--target-version", "py311"]
        + [str(path), str(project.root / project.package / "alembic" / "env.py")],
        cwd=project.root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_generation_is_deterministic_across_hash_seeds(tmp_path: Path) -> None:
    program = (
        "import sys, hashlib\n"
        "from entityforge.spec import load_schema\n"
        "from entityforge.generators import GenerationContext, migrations\n"
        "files = migrations.generate(GenerationContext(load_schema(sys.argv[1])))\n"
        "print(hashlib.sha256(repr(sorted(files.items())).encode()).hexdigest())\n"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", program, str(EXAMPLE)],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(digests) == 1


# --- on PostgreSQL -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec", [EXAMPLE, SINGLE_TENANT, AWKWARD, CATALOGUE], ids=lambda p: p.stem
)
def test_upgrade_downgrade_upgrade(
    spec: Path, database_url: str, new_project: Callable[..., Project]
) -> None:
    project = new_project(load_schema(spec))
    project.alembic(database_url, "upgrade", "head")
    assert guarantee_violations(database_url, project.schema) == {}
    assert_catalog_matches(database_url, project.catalog)
    assert_roles_and_grants(database_url, project.catalog)
    first = schema_snapshot(database_url)

    project.alembic(database_url, "downgrade", "base")
    assert_empty(database_url)

    project.alembic(database_url, "upgrade", "head")
    assert schema_snapshot(database_url) == first


def test_example_catalog_details(database_url: str, new_project: Callable[..., Project]) -> None:
    project = new_project(load_schema(EXAMPLE))
    project.alembic(database_url, "upgrade", "head")
    definitions = index_definitions(database_url)
    assert definitions["ix_members_tenant_id_display_name_trgm"].endswith(
        "USING gin (tenant_id, display_name gin_trgm_ops)"
    )
    assert definitions["ix_tasks_tenant_id_due_at_partial"].endswith(
        "USING btree (tenant_id, due_at) WHERE ((status)::text <> 'done'::text)"
    )
    assert definitions["uq_members_tenant_id_email"].endswith("WHERE (deleted_at IS NULL)")
    constraints = dict(
        query(
            database_url,
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE connamespace = 'public'::regnamespace",
        )
    )
    assert constraints["ck_workspaces_slug"] == "CHECK (((slug)::text ~ '^[a-z0-9-]+$'::text))"
    assert constraints["fk_tasks_tenant_id_parent_id_tasks"].endswith(
        "REFERENCES tasks(tenant_id, id) ON DELETE SET NULL (parent_id)"
    )
    defaults = dict(
        query(
            database_url,
            "SELECT table_name || '.' || column_name, column_default "
            "FROM information_schema.columns WHERE table_schema = 'public'",
        )
    )
    assert defaults["members.role"] == "'member'::character varying"
    assert defaults["members.preferences"] == "'{}'::jsonb"
    assert defaults["projects.tags"] == "'{}'::character varying(40)[]"
    assert defaults["task_details.notes"] == "''::text"
    comments = query(database_url, "SELECT col_description('tasks'::regclass, 7)")
    assert comments == [("Position in the project's board.",)]


def test_updated_at_moves_and_tenants_are_isolated(
    database_url: str, new_project: Callable[..., Project]
) -> None:
    project = new_project(load_schema(EXAMPLE))
    project.alembic(database_url, "upgrade", "head")
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            first, second = (_workspace_with_member(connection, n) for n in ("a", "b"))
            connection.execute(text("UPDATE workspaces SET name = 'renamed'"))
            moved = connection.execute(
                text("SELECT bool_and(updated_at > created_at) FROM workspaces")
            ).scalar()
            assert moved is True
            connection.execute(text("SET LOCAL ROLE app_writer"))
            assert _visible_members(connection) == 0
            connection.execute(
                text("SELECT set_config('app.tenant_id', :tenant, true)"), {"tenant": first}
            )
            assert _visible_members(connection) == 1
            updated = connection.execute(
                text("UPDATE members SET display_name = 'x' WHERE tenant_id = :t"), {"t": second}
            )
            assert updated.rowcount == 0
    finally:
        engine.dispose()


def _workspace_with_member(connection: Connection, slug: str) -> str:
    tenant = connection.execute(
        text("INSERT INTO workspaces (name, slug) VALUES (:slug, :slug) RETURNING id"),
        {"slug": slug},
    ).scalar_one()
    connection.execute(
        text("INSERT INTO members (tenant_id, email) VALUES (:tenant, :email)"),
        {"tenant": tenant, "email": f"{slug}@example.com"},
    )
    return str(tenant)


def _visible_members(connection: Connection) -> int:
    return int(connection.execute(text("SELECT count(*) FROM members")).scalar_one())


def test_roles_are_dropped_only_when_no_other_database_uses_them(
    create_database: Callable[[], str], new_project: Callable[..., Project]
) -> None:
    prefix = f"r{uuid.uuid4().hex[:8]}"
    spec = (
        f"version: 1\nroles: {{reader: {prefix}_r, writer: {prefix}_w, admin: {prefix}_a}}\n"
        "entities:\n  Note:\n    fields:\n      title: string(50)\n"
    )
    project = new_project(load_schema_text(spec))
    first, second = create_database(), create_database()
    project.alembic(first, "upgrade", "head")
    project.alembic(second, "upgrade", "head")
    roles_sql = "SELECT rolname FROM pg_roles WHERE rolname LIKE :prefix ORDER BY 1"

    project.alembic(first, "downgrade", "base")
    assert len(query(first, roles_sql, prefix=f"{prefix}_%")) == 3
    assert_empty(first)

    project.alembic(second, "downgrade", "base")
    assert query(second, roles_sql, prefix=f"{prefix}_%") == []


def test_offline_mode_writes_the_sql(new_project: Callable[..., Project]) -> None:
    project = new_project(load_schema(EXAMPLE))
    buffer = io.StringIO()
    config = Config(str(project.root / "alembic.ini"), output_buffer=buffer)
    config.set_main_option("sqlalchemy.url", "postgresql+psycopg://offline/db")
    saved = os.environ.pop("DATABASE_URL", None)
    try:
        command.upgrade(config, "head", sql=True)
    finally:
        if saved is not None:
            os.environ["DATABASE_URL"] = saved
    sql = buffer.getvalue()
    assert "CREATE TABLE tasks" in sql
    assert "CREATE POLICY tenant_isolation ON tasks FOR ALL" in sql
    assert "CREATE INDEX ix_tasks_tenant_id_due_at_partial" in sql


@pytest.mark.parametrize("spec", [EXAMPLE, SINGLE_TENANT], ids=lambda p: p.stem)
def test_no_drift_between_models_and_database_at_head(
    spec: Path, database_url: str, new_project: Callable[..., Project]
) -> None:
    project = new_project(load_schema(spec), with_models=True)
    project.alembic(database_url, "upgrade", "head")
    project.alembic(database_url, "check")


# --- the next revision -----------------------------------------------------------------

CHANGES = (
    # a new tenant-scoped entity referring to an existing one
    (
        "  Country:\n",
        "  Label:\n    fields:\n      name: {type: string, max_length: 40, unique: true}\n"
        "    relations:\n      project: {kind: many_to_one, target: Project}\n  Country:\n",
    ),
    # a new column with a default, a dropped column, a wider type, a new check
    (
        "      metadata: {type: json, nullable: true}\n",
        "      metadata: {type: json, nullable: true}\n"
        "      priority: {type: smallint, default: 3, check: 'priority BETWEEN 1 AND 5'}\n",
    ),
    ("      score: {type: float, nullable: true}\n", ""),
    ("title: string(300)", "title: string(400)"),
    # a new enum label: the partial index on status is rebuilt around the change
    ("values: [todo, doing, done]", "values: [todo, doing, blocked, done]"),
    # a new index and a nullable column made required
    (
        "      - {columns: [project_id, status]}\n",
        "      - {columns: [project_id, status]}\n      - {columns: [title], using: trgm}\n",
    ),
    ("name: string(100)", "name: {type: string, max_length: 100, comment: 'Official name.'}"),
)


def changed_example() -> Schema:
    text_ = EXAMPLE.read_text()
    for old, new in CHANGES:
        assert old in text_, old
        text_ = text_.replace(old, new, 1)
    return load_schema_text(text_)


def test_next_revision_upgrades_and_downgrades(
    database_url: str, new_project: Callable[..., Project]
) -> None:
    initial = new_project(load_schema(EXAMPLE), with_models=True)
    initial.alembic(database_url, "upgrade", "head")
    at_initial = schema_snapshot(database_url)

    changed = initial.write(changed_example(), with_models=True, allow_destructive=True)
    names = [name for name, _ in changed.revisions()]
    assert names == ["0001_initial.py", "0002_update_countries_labels_task_details_and_tasks.py"]
    changed.alembic(database_url, "upgrade", "head")
    assert guarantee_violations(database_url, changed.schema) == {}
    assert_catalog_matches(database_url, changed.catalog)
    assert_roles_and_grants(database_url, changed.catalog)
    changed.alembic(database_url, "check")
    at_head = schema_snapshot(database_url)

    changed.alembic(database_url, "downgrade", "-1")
    assert schema_snapshot(database_url) == at_initial
    changed.alembic(database_url, "upgrade", "head")
    assert schema_snapshot(database_url) == at_head

    again = changed.write(changed.schema, with_models=True)
    assert [name for name, _ in again.revisions()] == names


def test_next_revision_moves_roles_security_uniques_and_keys(
    database_url: str, new_project: Callable[..., Project]
) -> None:
    prefix = f"r{uuid.uuid4().hex[:8]}"
    before = f"""\
version: 1
tenancy: {{entity: Account}}
roles: {{reader: {prefix}_r, writer: {prefix}_w, admin: {prefix}_a}}
entities:
  Account:
    fields: {{name: string(100)}}
  Note:
    fields:
      title: string(200)
      code: {{type: string, max_length: 20}}
  Tag:
    tenant_scoped: false
    fields: {{label: string(40)}}
"""
    after = f"""\
version: 1
tenancy: {{entity: Account}}
roles: {{reader: {prefix}_reader, writer: {prefix}_w, admin: {prefix}_a}}
entities:
  Account:
    fields: {{name: string(100)}}
  Note:
    soft_delete: true
    fields:
      title: string(200)
      code: {{type: string, max_length: 20, unique: true}}
    relations:
      tag: {{kind: many_to_one, target: Tag, nullable: true, on_delete: set_null}}
  Tag:
    tenant_scoped: false
    fields: {{label: string(40)}}
  Pin:
    fields: {{at: datetime}}
    relations:
      note: {{kind: many_to_one, target: Note, on_delete: cascade}}
"""
    initial = new_project(load_schema_text(before), with_models=True)
    initial.alembic(database_url, "upgrade", "head")
    at_initial = schema_snapshot(database_url)

    changed = initial.write(load_schema_text(after), with_models=True)
    changed.alembic(database_url, "upgrade", "head")
    assert guarantee_violations(database_url, changed.schema) == {}
    assert_catalog_matches(database_url, changed.catalog)
    assert_roles_and_grants(database_url, changed.catalog)
    assert query(database_url, "SELECT 1 FROM pg_roles WHERE rolname = :r", r=f"{prefix}_r") == []
    changed.alembic(database_url, "check")

    changed.alembic(database_url, "downgrade", "-1")
    assert schema_snapshot(database_url) == at_initial
    assert_roles_and_grants(database_url, initial.catalog)
