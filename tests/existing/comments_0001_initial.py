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
        sa.Column("name", sa.String(100), nullable=False),
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
        "projects",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
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
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects")),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["accounts.id"],
            name=op.f("fk_projects_tenant_id_accounts"),
            ondelete="RESTRICT",
        ),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_projects_tenant_id_id")),
    )
    op.execute(
        "CREATE TRIGGER trg_projects_updated_at BEFORE UPDATE ON projects\n"
        "FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
    )
    op.execute("ALTER TABLE projects ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE projects FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY tenant_isolation ON projects FOR ALL\n"
        "USING (tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), "
        "'')::uuid))\n"
        "WITH CHECK (tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), "
        "'')::uuid))"
    )
    op.execute("GRANT SELECT ON projects TO app_reader")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON projects TO app_writer")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON projects TO app_admin")

    op.create_table(
        "comments",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
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
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comments")),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_comments_project_id_projects"),
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        op.f("ix_comments_project_id"),
        "comments",
        ["project_id"],
        unique=False,
    )
    op.execute(
        "CREATE TRIGGER trg_comments_updated_at BEFORE UPDATE ON comments\n"
        "FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
    )
    op.execute("GRANT SELECT ON comments TO app_reader")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON comments TO app_writer")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON comments TO app_admin")

    op.create_table(
        "comment_related",
        sa.Column("comment_id", sa.Uuid(), nullable=False),
        sa.Column("related_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("comment_id", "related_id", name=op.f("pk_comment_related")),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["comments.id"],
            name=op.f("fk_comment_related_comment_id_comments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["related_id"],
            ["comments.id"],
            name=op.f("fk_comment_related_related_id_comments"),
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        op.f("ix_comment_related_related_id"),
        "comment_related",
        ["related_id"],
        unique=False,
    )
    op.execute("GRANT SELECT ON comment_related TO app_reader")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON comment_related TO app_writer")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON comment_related TO app_admin")


def downgrade() -> None:
    op.execute("REVOKE SELECT, INSERT, UPDATE, DELETE ON comment_related FROM app_admin")
    op.execute("REVOKE SELECT, INSERT, UPDATE, DELETE ON comment_related FROM app_writer")
    op.execute("REVOKE SELECT ON comment_related FROM app_reader")
    op.drop_index(op.f("ix_comment_related_related_id"), table_name="comment_related")
    op.drop_table("comment_related")

    op.execute("REVOKE SELECT, INSERT, UPDATE, DELETE ON comments FROM app_admin")
    op.execute("REVOKE SELECT, INSERT, UPDATE, DELETE ON comments FROM app_writer")
    op.execute("REVOKE SELECT ON comments FROM app_reader")
    op.execute("DROP TRIGGER trg_comments_updated_at ON comments")
    op.drop_index(op.f("ix_comments_project_id"), table_name="comments")
    op.drop_table("comments")

    op.execute("REVOKE SELECT, INSERT, UPDATE, DELETE ON projects FROM app_admin")
    op.execute("REVOKE SELECT, INSERT, UPDATE, DELETE ON projects FROM app_writer")
    op.execute("REVOKE SELECT ON projects FROM app_reader")
    op.execute("DROP POLICY tenant_isolation ON projects")
    op.execute("ALTER TABLE projects NO FORCE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE projects DISABLE ROW LEVEL SECURITY")
    op.execute("DROP TRIGGER trg_projects_updated_at ON projects")
    op.drop_table("projects")

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
    "eNrtVk1v3CAQ/S9zaiUfkqtvq03ulXKMKkRg1qXB4MWgrrXyf+/gr8UySTZplUt72tXAezzmvUE+"
    "w8G6mnsobwsQ3HNtKyjP4PmTxhbKxzMYXiOUwIWwwfgWaJ/VoTarVSWp7rsGI3iqhUDVvgCJBx60"
    "Z+1RU7VCwxw30tYsbvjylYDO6omkLxb48LMhbb1TpqJ6zU9Mo6n8D9J+c9MnSOGQe5SMrrXBS1rx"
    "iv5uhBn7KxWTkCTUoZF/Tp2Q9N8LaJyquevYM3bU0tgFKl72MLpxVaGD0ruABaDxytNO2I2OpPIa"
    "Z3+i+ESTPBpuPHuNecKNO/8bPBtMc4eqMrG4MunwzGYX2dJdlp2+pPtE6PCAztGpw+yuJ3ZZS8AR"
    "FdUFo45hPevhmNMwmJw9vVjIplorbINyTuwVWf42Hpc6IWxd42c+OE9WdltSjyeStZ2xazI/tB2N"
    "QPh3wjvbxi59YtlnKW1kLr4J6KX4FmANk6jRR8B+97Df3d0PqpWReFqHWp1y2vLpStb7cUjejvB+"
    "JM9EmDnUEZ0/a9700TxN5O/Eb51d6UhIr7J7viK7sLDsAKfH5FxPQO90vXhN1uU+L8haX/gvynor"
    "jBmJ+Zwk6zGTy2srumj49qug738Ddwpmeg=="
)
