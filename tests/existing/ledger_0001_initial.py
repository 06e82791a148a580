"""initial

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.execute(
        "DO $$\n"
        "BEGIN\n"
        "    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'app_reader') THEN\n"
        "        BEGIN\n"
        "            CREATE ROLE app_reader NOLOGIN;\n"
        "        EXCEPTION WHEN duplicate_object OR unique_violation THEN\n"
        "            NULL;\n"
        "        END;\n"
        "    END IF;\n"
        "END\n"
        "$$"
    )
    op.execute("GRANT USAGE ON SCHEMA public TO app_reader")
    op.execute(
        "DO $$\n"
        "BEGIN\n"
        "    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'app_writer') THEN\n"
        "        BEGIN\n"
        "            CREATE ROLE app_writer NOLOGIN;\n"
        "        EXCEPTION WHEN duplicate_object OR unique_violation THEN\n"
        "            NULL;\n"
        "        END;\n"
        "    END IF;\n"
        "END\n"
        "$$"
    )
    op.execute("GRANT USAGE ON SCHEMA public TO app_writer")
    op.execute(
        "DO $$\n"
        "BEGIN\n"
        "    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'app_admin') THEN\n"
        "        BEGIN\n"
        "            CREATE ROLE app_admin NOLOGIN BYPASSRLS;\n"
        "        EXCEPTION WHEN duplicate_object OR unique_violation THEN\n"
        "            NULL;\n"
        "        END;\n"
        "    END IF;\n"
        "END\n"
        "$$"
    )
    op.execute("GRANT USAGE ON SCHEMA public TO app_admin")

    op.execute(
        "CREATE FUNCTION set_updated_at() RETURNS trigger\n"
        "LANGUAGE plpgsql AS $$\n"
        "BEGIN\n"
        "    NEW.updated_at := clock_timestamp();\n"
        "    RETURN NEW;\n"
        "END\n"
        "$$"
    )

    op.create_table(
        "accounts",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
    )
    op.execute(
        "CREATE TRIGGER trg_accounts_updated_at BEFORE UPDATE ON accounts\n"
        "FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
    )
    op.execute("GRANT SELECT ON accounts TO app_reader")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON accounts TO app_writer")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON accounts TO app_admin")

    op.create_table(
        "countries",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("code", sa.String(2), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_countries")),
        sa.UniqueConstraint("code", name=op.f("uq_countries_code")),
    )
    op.execute("GRANT SELECT ON countries TO app_reader")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON countries TO app_writer")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON countries TO app_admin")

    op.create_table(
        "customers",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(120), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_customers_account_id_accounts"),
            ondelete="RESTRICT",
        ),
        sa.UniqueConstraint("account_id", "id", name=op.f("uq_customers_account_id_id")),
        sa.UniqueConstraint("account_id", "email", name=op.f("uq_customers_account_id_email")),
    )
    op.execute(
        "CREATE TRIGGER trg_customers_updated_at BEFORE UPDATE ON customers\n"
        "FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
    )
    op.execute("ALTER TABLE customers ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE customers FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY tenant_isolation ON customers FOR ALL\n"
        "USING (account_id = (SELECT NULLIF(current_setting('ledger.account', true), "
        "'')::uuid))\n"
        "WITH CHECK (account_id = (SELECT NULLIF(current_setting('ledger.account', true), "
        "'')::uuid))"
    )
    op.execute("GRANT SELECT ON customers TO app_reader")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON customers TO app_writer")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON customers TO app_admin")


def downgrade() -> None:
    op.execute("REVOKE SELECT, INSERT, UPDATE, DELETE ON customers FROM app_admin")
    op.execute("REVOKE SELECT, INSERT, UPDATE, DELETE ON customers FROM app_writer")
    op.execute("REVOKE SELECT ON customers FROM app_reader")
    op.execute("DROP POLICY tenant_isolation ON customers")
    op.execute("ALTER TABLE customers NO FORCE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE customers DISABLE ROW LEVEL SECURITY")
    op.execute("DROP TRIGGER trg_customers_updated_at ON customers")
    op.drop_table("customers")

    op.execute("REVOKE SELECT, INSERT, UPDATE, DELETE ON countries FROM app_admin")
    op.execute("REVOKE SELECT, INSERT, UPDATE, DELETE ON countries FROM app_writer")
    op.execute("REVOKE SELECT ON countries FROM app_reader")
    op.drop_table("countries")

    op.execute("REVOKE SELECT, INSERT, UPDATE, DELETE ON accounts FROM app_admin")
    op.execute("REVOKE SELECT, INSERT, UPDATE, DELETE ON accounts FROM app_writer")
    op.execute("REVOKE SELECT ON accounts FROM app_reader")
    op.execute("DROP TRIGGER trg_accounts_updated_at ON accounts")
    op.drop_table("accounts")

    op.execute("DROP FUNCTION set_updated_at()")

    op.execute(
        "DO $$\n"
        "BEGIN\n"
        "    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'app_admin') THEN\n"
        "        REVOKE USAGE ON SCHEMA public FROM app_admin;\n"
        "        IF NOT EXISTS (\n"
        "            SELECT FROM pg_shdepend\n"
        "            WHERE refclassid = 'pg_authid'::regclass\n"
        "              AND refobjid = (SELECT oid FROM pg_roles WHERE rolname = "
        "'app_admin')\n"
        "        ) THEN\n"
        "            DROP ROLE app_admin;\n"
        "        END IF;\n"
        "    END IF;\n"
        "END\n"
        "$$"
    )
    op.execute(
        "DO $$\n"
        "BEGIN\n"
        "    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'app_writer') THEN\n"
        "        REVOKE USAGE ON SCHEMA public FROM app_writer;\n"
        "        IF NOT EXISTS (\n"
        "            SELECT FROM pg_shdepend\n"
        "            WHERE refclassid = 'pg_authid'::regclass\n"
        "              AND refobjid = (SELECT oid FROM pg_roles WHERE rolname = "
        "'app_writer')\n"
        "        ) THEN\n"
        "            DROP ROLE app_writer;\n"
        "        END IF;\n"
        "    END IF;\n"
        "END\n"
        "$$"
    )
    op.execute(
        "DO $$\n"
        "BEGIN\n"
        "    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'app_reader') THEN\n"
        "        REVOKE USAGE ON SCHEMA public FROM app_reader;\n"
        "        IF NOT EXISTS (\n"
        "            SELECT FROM pg_shdepend\n"
        "            WHERE refclassid = 'pg_authid'::regclass\n"
        "              AND refobjid = (SELECT oid FROM pg_roles WHERE rolname = "
        "'app_reader')\n"
        "        ) THEN\n"
        "            DROP ROLE app_reader;\n"
        "        END IF;\n"
        "    END IF;\n"
        "END\n"
        "$$"
    )


# The schema this revision leads to, which entityforge diffs the next revision against:
# the catalog as JSON, zlib-compressed and base64-encoded. Do not edit.
ENTITYFORGE_STATE = (
    "eNrdVE1rwzAM/S86bRDG1tPIbfRnjGK8WMlMHTt1ZLZQ8t+nfNZZ2q0w6GGnBlnv6UlP1RFy50tJ"
    "kD4lkEmSxhWQHoHkm8Ea0tcjWFkipCCzzAVLNXCeM6G0i1etOE5NhR14jIXA0TYBhbkMhkR9MBwt"
    "0AovrXKl6BLu7hnonRlJ2mSG9z8r0pq8tgXHS/kpDNqC3iF9fmwjYOZREirBXa3gil9I8+dKl3Uf"
    "sZaIJKIOlfo7dUTS7hKovC6lb8QeG55oNwQOnnIEN1wU6CElHzABtKSJM+FlMCSW1we8xtuZlDl1"
    "rUmb9nK3Vh/Cct3CQczdiLHKqaWh7q4jnOex7dObhbpQkyvR324e479E/EQ9AgmtXNqHpdTmymk+"
    "bf7dzvMlQl3YLriwKd+L2UhxGrA4e5FiB5jTY47ec+H+oC3P2PwWoTtUe3kjz8norT4vIBn4kl85"
    "Jucv0QzvvbJhbUSduQrVdBSuOBfbsS7MJFnTObm6J5OK79tcI1G3hykYVFzhQU4HqG2/APehJ0Q="
)
