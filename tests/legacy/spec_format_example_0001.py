"""initial

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")

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

    op.execute("CREATE TYPE member_role AS ENUM ('owner', 'member', 'viewer')")
    op.execute("CREATE TYPE task_status AS ENUM ('todo', 'doing', 'done')")

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
        "workspaces",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("slug", sa.String(63), nullable=False),
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
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workspaces")),
        sa.UniqueConstraint("slug", name=op.f("uq_workspaces_slug")),
        sa.CheckConstraint("slug ~ '^[a-z0-9-]+$'", name=op.f("ck_workspaces_slug")),
    )
    op.execute(
        "CREATE TRIGGER trg_workspaces_updated_at BEFORE UPDATE ON workspaces\n"
        "FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
    )
    op.execute("GRANT SELECT ON workspaces TO app_reader")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON workspaces TO app_writer")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON workspaces TO app_admin")

    op.create_table(
        "members",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("display_name", sa.String(120), nullable=True),
        sa.Column(
            "role",
            postgresql.ENUM("owner", "member", "viewer", name="member_role", create_type=False),
            server_default=sa.text("'member'"),
            nullable=False,
        ),
        sa.Column(
            "preferences",
            postgresql.JSONB(),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
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
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_members")),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["workspaces.id"],
            name=op.f("fk_members_tenant_id_workspaces"),
            ondelete="RESTRICT",
        ),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_members_tenant_id_id")),
    )
    op.create_index(
        op.f("uq_members_tenant_id_email"),
        "members",
        ["tenant_id", "email"],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index(
        op.f("ix_members_tenant_id_preferences_gin"),
        "members",
        ["tenant_id", "preferences"],
        unique=False,
        postgresql_using="gin",
    )
    op.execute(
        "CREATE TRIGGER trg_members_updated_at BEFORE UPDATE ON members\n"
        "FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
    )
    op.execute("ALTER TABLE members ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE members FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY tenant_isolation ON members FOR ALL\n"
        "USING (tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), "
        "'')::uuid))\n"
        "WITH CHECK (tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), "
        "'')::uuid))"
    )
    op.execute("GRANT SELECT ON members TO app_reader")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON members TO app_writer")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON members TO app_admin")

    op.create_table(
        "projects",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("budget", sa.Numeric(12, 2), nullable=True),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
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
            ["workspaces.id"],
            name=op.f("fk_projects_tenant_id_workspaces"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "owner_id"],
            ["members.tenant_id", "members.id"],
            name=op.f("fk_projects_tenant_id_owner_id_members"),
            ondelete="RESTRICT",
        ),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_projects_tenant_id_id")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_projects_tenant_id_name")),
        sa.CheckConstraint("budget >= 0", name=op.f("ck_projects_budget")),
    )
    op.create_index(
        op.f("ix_projects_tenant_id_owner_id"),
        "projects",
        ["tenant_id", "owner_id"],
        unique=False,
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
        "tasks",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column(
            "status",
            postgresql.ENUM("todo", "doing", "done", name="task_status", create_type=False),
            server_default=sa.text("'todo'"),
            nullable=False,
        ),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("estimate_hours", sa.Integer(), nullable=True),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
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
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["workspaces.id"],
            name=op.f("fk_tasks_tenant_id_workspaces"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "project_id"],
            ["projects.tenant_id", "projects.id"],
            name=op.f("fk_tasks_tenant_id_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "parent_id"],
            ["tasks.tenant_id", "tasks.id"],
            name=op.f("fk_tasks_tenant_id_parent_id_tasks"),
            ondelete="SET NULL (parent_id)",
        ),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_tasks_tenant_id_id")),
        sa.CheckConstraint("estimate_hours > 0", name=op.f("ck_tasks_estimate_hours")),
        sa.CheckConstraint(
            "due_at IS NULL OR due_at >= created_at", name=op.f("ck_tasks_due_after_created")
        ),
    )
    op.create_index(
        op.f("ix_tasks_tenant_id_project_id_status"),
        "tasks",
        ["tenant_id", "project_id", "status"],
        unique=False,
    )
    op.create_index(
        op.f("ix_tasks_tenant_id_due_at_partial"),
        "tasks",
        ["tenant_id", "due_at"],
        unique=False,
        postgresql_where=sa.text("status <> 'done'"),
    )
    op.create_index(
        op.f("ix_tasks_tenant_id_parent_id"),
        "tasks",
        ["tenant_id", "parent_id"],
        unique=False,
    )
    op.execute(
        "CREATE TRIGGER trg_tasks_updated_at BEFORE UPDATE ON tasks\n"
        "FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
    )
    op.execute("ALTER TABLE tasks ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE tasks FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY tenant_isolation ON tasks FOR ALL\n"
        "USING (tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), "
        "'')::uuid))\n"
        "WITH CHECK (tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), "
        "'')::uuid))"
    )
    op.execute("GRANT SELECT ON tasks TO app_reader")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON tasks TO app_writer")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON tasks TO app_admin")

    op.create_table(
        "project_members",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_id", "project_id", "member_id", name=op.f("pk_project_members")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["workspaces.id"],
            name=op.f("fk_project_members_tenant_id_workspaces"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "project_id"],
            ["projects.tenant_id", "projects.id"],
            name=op.f("fk_project_members_tenant_id_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "member_id"],
            ["members.tenant_id", "members.id"],
            name=op.f("fk_project_members_tenant_id_member_id_members"),
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        op.f("ix_project_members_tenant_id_member_id"),
        "project_members",
        ["tenant_id", "member_id"],
        unique=False,
    )
    op.execute("ALTER TABLE project_members ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE project_members FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY tenant_isolation ON project_members FOR ALL\n"
        "USING (tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), "
        "'')::uuid))\n"
        "WITH CHECK (tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), "
        "'')::uuid))"
    )
    op.execute("GRANT SELECT ON project_members TO app_reader")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON project_members TO app_writer")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON project_members TO app_admin")


def downgrade() -> None:
    op.execute("REVOKE SELECT, INSERT, UPDATE, DELETE ON project_members FROM app_admin")
    op.execute("REVOKE SELECT, INSERT, UPDATE, DELETE ON project_members FROM app_writer")
    op.execute("REVOKE SELECT ON project_members FROM app_reader")
    op.execute("DROP POLICY tenant_isolation ON project_members")
    op.execute("ALTER TABLE project_members NO FORCE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE project_members DISABLE ROW LEVEL SECURITY")
    op.drop_index(op.f("ix_project_members_tenant_id_member_id"), table_name="project_members")
    op.drop_table("project_members")

    op.execute("REVOKE SELECT, INSERT, UPDATE, DELETE ON tasks FROM app_admin")
    op.execute("REVOKE SELECT, INSERT, UPDATE, DELETE ON tasks FROM app_writer")
    op.execute("REVOKE SELECT ON tasks FROM app_reader")
    op.execute("DROP POLICY tenant_isolation ON tasks")
    op.execute("ALTER TABLE tasks NO FORCE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE tasks DISABLE ROW LEVEL SECURITY")
    op.execute("DROP TRIGGER trg_tasks_updated_at ON tasks")
    op.drop_index(op.f("ix_tasks_tenant_id_parent_id"), table_name="tasks")
    op.drop_index(op.f("ix_tasks_tenant_id_due_at_partial"), table_name="tasks")
    op.drop_index(op.f("ix_tasks_tenant_id_project_id_status"), table_name="tasks")
    op.drop_table("tasks")

    op.execute("REVOKE SELECT, INSERT, UPDATE, DELETE ON projects FROM app_admin")
    op.execute("REVOKE SELECT, INSERT, UPDATE, DELETE ON projects FROM app_writer")
    op.execute("REVOKE SELECT ON projects FROM app_reader")
    op.execute("DROP POLICY tenant_isolation ON projects")
    op.execute("ALTER TABLE projects NO FORCE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE projects DISABLE ROW LEVEL SECURITY")
    op.execute("DROP TRIGGER trg_projects_updated_at ON projects")
    op.drop_index(op.f("ix_projects_tenant_id_owner_id"), table_name="projects")
    op.drop_table("projects")

    op.execute("REVOKE SELECT, INSERT, UPDATE, DELETE ON members FROM app_admin")
    op.execute("REVOKE SELECT, INSERT, UPDATE, DELETE ON members FROM app_writer")
    op.execute("REVOKE SELECT ON members FROM app_reader")
    op.execute("DROP POLICY tenant_isolation ON members")
    op.execute("ALTER TABLE members NO FORCE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE members DISABLE ROW LEVEL SECURITY")
    op.execute("DROP TRIGGER trg_members_updated_at ON members")
    op.drop_index(op.f("ix_members_tenant_id_preferences_gin"), table_name="members")
    op.drop_index(op.f("uq_members_tenant_id_email"), table_name="members")
    op.drop_table("members")

    op.execute("REVOKE SELECT, INSERT, UPDATE, DELETE ON workspaces FROM app_admin")
    op.execute("REVOKE SELECT, INSERT, UPDATE, DELETE ON workspaces FROM app_writer")
    op.execute("REVOKE SELECT ON workspaces FROM app_reader")
    op.execute("DROP TRIGGER trg_workspaces_updated_at ON workspaces")
    op.drop_table("workspaces")

    op.execute("DROP FUNCTION set_updated_at()")

    op.execute("DROP TYPE task_status")
    op.execute("DROP TYPE member_role")

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

    op.execute("DROP EXTENSION IF EXISTS btree_gin")


# The schema this revision leads to, which entityforge diffs the next revision against:
# the catalog as JSON, zlib-compressed and base64-encoded. Do not edit.
ENTITYFORGE_STATE = (
    "eNrlWG2L4zYQ/itGFLalXtgXKDRcF47rfShcX+heuQ9LKhR74vhiS1lbbpIu7m/vyC+yFMuOs4Ft"
    "t/2UMNY8M5qXZ8Z+IkuRpUyS2bVPAiZZIiIyeyKSLRLIyezhiXCWApmRrcjW+YYFKMWTIilSbj2P"
    "Q5TL/QaUeiMrCpSWPglhyYpE0vwxQWkEnGaMhyKl6sCXX6FiJpIGpPS1evXTA81lFvMI5Snb0QR4"
    "JFdkdnN1VRqaeVJEEzW/uTUVgwyYhJBiRHrqIT6RMf7t3YiLrXkLA8SALjbh+dAGSDn3ySaLU5bt"
    "6Rr2mAsVPhQWPH4s7OQVj7TLH22i0yWxjtdcIQYrCNaWbrB26OYrkUlqRxt2mwzyPBa8kXl/eRe/"
    "P7DLP68uv72cf/3FReVzdwWK+YgiyMhMZgUgAJexxIuQT609M34ppAvIXq76JHDGJR1DbvTqk6Yu"
    "pCxOJhbg7Y1VumGcbxK2pycU/zUi+IQXSaK6to6mgVh52UMCXqQo/YMlda0QseWYCr+Js3oUwxb/"
    "zP3qLLXSQCvQLrgKuILSJ4h5KSyMJWTAa/Y48ORzjhXjhHpA2+uYh3hILD5DIMlr7VUjv5DAFGg7"
    "nRrUUB8kAKR0iCOuhFaTLNe0aSKqi5sO8LpR/ohYpS9Ds7J2yZ4G+qmhrvTKQTLqu1G1mdO8r7Gw"
    "EmA3AavtPgdPdLC9bu28bUO+XWHNWjH3frj3fvrtwwdTO945XDAKnkYxP8EZs1WUSynIlVAdoGCU"
    "oNHKA7GBsHV1Aqn+2LSlaUqopnodlPr8ZWBRhBG4ug0CbB5VKBjzIK4H1/UNDreAKSduxki1Yssp"
    "N9HpJP+xNWOEZdrCeiGa8Y/YbnNFXSuEVZQ6qy5nOm2XJy7CcpOfw8Oj7OcfAWi6YwCiejpEochf"
    "IzE7gbm0Sjm8SWpLuimtTVJLrV2ylnp333lXZzHgL7Vxi5FYvn4d/Id3SKYS4O3B25BkssgnrIBS"
    "hAIFoaghQ8HhcP1TAaMNoHv9q0CsjbaAE7cdczbneAQP0pUoMscdYi4hqsbaMEZTdM9m6w1D0bj6"
    "wLb2fyT/qqX+CeY/NNylnTo3HasdjRpxuWMATCF/nCSc1msjKr97e//u7ffvyRF32yqjfVKyXdXl"
    "6PK0VT7dzfv3H+vlFkkZkJKxpE1lw+zwbDu81DPXepxJI9nUfDZ9p9bJ7dNiObeX+UPDNX2p9MiY"
    "nfJa0fCeumL7JlGb9N7ceReKXC/IuGmTeCbfVeuMjOHaUI9brVnce2rNZPupd6dGs983UcVgKXEv"
    "aAjr0IrrgGWojmL74uX9/KvXSHAdMEnwjL3gI7rqKpfRL07nzPJzB1LzDeY09T6VD/Cfb+BP2vNf"
    "+KuCP82Ffzn9Dzuuo3/8fcVK1JkvLANOH3tpGLvACbTV6dS05ejlsllFLTDzc+Skr5kHy383TI6s"
    "wZX1HbqleKk6tpAZQPV1p/U32KtOdH3GLsu/AQB30LU="
)
