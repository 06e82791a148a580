"""initial

Revision ID: a37ed5d241f4
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "a37ed5d241f4"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")

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

    op.execute(
        "DO $$\n"
        "BEGIN\n"
        "    IF current_setting('server_version_num')::int < 180000\n"
        "       AND to_regprocedure('public.uuidv7()') IS NULL THEN\n"
        "        CREATE FUNCTION public.uuidv7() RETURNS uuid LANGUAGE sql VOLATILE PARALLEL "
        "SAFE\n"
        "    AS $fn$SELECT encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid()) placing "
        "substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3) "
        "FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid$fn$;\n"
        "    END IF;\n"
        "END\n"
        "$$"
    )

    op.create_table(
        "workspaces",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
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
        comment="A customer account; every tenant-scoped row belongs to one.",
    )
    op.execute(
        "CREATE TRIGGER trg_workspaces_updated_at BEFORE UPDATE ON workspaces\n"
        "FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
    )
    op.execute("ALTER TABLE workspaces ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE workspaces FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY tenant_isolation ON workspaces FOR ALL\n"
        "USING (id = (SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid))\n"
        "WITH CHECK (id = (SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid))"
    )
    op.execute("GRANT SELECT ON workspaces TO app_reader")
    op.execute("GRANT SELECT, UPDATE ON workspaces TO app_writer")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON workspaces TO app_admin")

    op.create_table(
        "members",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("display_name", sa.String(120), nullable=True),
        sa.Column("role", sa.String(63), server_default=sa.text("'member'"), nullable=False),
        sa.Column(
            "preferences",
            postgresql.JSONB(),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
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
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_members")),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["workspaces.id"],
            name=op.f("fk_members_tenant_id_workspaces"),
            ondelete="RESTRICT",
        ),
        sa.CheckConstraint(
            "role IN ('owner', 'member', 'viewer')", name=op.f("ck_members_role_values")
        ),
    )
    op.create_index(
        op.f("uq_members_tenant_id_email"),
        "members",
        ["tenant_id", "email"],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index(
        op.f("ix_members_tenant_id_display_name_trgm"),
        "members",
        ["tenant_id", "display_name"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"display_name": "gin_trgm_ops"},
    )
    op.create_index(
        op.f("ix_members_tenant_id_preferences_gin"),
        "members",
        ["tenant_id", "preferences"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index(
        op.f("ix_members_last_seen_at_brin"),
        "members",
        ["last_seen_at"],
        unique=False,
        postgresql_using="brin",
    )
    op.execute(
        "CREATE TRIGGER trg_members_updated_at BEFORE UPDATE ON members\n"
        "FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
    )
    op.execute("ALTER TABLE members ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE members FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY tenant_isolation ON members FOR ALL\n"
        "USING (tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid))\n"
        "WITH CHECK (tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), "
        "'')::uuid))"
    )
    op.execute("GRANT SELECT ON members TO app_reader")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON members TO app_writer")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON members TO app_admin")
    op.execute(
        "CREATE FUNCTION members_display_name_ilike(value text) RETURNS SETOF uuid\n"
        "LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp\n"
        "AS $fn$SELECT id FROM public.members WHERE tenant_id = "
        "NULLIF(pg_catalog.current_setting('app.tenant_id', true), '')::uuid AND display_name "
        "ILIKE $1$fn$"
    )
    op.execute("ALTER FUNCTION members_display_name_ilike(text) OWNER TO app_admin")
    op.execute("REVOKE ALL ON FUNCTION members_display_name_ilike(text) FROM PUBLIC")
    op.execute(
        "GRANT EXECUTE ON FUNCTION members_display_name_ilike(text) TO app_reader, app_writer"
    )
    op.execute(
        "CREATE FUNCTION members_preferences_contains(value jsonb) RETURNS SETOF uuid\n"
        "LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp\n"
        "AS $fn$SELECT id FROM public.members WHERE tenant_id = "
        "NULLIF(pg_catalog.current_setting('app.tenant_id', true), '')::uuid AND preferences @> "
        "$1$fn$"
    )
    op.execute("ALTER FUNCTION members_preferences_contains(jsonb) OWNER TO app_admin")
    op.execute("REVOKE ALL ON FUNCTION members_preferences_contains(jsonb) FROM PUBLIC")
    op.execute(
        "GRANT EXECUTE ON FUNCTION members_preferences_contains(jsonb) TO app_reader, app_writer"
    )

    op.create_table(
        "projects",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("budget", sa.Numeric(12, 2), nullable=True),
        sa.Column(
            "tags",
            postgresql.ARRAY(sa.String(40)),
            server_default=sa.text("'{}'::varchar(40)[]"),
            nullable=False,
        ),
        sa.Column("rating", sa.String(63), nullable=True),
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
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_projects")),
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
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_projects_tenant_id_name")),
        sa.CheckConstraint("budget >= 0", name=op.f("ck_projects_budget")),
        sa.CheckConstraint(
            "rating IN ('G', 'PG', 'PG-13', 'R')", name=op.f("ck_projects_rating_values")
        ),
    )
    op.create_index(
        op.f("ix_projects_tenant_id_tags_gin"),
        "projects",
        ["tenant_id", "tags"],
        unique=False,
        postgresql_using="gin",
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
        "USING (tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid))\n"
        "WITH CHECK (tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), "
        "'')::uuid))"
    )
    op.execute("GRANT SELECT ON projects TO app_reader")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON projects TO app_writer")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON projects TO app_admin")
    op.execute(
        "CREATE FUNCTION projects_tags_contains(value varchar(40)[]) RETURNS SETOF uuid\n"
        "LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp\n"
        "AS $fn$SELECT id FROM public.projects WHERE tenant_id = "
        "NULLIF(pg_catalog.current_setting('app.tenant_id', true), '')::uuid AND tags @> $1$fn$"
    )
    op.execute("ALTER FUNCTION projects_tags_contains(varchar(40)[]) OWNER TO app_admin")
    op.execute("REVOKE ALL ON FUNCTION projects_tags_contains(varchar(40)[]) FROM PUBLIC")
    op.execute(
        "GRANT EXECUTE ON FUNCTION projects_tags_contains(varchar(40)[]) TO app_reader, app_writer"
    )

    op.create_table(
        "tasks",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("status", sa.String(63), server_default=sa.text("'todo'"), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("estimate_hours", sa.Integer(), nullable=True),
        sa.Column(
            "order",
            sa.SmallInteger(),
            server_default=sa.text("0"),
            nullable=False,
            comment="Position in the project's board.",
        ),
        sa.Column("metadata", postgresql.JSONB(), nullable=True),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("assignee_id", sa.Uuid(), nullable=True),
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
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_tasks")),
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
        sa.ForeignKeyConstraint(
            ["tenant_id", "assignee_id"],
            ["members.tenant_id", "members.id"],
            name=op.f("fk_tasks_tenant_id_assignee_id_members"),
            ondelete="SET NULL (assignee_id)",
        ),
        sa.CheckConstraint("estimate_hours > 0", name=op.f("ck_tasks_estimate_hours")),
        sa.CheckConstraint(
            "due_at IS NULL OR due_at >= created_at", name=op.f("ck_tasks_due_after_created")
        ),
        sa.CheckConstraint(
            "status IN ('todo', 'doing', 'done')", name=op.f("ck_tasks_status_values")
        ),
        comment="A unit of work inside a project.",
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
    op.create_index(
        op.f("ix_tasks_tenant_id_assignee_id"),
        "tasks",
        ["tenant_id", "assignee_id"],
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
        "USING (tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid))\n"
        "WITH CHECK (tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), "
        "'')::uuid))"
    )
    op.execute("GRANT SELECT ON tasks TO app_reader")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON tasks TO app_writer")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON tasks TO app_admin")

    op.create_table(
        "task_details",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("notes", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("attachment", sa.LargeBinary(), nullable=True),
        sa.Column("time_spent", sa.Interval(), nullable=True),
        sa.Column("reminder_time", sa.Time(), nullable=True),
        sa.Column("start_on", sa.Date(), nullable=True),
        sa.Column("score", sa.Double(), nullable=True),
        sa.Column("views", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("archived", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("external_ref", sa.Uuid(), nullable=True),
        sa.Column("task_id", sa.Uuid(), nullable=False),
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
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_task_details")),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["workspaces.id"],
            name=op.f("fk_task_details_tenant_id_workspaces"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "task_id"],
            ["tasks.tenant_id", "tasks.id"],
            name=op.f("fk_task_details_tenant_id_task_id_tasks"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "tenant_id", "task_id", name=op.f("uq_task_details_tenant_id_task_id")
        ),
    )
    op.create_index(
        op.f("ix_task_details_tenant_id_start_on_gist"),
        "task_details",
        ["tenant_id", "start_on"],
        unique=False,
        postgresql_using="gist",
    )
    op.create_index(
        op.f("ix_task_details_tenant_id_external_ref"),
        "task_details",
        ["tenant_id", "external_ref"],
        unique=False,
    )
    op.execute(
        "CREATE TRIGGER trg_task_details_updated_at BEFORE UPDATE ON task_details\n"
        "FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
    )
    op.execute("ALTER TABLE task_details ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE task_details FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY tenant_isolation ON task_details FOR ALL\n"
        "USING (tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid))\n"
        "WITH CHECK (tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), "
        "'')::uuid))"
    )
    op.execute("GRANT SELECT ON task_details TO app_reader")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON task_details TO app_writer")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON task_details TO app_admin")

    op.create_table(
        "countries",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("code", sa.String(2), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_countries")),
        sa.UniqueConstraint("code", name=op.f("uq_countries_code")),
    )
    op.execute("GRANT SELECT ON countries TO app_reader")
    op.execute("GRANT SELECT ON countries TO app_writer")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON countries TO app_admin")

    op.create_table(
        "member_mentors",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("mentors_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_id", "member_id", "mentors_id", name=op.f("pk_member_mentors")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["workspaces.id"],
            name=op.f("fk_member_mentors_tenant_id_workspaces"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "member_id"],
            ["members.tenant_id", "members.id"],
            name=op.f("fk_member_mentors_tenant_id_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "mentors_id"],
            ["members.tenant_id", "members.id"],
            name=op.f("fk_member_mentors_tenant_id_mentors_id_members"),
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        op.f("ix_member_mentors_tenant_id_mentors_id"),
        "member_mentors",
        ["tenant_id", "mentors_id"],
        unique=False,
    )
    op.execute("ALTER TABLE member_mentors ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE member_mentors FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY tenant_isolation ON member_mentors FOR ALL\n"
        "USING (tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid))\n"
        "WITH CHECK (tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), "
        "'')::uuid))"
    )
    op.execute("GRANT SELECT ON member_mentors TO app_reader")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON member_mentors TO app_writer")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON member_mentors TO app_admin")

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
        "USING (tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid))\n"
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

    op.execute("REVOKE SELECT, INSERT, UPDATE, DELETE ON member_mentors FROM app_admin")
    op.execute("REVOKE SELECT, INSERT, UPDATE, DELETE ON member_mentors FROM app_writer")
    op.execute("REVOKE SELECT ON member_mentors FROM app_reader")
    op.execute("DROP POLICY tenant_isolation ON member_mentors")
    op.execute("ALTER TABLE member_mentors NO FORCE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE member_mentors DISABLE ROW LEVEL SECURITY")
    op.drop_index(op.f("ix_member_mentors_tenant_id_mentors_id"), table_name="member_mentors")
    op.drop_table("member_mentors")

    op.execute("REVOKE SELECT, INSERT, UPDATE, DELETE ON countries FROM app_admin")
    op.execute("REVOKE SELECT ON countries FROM app_writer")
    op.execute("REVOKE SELECT ON countries FROM app_reader")
    op.drop_table("countries")

    op.execute("REVOKE SELECT, INSERT, UPDATE, DELETE ON task_details FROM app_admin")
    op.execute("REVOKE SELECT, INSERT, UPDATE, DELETE ON task_details FROM app_writer")
    op.execute("REVOKE SELECT ON task_details FROM app_reader")
    op.execute("DROP POLICY tenant_isolation ON task_details")
    op.execute("ALTER TABLE task_details NO FORCE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE task_details DISABLE ROW LEVEL SECURITY")
    op.execute("DROP TRIGGER trg_task_details_updated_at ON task_details")
    op.drop_index(op.f("ix_task_details_tenant_id_external_ref"), table_name="task_details")
    op.drop_index(op.f("ix_task_details_tenant_id_start_on_gist"), table_name="task_details")
    op.drop_table("task_details")

    op.execute("REVOKE SELECT, INSERT, UPDATE, DELETE ON tasks FROM app_admin")
    op.execute("REVOKE SELECT, INSERT, UPDATE, DELETE ON tasks FROM app_writer")
    op.execute("REVOKE SELECT ON tasks FROM app_reader")
    op.execute("DROP POLICY tenant_isolation ON tasks")
    op.execute("ALTER TABLE tasks NO FORCE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE tasks DISABLE ROW LEVEL SECURITY")
    op.execute("DROP TRIGGER trg_tasks_updated_at ON tasks")
    op.drop_index(op.f("ix_tasks_tenant_id_assignee_id"), table_name="tasks")
    op.drop_index(op.f("ix_tasks_tenant_id_parent_id"), table_name="tasks")
    op.drop_index(op.f("ix_tasks_tenant_id_due_at_partial"), table_name="tasks")
    op.drop_index(op.f("ix_tasks_tenant_id_project_id_status"), table_name="tasks")
    op.drop_table("tasks")

    op.execute("DROP FUNCTION IF EXISTS projects_tags_contains(varchar(40)[])")
    op.execute("REVOKE SELECT, INSERT, UPDATE, DELETE ON projects FROM app_admin")
    op.execute("REVOKE SELECT, INSERT, UPDATE, DELETE ON projects FROM app_writer")
    op.execute("REVOKE SELECT ON projects FROM app_reader")
    op.execute("DROP POLICY tenant_isolation ON projects")
    op.execute("ALTER TABLE projects NO FORCE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE projects DISABLE ROW LEVEL SECURITY")
    op.execute("DROP TRIGGER trg_projects_updated_at ON projects")
    op.drop_index(op.f("ix_projects_tenant_id_owner_id"), table_name="projects")
    op.drop_index(op.f("ix_projects_tenant_id_tags_gin"), table_name="projects")
    op.drop_table("projects")

    op.execute("DROP FUNCTION IF EXISTS members_preferences_contains(jsonb)")
    op.execute("DROP FUNCTION IF EXISTS members_display_name_ilike(text)")
    op.execute("REVOKE SELECT, INSERT, UPDATE, DELETE ON members FROM app_admin")
    op.execute("REVOKE SELECT, INSERT, UPDATE, DELETE ON members FROM app_writer")
    op.execute("REVOKE SELECT ON members FROM app_reader")
    op.execute("DROP POLICY tenant_isolation ON members")
    op.execute("ALTER TABLE members NO FORCE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE members DISABLE ROW LEVEL SECURITY")
    op.execute("DROP TRIGGER trg_members_updated_at ON members")
    op.drop_index(op.f("ix_members_last_seen_at_brin"), table_name="members")
    op.drop_index(op.f("ix_members_tenant_id_preferences_gin"), table_name="members")
    op.drop_index(op.f("ix_members_tenant_id_display_name_trgm"), table_name="members")
    op.drop_index(op.f("uq_members_tenant_id_email"), table_name="members")
    op.drop_table("members")

    op.execute("REVOKE SELECT, INSERT, UPDATE, DELETE ON workspaces FROM app_admin")
    op.execute("REVOKE SELECT, UPDATE ON workspaces FROM app_writer")
    op.execute("REVOKE SELECT ON workspaces FROM app_reader")
    op.execute("DROP POLICY tenant_isolation ON workspaces")
    op.execute("ALTER TABLE workspaces NO FORCE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE workspaces DISABLE ROW LEVEL SECURITY")
    op.execute("DROP TRIGGER trg_workspaces_updated_at ON workspaces")
    op.drop_table("workspaces")

    op.execute("DROP FUNCTION IF EXISTS public.uuidv7()")

    op.execute("DROP FUNCTION set_updated_at()")

    op.execute(
        "DO $$\n"
        "BEGIN\n"
        "    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'app_admin') THEN\n"
        "        REVOKE USAGE ON SCHEMA public FROM app_admin;\n"
        "        IF NOT EXISTS (\n"
        "            SELECT FROM pg_shdepend\n"
        "            WHERE refclassid = 'pg_authid'::regclass\n"
        "              AND refobjid = (SELECT oid FROM pg_roles WHERE rolname = 'app_admin')\n"
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
        "              AND refobjid = (SELECT oid FROM pg_roles WHERE rolname = 'app_writer')\n"
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
        "              AND refobjid = (SELECT oid FROM pg_roles WHERE rolname = 'app_reader')\n"
        "        ) THEN\n"
        "            DROP ROLE app_reader;\n"
        "        END IF;\n"
        "    END IF;\n"
        "END\n"
        "$$"
    )

    op.execute("DROP EXTENSION IF EXISTS pg_trgm")
    op.execute("DROP EXTENSION IF EXISTS btree_gist")
    op.execute("DROP EXTENSION IF EXISTS btree_gin")
