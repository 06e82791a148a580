"""initial

Revision ID: 260193ab2122
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "260193ab2122"
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
        "authors",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column(
            "bio", sa.Text(), nullable=True, comment="Markdown; shown on the author's page."
        ),
        sa.Column("karma", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "search_vector",
            postgresql.TSVECTOR(),
            sa.Computed(
                (
                    "setweight(to_tsvector('simple'::regconfig, name), 'A') || "
                    "setweight(to_tsvector('simple'::regconfig, coalesce(left(bio, 65415), "
                    "'')), 'C')"
                ),
                persisted=True,
            ),
            nullable=False,
            comment="The weighted words of name, bio.",
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
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authors")),
        sa.CheckConstraint("karma >= 0", name=op.f("ck_authors_karma")),
    )
    op.create_index(
        op.f("uq_authors_email"),
        "authors",
        ["email"],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index(
        op.f("ix_authors_search_vector_gin"),
        "authors",
        ["search_vector"],
        unique=False,
        postgresql_using="gin",
    )
    op.execute(
        "CREATE TRIGGER trg_authors_updated_at BEFORE UPDATE ON authors\n"
        "FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
    )
    op.execute("GRANT SELECT ON authors TO app_reader")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON authors TO app_writer")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON authors TO app_admin")

    op.create_table(
        "posts",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("slug", sa.String(120), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("word_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "labels",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
        ),
        sa.Column(
            "extra", postgresql.JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
        sa.Column(
            "search_vector",
            postgresql.TSVECTOR(),
            sa.Computed(
                (
                    "setweight(to_tsvector('english'::regconfig, title), 'A') || "
                    "setweight(to_tsvector('english'::regconfig, left(body, 65335)), 'B')"
                ),
                persisted=True,
            ),
            nullable=False,
            comment="The weighted words of title, body.",
        ),
        sa.Column("author_id", sa.Uuid(), nullable=False),
        sa.Column("translation_of_id", sa.Uuid(), nullable=True),
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
        sa.PrimaryKeyConstraint("id", name=op.f("pk_posts")),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["authors.id"],
            name=op.f("fk_posts_author_id_authors"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["translation_of_id"],
            ["posts.id"],
            name=op.f("fk_posts_translation_of_id_posts"),
            ondelete="SET NULL",
        ),
    )
    op.create_index(
        op.f("uq_posts_slug"),
        "posts",
        ["slug"],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index(
        op.f("ix_posts_published_at"),
        "posts",
        ["published_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_posts_extra_gin"),
        "posts",
        ["extra"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index(
        op.f("ix_posts_search_vector_gin"),
        "posts",
        ["search_vector"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index(
        op.f("ix_posts_author_id_published_at"),
        "posts",
        ["author_id", "published_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_posts_title_trgm"),
        "posts",
        ["title"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"title": "gin_trgm_ops"},
    )
    op.create_index(
        op.f("ix_posts_translation_of_id"),
        "posts",
        ["translation_of_id"],
        unique=False,
    )
    op.execute(
        "CREATE TRIGGER trg_posts_updated_at BEFORE UPDATE ON posts\n"
        "FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
    )
    op.execute("GRANT SELECT ON posts TO app_reader")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON posts TO app_writer")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON posts TO app_admin")

    op.create_table(
        "tags",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("name", sa.String(50), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tags")),
        sa.UniqueConstraint("name", name=op.f("uq_tags_name")),
    )
    op.execute("GRANT SELECT ON tags TO app_reader")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON tags TO app_writer")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON tags TO app_admin")

    op.create_table(
        "comments",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuidv7()"), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("score", sa.Numeric(5, 2), nullable=True),
        sa.Column("post_id", sa.Uuid(), nullable=False),
        sa.Column("reply_to_id", sa.Uuid(), nullable=True),
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
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comments")),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_comments_post_id_posts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["reply_to_id"],
            ["comments.id"],
            name=op.f("fk_comments_reply_to_id_comments"),
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        op.f("ix_comments_post_id"),
        "comments",
        ["post_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_comments_reply_to_id"),
        "comments",
        ["reply_to_id"],
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
        "post_tags",
        sa.Column("post_id", sa.Uuid(), nullable=False),
        sa.Column("tag_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("post_id", "tag_id", name=op.f("pk_post_tags")),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_post_tags_post_id_posts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tag_id"], ["tags.id"], name=op.f("fk_post_tags_tag_id_tags"), ondelete="CASCADE"
        ),
    )
    op.create_index(
        op.f("ix_post_tags_tag_id"),
        "post_tags",
        ["tag_id"],
        unique=False,
    )
    op.execute("GRANT SELECT ON post_tags TO app_reader")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON post_tags TO app_writer")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON post_tags TO app_admin")


def downgrade() -> None:
    op.execute("REVOKE SELECT, INSERT, UPDATE, DELETE ON post_tags FROM app_admin")
    op.execute("REVOKE SELECT, INSERT, UPDATE, DELETE ON post_tags FROM app_writer")
    op.execute("REVOKE SELECT ON post_tags FROM app_reader")
    op.drop_index(op.f("ix_post_tags_tag_id"), table_name="post_tags")
    op.drop_table("post_tags")

    op.execute("REVOKE SELECT, INSERT, UPDATE, DELETE ON comments FROM app_admin")
    op.execute("REVOKE SELECT, INSERT, UPDATE, DELETE ON comments FROM app_writer")
    op.execute("REVOKE SELECT ON comments FROM app_reader")
    op.execute("DROP TRIGGER trg_comments_updated_at ON comments")
    op.drop_index(op.f("ix_comments_reply_to_id"), table_name="comments")
    op.drop_index(op.f("ix_comments_post_id"), table_name="comments")
    op.drop_table("comments")

    op.execute("REVOKE SELECT, INSERT, UPDATE, DELETE ON tags FROM app_admin")
    op.execute("REVOKE SELECT, INSERT, UPDATE, DELETE ON tags FROM app_writer")
    op.execute("REVOKE SELECT ON tags FROM app_reader")
    op.drop_table("tags")

    op.execute("REVOKE SELECT, INSERT, UPDATE, DELETE ON posts FROM app_admin")
    op.execute("REVOKE SELECT, INSERT, UPDATE, DELETE ON posts FROM app_writer")
    op.execute("REVOKE SELECT ON posts FROM app_reader")
    op.execute("DROP TRIGGER trg_posts_updated_at ON posts")
    op.drop_index(op.f("ix_posts_translation_of_id"), table_name="posts")
    op.drop_index(op.f("ix_posts_title_trgm"), table_name="posts")
    op.drop_index(op.f("ix_posts_author_id_published_at"), table_name="posts")
    op.drop_index(op.f("ix_posts_search_vector_gin"), table_name="posts")
    op.drop_index(op.f("ix_posts_extra_gin"), table_name="posts")
    op.drop_index(op.f("ix_posts_published_at"), table_name="posts")
    op.drop_index(op.f("uq_posts_slug"), table_name="posts")
    op.drop_table("posts")

    op.execute("REVOKE SELECT, INSERT, UPDATE, DELETE ON authors FROM app_admin")
    op.execute("REVOKE SELECT, INSERT, UPDATE, DELETE ON authors FROM app_writer")
    op.execute("REVOKE SELECT ON authors FROM app_reader")
    op.execute("DROP TRIGGER trg_authors_updated_at ON authors")
    op.drop_index(op.f("ix_authors_search_vector_gin"), table_name="authors")
    op.drop_index(op.f("uq_authors_email"), table_name="authors")
    op.drop_table("authors")

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
