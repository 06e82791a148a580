"""Login roles the way an application and an operator connect: members of a group role.

Superusers and table owners bypass row-level security, so tests that prove isolation
must connect as neither: a fresh LOGIN role granted the writer (or admin) role, which
owns nothing. Roles are cluster-wide; each test makes its own with a unique name and
drops it afterwards (it owns nothing and holds no privilege of its own, so it drops
cleanly while the database still exists).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from tests.projects import psql_url


@dataclass(frozen=True)
class LoginRole:
    """A login role, the group role it is a member of, and URLs to connect as it."""

    name: str
    member_of: str
    url: str

    @property
    def conninfo(self) -> str:
        """The libpq form of ``url``, for psycopg."""
        return psql_url(self.url)


@contextmanager
def login_role(owner_url: str, member_of: str, prefix: str = "ef_login") -> Iterator[LoginRole]:
    """Create a LOGIN role granted ``member_of``; connect as it to the owner's database."""
    name = f"{prefix}_{secrets.token_hex(5)}"
    password = secrets.token_hex(12)
    with psycopg.connect(psql_url(owner_url), autocommit=True) as connection:
        connection.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} NOSUPERUSER NOBYPASSRLS").format(
                sql.Identifier(name), sql.Literal(password)
            )
        )
        connection.execute(
            sql.SQL("GRANT {} TO {}").format(sql.Identifier(member_of), sql.Identifier(name))
        )
    url = (
        make_url(owner_url)
        .set(username=name, password=password)
        .render_as_string(hide_password=False)
    )
    try:
        yield LoginRole(name, member_of, url)
    finally:
        with psycopg.connect(psql_url(owner_url), autocommit=True) as connection:
            connection.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s",
                (name,),
            )
            connection.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))


# What a login member of the writer must never hold (guarantee 8 / R1), as seen by the
# owner: each query lists violations for the login role ``%(role)s``.
WRITER_LOGIN_VIOLATIONS = """
SELECT 'superuser or bypassrls' FROM pg_roles
 WHERE rolname = %(role)s AND (rolsuper OR rolbypassrls)
UNION ALL
SELECT 'owns ' || c.relname FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner
 WHERE pg_has_role(%(role)s, r.oid, 'MEMBER') AND c.relnamespace = 'public'::regnamespace
UNION ALL
SELECT p || ' on ' || c.relname FROM pg_class c,
       unnest(ARRAY['TRUNCATE', 'REFERENCES', 'TRIGGER']) p
 WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
   AND has_table_privilege(%(role)s, c.oid, p)
"""


def writer_login_violations(owner_url: str, role: str) -> list[str]:
    """Tables the role owns (or owns through a role it belongs to), forbidden privileges."""
    with psycopg.connect(psql_url(owner_url), autocommit=True) as connection:
        rows = connection.execute(WRITER_LOGIN_VIOLATIONS, {"role": role}).fetchall()
    return sorted(row[0] for row in rows)
