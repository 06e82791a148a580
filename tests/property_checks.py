"""What the property tests assert of a sequence of spec states, and their regressions.

``check_states`` generates a project from the first spec and migrates a fresh database
to head; each later spec is generated (``--allow-destructive``) into a new revision
that must upgrade from the previous state. At every head: ``alembic check`` finds no
drift and the guarantees' catalog queries find no violation; the newest revision
downgrades and upgrades to the same schema; renames keep the table (same oid) or the
column (same attnum). At the end a downgrade to base leaves nothing of ours and an
upgrade gives the same schema again.

A failing example is written to ``tests/regressions/`` as YAML (``save_regression``)
and replayed by a normal test (``load_regression``).
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from ruamel.yaml import YAML
from ruamel.yaml.scalarstring import LiteralScalarString

from entityforge import pipeline
from entityforge.schema import Schema
from entityforge.spec import load_schema_text
from tests.inprocess import generate_project, run_alembic, unique_package
from tests.projects import guarantee_violations, psql_url, writable_global_tables
from tests.rendering import RUFF_RULES

REGRESSIONS = Path(__file__).resolve().parent / "regressions"

# Everything a migration decides, comparable across downgrade and upgrade.
SNAPSHOT = """
SELECT 'column', c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
       coalesce(pg_get_expr(d.adbin, d.adrelid), ''), a.attnotnull::text,
       coalesce(col_description(c.oid, a.attnum), '')
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') AND a.attnum > 0
  AND NOT a.attisdropped
UNION ALL SELECT 'index', tablename, indexname, indexdef, '', '', '' FROM pg_indexes
WHERE schemaname = 'public'
UNION ALL SELECT 'constraint', conrelid::regclass::text, conname, pg_get_constraintdef(oid),
       '', '', '' FROM pg_constraint WHERE connamespace = 'public'::regnamespace
UNION ALL SELECT 'policy', tablename, policyname, qual, coalesce(with_check, ''), cmd, ''
FROM pg_policies
UNION ALL SELECT 'trigger', tgrelid::regclass::text, tgname, pg_get_triggerdef(oid), '', '', ''
FROM pg_trigger WHERE NOT tgisinternal
UNION ALL SELECT 'table', relname, relrowsecurity::text, relforcerowsecurity::text,
       coalesce(obj_description(oid, 'pg_class'), ''), '', '' FROM pg_class
WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p')
UNION ALL SELECT 'enum', t.typname, string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder),
       '', '', '', '' FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
WHERE t.typnamespace = 'public'::regnamespace GROUP BY t.typname
UNION ALL SELECT 'grant', c.relname, a.grantee::regrole::text, a.privilege_type, '', '', ''
FROM pg_class c, aclexplode(c.relacl) a WHERE c.relnamespace = 'public'::regnamespace
ORDER BY 1, 2, 3, 4
"""

# What the revisions made that a downgrade to base must remove (alembic's table aside).
LEFTOVERS = """
SELECT 'table ' || relname FROM pg_class WHERE relnamespace = 'public'::regnamespace
  AND relkind IN ('r', 'p', 'v', 'm', 'S') AND relname NOT IN ('alembic_version')
UNION ALL SELECT 'type ' || typname FROM pg_type WHERE typnamespace = 'public'::regnamespace
  AND typtype = 'e'
UNION ALL SELECT 'function ' || proname FROM pg_proc p WHERE pronamespace = 'public'::regnamespace
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
UNION ALL SELECT 'policy ' || policyname FROM pg_policies
UNION ALL SELECT 'extension ' || extname FROM pg_extension WHERE extname <> 'plpgsql'
"""


def query(url: str, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
    with psycopg.connect(psql_url(url), autocommit=True) as connection:
        return [tuple(row) for row in connection.execute(sql, params).fetchall()]


def schema_snapshot(url: str) -> list[tuple[Any, ...]]:
    return query(url, SNAPSHOT)


def violations(url: str, schema: Schema) -> dict[str, list[str]]:
    tenancy = schema.tenancy
    return guarantee_violations(
        url,
        tenant_column=tenancy.column if tenancy else "tenant_id",
        tenant_table=schema.entity(tenancy.entity).table if tenancy else "",
        setting=tenancy.setting if tenancy else "app.tenant_id",
        writer=schema.roles.writer,
        writable_tables=writable_global_tables(schema),
    )


@dataclass(frozen=True)
class Identity:
    """What must survive a rename: a table's oid or a column's attnum, by name."""

    table: str
    column: str | None = None

    def read(self, url: str) -> int | None:
        if self.column is None:
            rows = query(url, "SELECT to_regclass(%s)::oid", (_quoted(self.table),))
        else:
            rows = query(
                url,
                "SELECT attnum FROM pg_attribute WHERE attrelid = to_regclass(%s) "
                "AND attname = %s AND NOT attisdropped",
                (_quoted(self.table), self.column),
            )
        return int(rows[0][0]) if rows and rows[0][0] is not None else None


def _quoted(table: str) -> str:
    return '"' + table.replace('"', '""') + '"'


_RENAMED_FIELD = re.compile(r"rename field (\w+)\.(\w+) -> (\w+)")
_RENAMED_ENTITY = re.compile(r"rename entity (\w+) -> (\w+)")


def renamed(step: str, before: Schema, after: Schema) -> tuple[Identity, Identity] | None:
    """For a rename step: the object before and after, which must be the same object."""
    if match := _RENAMED_FIELD.fullmatch(step):
        entity, old, new = match.groups()
        return Identity(before.entity(entity).table, old), Identity(
            after.entity(entity).table, new
        )
    if match := _RENAMED_ENTITY.fullmatch(step):
        old, new = match.groups()
        return Identity(before.entity(old).table), Identity(after.entity(new).table)
    return None


def style_problems(root: Path) -> str:
    """What ``black --check`` and ``ruff check`` say of the project's Python ('' if clean)."""
    commands = [
        [sys.executable, "-m", "black", "--check", "-q", "-l", "99", "-t", "py311",
         "--extend-exclude", r"\.entityforge", "."],
        [sys.executable, "-m", "ruff", "check", "--isolated", "--no-cache", "--quiet",
         "--select", RUFF_RULES, "--line-length", "99", "--target-version", "py311",
         "--extend-exclude", ".entityforge", "."],
    ]  # fmt: skip
    problems = []
    for command in commands:
        result = subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            problems.append(f"{command[2]}: {result.stdout}{result.stderr}")
    return "\n".join(problems)


def _assert_head(root: Path, package: str, url: str, schema: Schema, label: str) -> None:
    run_alembic(root, package, url, "check")
    found = violations(url, schema)
    assert found == {}, f"{label}: guarantees violated: {found}"


def _distributed(schema: Schema) -> bool:
    return schema.tenancy is not None and schema.tenancy.distribution == "citus"


def _revision_step(
    root: Path,
    package: str,
    url: str,
    text: str,
    schema: Schema,
    step: str,
    options: pipeline.Options,
) -> None:
    """Generate one new revision for ``text``, migrate to it, check every property at
    head, and go down and up again to the same schema."""
    versions = root / package / "alembic" / "versions"
    revisions = sorted(versions.glob("*.py"))
    generate_project(root, text, package, options)
    assert len(sorted(versions.glob("*.py"))) == len(revisions) + 1, f"{step}: no new revision"
    assert style_problems(root) == "", step
    run_alembic(root, package, url, "upgrade", "head")
    _assert_head(root, package, url, schema, step)
    snapshot = schema_snapshot(url)
    run_alembic(root, package, url, "downgrade", "-1")
    run_alembic(root, package, url, "upgrade", "head")
    assert schema_snapshot(url) == snapshot, f"{step}: downgrade/upgrade changed the schema"


def check_states(states: list[str], steps: list[str], create_database: Any, package: str) -> None:
    """Generate and migrate ``states`` in order; every property holds at every step."""
    url = create_database()
    with tempfile.TemporaryDirectory(prefix="entityforge-property-") as directory:
        root = Path(directory) / "project"
        package = f"{package}_{unique_package('x')[2:]}"
        schemas = [load_schema_text(text) for text in states]
        generate_project(root, states[0], package)
        assert style_problems(root) == ""
        run_alembic(root, package, url, "upgrade", "head")
        _assert_head(root, package, url, schemas[0], "initial")
        for index, text in enumerate(states[1:], start=1):
            step = steps[index - 1]
            # Every other field rename is made in two steps: expand, then contract.
            two_steps = (
                _RENAMED_FIELD.fullmatch(step) is not None
                and index % 2 == 1
                and not _distributed(schemas[index])
            )
            options = pipeline.Options(allow_destructive=True, expand=two_steps)
            identities = renamed(step, schemas[index - 1], schemas[index])
            if two_steps:
                _revision_step(
                    root, package, url, text, schemas[index], f"{step} (expand)", options
                )
                contract = pipeline.Options(contract=True)
                _revision_step(
                    root, package, url, text, schemas[index], f"{step} (contract)", contract
                )
            else:
                before_id = identities[0].read(url) if identities else None
                _revision_step(root, package, url, text, schemas[index], step, options)
                if identities:
                    assert identities[1].read(url) == before_id, f"{step}: not a rename"
        snapshot = schema_snapshot(url)
        run_alembic(root, package, url, "downgrade", "base")
        assert query(url, LEFTOVERS) == []
        run_alembic(root, package, url, "upgrade", "head")
        assert schema_snapshot(url) == snapshot, "upgrade after downgrade to base differs"


# --- regressions -------------------------------------------------------------------------


def save_regression(
    kind: str, package: str, states: list[str], steps: list[str], error: str
) -> Path:
    """Keep a failing example as ``tests/regressions/<kind>-<digest>.yaml``."""
    digest = hashlib.sha256("\0".join([package, *states]).encode()).hexdigest()[:12]
    path = REGRESSIONS / f"{kind}-{digest}.yaml"
    REGRESSIONS.mkdir(exist_ok=True)
    first_line = error.strip().splitlines()[0][:300] if error.strip() else ""
    for literal in (True, False):
        document = {
            "kind": kind,
            "package": package,
            "error": first_line,
            "steps": list(steps),
            "states": [LiteralScalarString(t) if literal else t for t in states],
        }
        yaml = YAML()
        yaml.width = 1 << 16
        with path.open("w", encoding="utf-8") as stream:
            yaml.dump(document, stream)
        if _reads_back(path, states):
            return path
    raise AssertionError(f"{path} does not read back")


def _reads_back(path: Path, states: list[str]) -> bool:
    try:
        return load_regression(path)["states"] == states
    except Exception:  # a literal block that cannot hold the text: write it quoted
        return False


def load_regression(path: Path) -> dict[str, Any]:
    data = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
    return {
        "kind": data["kind"],
        "package": data.get("package", "app"),
        "steps": list(data.get("steps") or []),
        "states": [str(text) for text in data["states"]],
    }
