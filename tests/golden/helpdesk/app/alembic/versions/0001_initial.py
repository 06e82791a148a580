"""initial

Revision ID: 134ef4919119
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "134ef4919119"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
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
        "organizations",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("domain", sa.String(253), nullable=False),
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
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organizations")),
        sa.UniqueConstraint("domain", name=op.f("uq_organizations_domain")),
        sa.CheckConstraint("domain = lower(domain)", name=op.f("ck_organizations_domain")),
    )
    op.execute(
        "CREATE TRIGGER trg_organizations_updated_at BEFORE UPDATE ON organizations\n"
        "FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
    )
    op.execute("ALTER TABLE organizations ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE organizations FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY tenant_isolation ON organizations FOR ALL\n"
        "USING (id = (SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid))\n"
        "WITH CHECK (id = (SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid))"
    )
    op.execute("GRANT SELECT ON organizations TO app_reader")
    op.execute("GRANT SELECT, UPDATE ON organizations TO app_writer")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON organizations TO app_admin")

    op.create_table(
        "agents",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("level", sa.String(63), server_default=sa.text("'l1'"), nullable=False),
        sa.Column(
            "skills",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'::text[]"),
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
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_agents")),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["organizations.id"],
            name=op.f("fk_agents_tenant_id_organizations"),
            ondelete="RESTRICT",
        ),
        sa.CheckConstraint("level IN ('l1', 'l2', 'l3')", name=op.f("ck_agents_level_values")),
    )
    op.create_index(
        op.f("uq_agents_tenant_id_email"),
        "agents",
        ["tenant_id", "email"],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.execute(
        "CREATE TRIGGER trg_agents_updated_at BEFORE UPDATE ON agents\n"
        "FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
    )
    op.execute("ALTER TABLE agents ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE agents FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY tenant_isolation ON agents FOR ALL\n"
        "USING (tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid))\n"
        "WITH CHECK (tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), "
        "'')::uuid))"
    )
    op.execute("GRANT SELECT ON agents TO app_reader")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON agents TO app_writer")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON agents TO app_admin")

    op.create_table(
        "sla_policies",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("first_response_minutes", sa.Integer(), nullable=False),
        sa.Column("resolution_minutes", sa.Integer(), nullable=False),
        sa.Column("priority", sa.String(63), nullable=False),
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
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_sla_policies")),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["organizations.id"],
            name=op.f("fk_sla_policies_tenant_id_organizations"),
            ondelete="RESTRICT",
        ),
        sa.UniqueConstraint(
            "tenant_id", "priority", name=op.f("uq_sla_policies_tenant_id_priority")
        ),
        sa.CheckConstraint(
            "first_response_minutes > 0", name=op.f("ck_sla_policies_first_response_minutes")
        ),
        sa.CheckConstraint(
            "resolution_minutes > 0", name=op.f("ck_sla_policies_resolution_minutes")
        ),
        sa.CheckConstraint(
            "resolution_minutes >= first_response_minutes",
            name=op.f("ck_sla_policies_resolution_after_response"),
        ),
        sa.CheckConstraint(
            "priority IN ('low', 'normal', 'high', 'urgent')",
            name=op.f("ck_sla_policies_priority_values"),
        ),
    )
    op.execute(
        "CREATE TRIGGER trg_sla_policies_updated_at BEFORE UPDATE ON sla_policies\n"
        "FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
    )
    op.execute("ALTER TABLE sla_policies ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE sla_policies FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY tenant_isolation ON sla_policies FOR ALL\n"
        "USING (tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid))\n"
        "WITH CHECK (tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), "
        "'')::uuid))"
    )
    op.execute("GRANT SELECT ON sla_policies TO app_reader")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON sla_policies TO app_writer")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON sla_policies TO app_admin")

    op.create_table(
        "tickets",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("subject", sa.String(250), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(63), server_default=sa.text("'new'"), nullable=False),
        sa.Column("channel", sa.String(63), server_default=sa.text("'email'"), nullable=False),
        sa.Column(
            "opened_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("first_response_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("solved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("external_url", sa.Text(), nullable=True),
        sa.Column("custom_fields", postgresql.JSONB(), nullable=True),
        sa.Column(
            "search_vector",
            postgresql.TSVECTOR(),
            sa.Computed(
                (
                    "setweight(to_tsvector('english'::regconfig, subject), 'A') || "
                    "setweight(to_tsvector('english'::regconfig, left(body, 32642)), 'B') || "
                    "setweight(to_tsvector('english'::regconfig, coalesce(left(external_url, "
                    "32642), '')), 'D')"
                ),
                persisted=True,
            ),
            nullable=False,
            comment="The weighted words of subject, body, external_url.",
        ),
        sa.Column("requester_agent_id", sa.Uuid(), nullable=True),
        sa.Column("assignee_id", sa.Uuid(), nullable=True),
        sa.Column("sla_id", sa.Uuid(), nullable=True),
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
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_tickets")),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["organizations.id"],
            name=op.f("fk_tickets_tenant_id_organizations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "requester_agent_id"],
            ["agents.tenant_id", "agents.id"],
            name=op.f("fk_tickets_tenant_id_requester_agent_id_agents"),
            ondelete="SET NULL (requester_agent_id)",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "assignee_id"],
            ["agents.tenant_id", "agents.id"],
            name=op.f("fk_tickets_tenant_id_assignee_id_agents"),
            ondelete="SET NULL (assignee_id)",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "sla_id"],
            ["sla_policies.tenant_id", "sla_policies.id"],
            name=op.f("fk_tickets_tenant_id_sla_id_sla_policies"),
            ondelete="SET NULL (sla_id)",
        ),
        sa.CheckConstraint(
            "solved_at IS NULL OR solved_at >= opened_at",
            name=op.f("ck_tickets_solved_after_opened"),
        ),
        sa.CheckConstraint(
            "first_response_at IS NULL OR solved_at IS NULL OR solved_at >= first_response_at",
            name=op.f("ck_tickets_response_before_solve"),
        ),
        sa.CheckConstraint(
            "status IN ('new', 'open', 'pending', 'solved', 'closed')",
            name=op.f("ck_tickets_status_values"),
        ),
        sa.CheckConstraint(
            "channel IN ('email', 'chat', 'phone', 'web')", name=op.f("ck_tickets_channel_values")
        ),
    )
    op.create_index(
        op.f("uq_tickets_tenant_id_external_url"),
        "tickets",
        ["tenant_id", sa.text("md5(external_url)")],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index(
        op.f("ix_tickets_tenant_id_custom_fields_gin"),
        "tickets",
        ["tenant_id", "custom_fields"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index(
        op.f("ix_tickets_tenant_id_search_vector_gin"),
        "tickets",
        ["tenant_id", "search_vector"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index(
        op.f("ix_tickets_tenant_id_status_opened_at"),
        "tickets",
        ["tenant_id", "status", "opened_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_tickets_tenant_id_subject_trgm"),
        "tickets",
        ["tenant_id", "subject"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"subject": "gin_trgm_ops"},
    )
    op.create_index(
        op.f("ix_tickets_tenant_id_requester_agent_id"),
        "tickets",
        ["tenant_id", "requester_agent_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_tickets_tenant_id_assignee_id"),
        "tickets",
        ["tenant_id", "assignee_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_tickets_tenant_id_sla_id"),
        "tickets",
        ["tenant_id", "sla_id"],
        unique=False,
    )
    op.execute(
        "CREATE TRIGGER trg_tickets_updated_at BEFORE UPDATE ON tickets\n"
        "FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
    )
    op.execute("ALTER TABLE tickets ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE tickets FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY tenant_isolation ON tickets FOR ALL\n"
        "USING (tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid))\n"
        "WITH CHECK (tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), "
        "'')::uuid))"
    )
    op.execute("GRANT SELECT ON tickets TO app_reader")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON tickets TO app_writer")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON tickets TO app_admin")
    op.execute(
        "CREATE FUNCTION tickets_custom_fields_contains(value jsonb) RETURNS SETOF uuid\n"
        "LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp\n"
        "AS $fn$SELECT id FROM public.tickets WHERE tenant_id = "
        "NULLIF(pg_catalog.current_setting('app.tenant_id', true), '')::uuid AND custom_fields @> "
        "$1$fn$"
    )
    op.execute("ALTER FUNCTION tickets_custom_fields_contains(jsonb) OWNER TO app_admin")
    op.execute("REVOKE ALL ON FUNCTION tickets_custom_fields_contains(jsonb) FROM PUBLIC")
    op.execute(
        "GRANT EXECUTE ON FUNCTION tickets_custom_fields_contains(jsonb) TO app_reader, app_writer"
    )
    op.execute(
        "CREATE FUNCTION tickets_search_vector_match(value tsquery) RETURNS SETOF uuid\n"
        "LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp\n"
        "AS $fn$SELECT id FROM public.tickets WHERE tenant_id = "
        "NULLIF(pg_catalog.current_setting('app.tenant_id', true), '')::uuid AND search_vector @@ "
        "$1$fn$"
    )
    op.execute("ALTER FUNCTION tickets_search_vector_match(tsquery) OWNER TO app_admin")
    op.execute("REVOKE ALL ON FUNCTION tickets_search_vector_match(tsquery) FROM PUBLIC")
    op.execute(
        "GRANT EXECUTE ON FUNCTION tickets_search_vector_match(tsquery) TO app_reader, app_writer"
    )
    op.execute(
        "CREATE FUNCTION tickets_subject_ilike(value text) RETURNS SETOF uuid\n"
        "LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp\n"
        "AS $fn$SELECT id FROM public.tickets WHERE tenant_id = "
        "NULLIF(pg_catalog.current_setting('app.tenant_id', true), '')::uuid AND subject ILIKE "
        "$1$fn$"
    )
    op.execute("ALTER FUNCTION tickets_subject_ilike(text) OWNER TO app_admin")
    op.execute("REVOKE ALL ON FUNCTION tickets_subject_ilike(text) FROM PUBLIC")
    op.execute("GRANT EXECUTE ON FUNCTION tickets_subject_ilike(text) TO app_reader, app_writer")

    op.create_table(
        "comments",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("internal", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("ticket_id", sa.Uuid(), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=True),
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
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_comments")),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["organizations.id"],
            name=op.f("fk_comments_tenant_id_organizations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "ticket_id"],
            ["tickets.tenant_id", "tickets.id"],
            name=op.f("fk_comments_tenant_id_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "author_id"],
            ["agents.tenant_id", "agents.id"],
            name=op.f("fk_comments_tenant_id_author_id_agents"),
            ondelete="SET NULL (author_id)",
        ),
    )
    op.create_index(
        op.f("ix_comments_tenant_id_ticket_id"),
        "comments",
        ["tenant_id", "ticket_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_comments_tenant_id_author_id"),
        "comments",
        ["tenant_id", "author_id"],
        unique=False,
    )
    op.execute(
        "CREATE TRIGGER trg_comments_updated_at BEFORE UPDATE ON comments\n"
        "FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
    )
    op.execute("ALTER TABLE comments ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE comments FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY tenant_isolation ON comments FOR ALL\n"
        "USING (tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid))\n"
        "WITH CHECK (tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), "
        "'')::uuid))"
    )
    op.execute("GRANT SELECT ON comments TO app_reader")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON comments TO app_writer")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON comments TO app_admin")

    op.create_table(
        "tags",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("color", sa.String(7), server_default=sa.text("'#cccccc'"), nullable=False),
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
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_tags")),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["organizations.id"],
            name=op.f("fk_tags_tenant_id_organizations"),
            ondelete="RESTRICT",
        ),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_tags_tenant_id_name")),
        sa.CheckConstraint("name ~ '^[a-z0-9][a-z0-9-]*$'", name=op.f("ck_tags_name")),
        sa.CheckConstraint("color ~ '^#[0-9a-f]{6}$'", name=op.f("ck_tags_color")),
    )
    op.execute(
        "CREATE TRIGGER trg_tags_updated_at BEFORE UPDATE ON tags\n"
        "FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
    )
    op.execute("ALTER TABLE tags ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE tags FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY tenant_isolation ON tags FOR ALL\n"
        "USING (tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid))\n"
        "WITH CHECK (tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), "
        "'')::uuid))"
    )
    op.execute("GRANT SELECT ON tags TO app_reader")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON tags TO app_writer")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON tags TO app_admin")

    op.create_table(
        "attachments",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("content_type", sa.String(127), nullable=False),
        sa.Column("comment_id", sa.Uuid(), nullable=True),
        sa.Column("ticket_id", sa.Uuid(), nullable=True),
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
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_attachments")),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["organizations.id"],
            name=op.f("fk_attachments_tenant_id_organizations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "comment_id"],
            ["comments.tenant_id", "comments.id"],
            name=op.f("fk_attachments_tenant_id_comment_id_comments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "ticket_id"],
            ["tickets.tenant_id", "tickets.id"],
            name=op.f("fk_attachments_tenant_id_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "size_bytes BETWEEN 1 AND 26214400", name=op.f("ck_attachments_size_bytes")
        ),
        sa.CheckConstraint("content_type LIKE '%/%'", name=op.f("ck_attachments_content_type")),
        sa.CheckConstraint(
            "comment_id IS NOT NULL OR ticket_id IS NOT NULL",
            name=op.f("ck_attachments_belongs_somewhere"),
        ),
        sa.CheckConstraint(
            "num_nonnulls(comment_id, ticket_id) <= 1",
            name=op.f("ck_attachments_at_most_one_parent"),
        ),
    )
    op.create_index(
        op.f("ix_attachments_tenant_id_comment_id"),
        "attachments",
        ["tenant_id", "comment_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_attachments_tenant_id_ticket_id"),
        "attachments",
        ["tenant_id", "ticket_id"],
        unique=False,
    )
    op.execute(
        "CREATE TRIGGER trg_attachments_updated_at BEFORE UPDATE ON attachments\n"
        "FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
    )
    op.execute("ALTER TABLE attachments ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE attachments FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY tenant_isolation ON attachments FOR ALL\n"
        "USING (tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid))\n"
        "WITH CHECK (tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), "
        "'')::uuid))"
    )
    op.execute("GRANT SELECT ON attachments TO app_reader")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON attachments TO app_writer")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON attachments TO app_admin")

    op.create_table(
        "ticket_tags",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("ticket_id", sa.Uuid(), nullable=False),
        sa.Column("tag_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "ticket_id", "tag_id", name=op.f("pk_ticket_tags")),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["organizations.id"],
            name=op.f("fk_ticket_tags_tenant_id_organizations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "ticket_id"],
            ["tickets.tenant_id", "tickets.id"],
            name=op.f("fk_ticket_tags_tenant_id_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "tag_id"],
            ["tags.tenant_id", "tags.id"],
            name=op.f("fk_ticket_tags_tenant_id_tag_id_tags"),
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        op.f("ix_ticket_tags_tenant_id_tag_id"),
        "ticket_tags",
        ["tenant_id", "tag_id"],
        unique=False,
    )
    op.execute("ALTER TABLE ticket_tags ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE ticket_tags FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY tenant_isolation ON ticket_tags FOR ALL\n"
        "USING (tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid))\n"
        "WITH CHECK (tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), "
        "'')::uuid))"
    )
    op.execute("GRANT SELECT ON ticket_tags TO app_reader")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON ticket_tags TO app_writer")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON ticket_tags TO app_admin")


def downgrade() -> None:
    op.execute("REVOKE SELECT, INSERT, UPDATE, DELETE ON ticket_tags FROM app_admin")
    op.execute("REVOKE SELECT, INSERT, UPDATE, DELETE ON ticket_tags FROM app_writer")
    op.execute("REVOKE SELECT ON ticket_tags FROM app_reader")
    op.execute("DROP POLICY tenant_isolation ON ticket_tags")
    op.execute("ALTER TABLE ticket_tags NO FORCE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE ticket_tags DISABLE ROW LEVEL SECURITY")
    op.drop_index(op.f("ix_ticket_tags_tenant_id_tag_id"), table_name="ticket_tags")
    op.drop_table("ticket_tags")

    op.execute("REVOKE SELECT, INSERT, UPDATE, DELETE ON attachments FROM app_admin")
    op.execute("REVOKE SELECT, INSERT, UPDATE, DELETE ON attachments FROM app_writer")
    op.execute("REVOKE SELECT ON attachments FROM app_reader")
    op.execute("DROP POLICY tenant_isolation ON attachments")
    op.execute("ALTER TABLE attachments NO FORCE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE attachments DISABLE ROW LEVEL SECURITY")
    op.execute("DROP TRIGGER trg_attachments_updated_at ON attachments")
    op.drop_index(op.f("ix_attachments_tenant_id_ticket_id"), table_name="attachments")
    op.drop_index(op.f("ix_attachments_tenant_id_comment_id"), table_name="attachments")
    op.drop_table("attachments")

    op.execute("REVOKE SELECT, INSERT, UPDATE, DELETE ON tags FROM app_admin")
    op.execute("REVOKE SELECT, INSERT, UPDATE, DELETE ON tags FROM app_writer")
    op.execute("REVOKE SELECT ON tags FROM app_reader")
    op.execute("DROP POLICY tenant_isolation ON tags")
    op.execute("ALTER TABLE tags NO FORCE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE tags DISABLE ROW LEVEL SECURITY")
    op.execute("DROP TRIGGER trg_tags_updated_at ON tags")
    op.drop_table("tags")

    op.execute("REVOKE SELECT, INSERT, UPDATE, DELETE ON comments FROM app_admin")
    op.execute("REVOKE SELECT, INSERT, UPDATE, DELETE ON comments FROM app_writer")
    op.execute("REVOKE SELECT ON comments FROM app_reader")
    op.execute("DROP POLICY tenant_isolation ON comments")
    op.execute("ALTER TABLE comments NO FORCE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE comments DISABLE ROW LEVEL SECURITY")
    op.execute("DROP TRIGGER trg_comments_updated_at ON comments")
    op.drop_index(op.f("ix_comments_tenant_id_author_id"), table_name="comments")
    op.drop_index(op.f("ix_comments_tenant_id_ticket_id"), table_name="comments")
    op.drop_table("comments")

    op.execute("DROP FUNCTION IF EXISTS tickets_subject_ilike(text)")
    op.execute("DROP FUNCTION IF EXISTS tickets_search_vector_match(tsquery)")
    op.execute("DROP FUNCTION IF EXISTS tickets_custom_fields_contains(jsonb)")
    op.execute("REVOKE SELECT, INSERT, UPDATE, DELETE ON tickets FROM app_admin")
    op.execute("REVOKE SELECT, INSERT, UPDATE, DELETE ON tickets FROM app_writer")
    op.execute("REVOKE SELECT ON tickets FROM app_reader")
    op.execute("DROP POLICY tenant_isolation ON tickets")
    op.execute("ALTER TABLE tickets NO FORCE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE tickets DISABLE ROW LEVEL SECURITY")
    op.execute("DROP TRIGGER trg_tickets_updated_at ON tickets")
    op.drop_index(op.f("ix_tickets_tenant_id_sla_id"), table_name="tickets")
    op.drop_index(op.f("ix_tickets_tenant_id_assignee_id"), table_name="tickets")
    op.drop_index(op.f("ix_tickets_tenant_id_requester_agent_id"), table_name="tickets")
    op.drop_index(op.f("ix_tickets_tenant_id_subject_trgm"), table_name="tickets")
    op.drop_index(op.f("ix_tickets_tenant_id_status_opened_at"), table_name="tickets")
    op.drop_index(op.f("ix_tickets_tenant_id_search_vector_gin"), table_name="tickets")
    op.drop_index(op.f("ix_tickets_tenant_id_custom_fields_gin"), table_name="tickets")
    op.drop_index(op.f("uq_tickets_tenant_id_external_url"), table_name="tickets")
    op.drop_table("tickets")

    op.execute("REVOKE SELECT, INSERT, UPDATE, DELETE ON sla_policies FROM app_admin")
    op.execute("REVOKE SELECT, INSERT, UPDATE, DELETE ON sla_policies FROM app_writer")
    op.execute("REVOKE SELECT ON sla_policies FROM app_reader")
    op.execute("DROP POLICY tenant_isolation ON sla_policies")
    op.execute("ALTER TABLE sla_policies NO FORCE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE sla_policies DISABLE ROW LEVEL SECURITY")
    op.execute("DROP TRIGGER trg_sla_policies_updated_at ON sla_policies")
    op.drop_table("sla_policies")

    op.execute("REVOKE SELECT, INSERT, UPDATE, DELETE ON agents FROM app_admin")
    op.execute("REVOKE SELECT, INSERT, UPDATE, DELETE ON agents FROM app_writer")
    op.execute("REVOKE SELECT ON agents FROM app_reader")
    op.execute("DROP POLICY tenant_isolation ON agents")
    op.execute("ALTER TABLE agents NO FORCE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE agents DISABLE ROW LEVEL SECURITY")
    op.execute("DROP TRIGGER trg_agents_updated_at ON agents")
    op.drop_index(op.f("uq_agents_tenant_id_email"), table_name="agents")
    op.drop_table("agents")

    op.execute("REVOKE SELECT, INSERT, UPDATE, DELETE ON organizations FROM app_admin")
    op.execute("REVOKE SELECT, UPDATE ON organizations FROM app_writer")
    op.execute("REVOKE SELECT ON organizations FROM app_reader")
    op.execute("DROP POLICY tenant_isolation ON organizations")
    op.execute("ALTER TABLE organizations NO FORCE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE organizations DISABLE ROW LEVEL SECURITY")
    op.execute("DROP TRIGGER trg_organizations_updated_at ON organizations")
    op.drop_table("organizations")

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
    op.execute("DROP EXTENSION IF EXISTS btree_gin")
