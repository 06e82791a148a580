"""The generated repositories and ``db`` module, run against PostgreSQL.

The databases are created with ``Base.metadata.create_all`` plus the ``updated_at``
trigger; the tests connect as a superuser, so the tenant isolation seen here is the
repositories' explicit tenant filter (row-level security is the migrations' part).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import ExitStack
from dataclasses import FrozenInstanceError, dataclass
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.rendering import (
    RenderedLayer,
    create_extensions,
    edge_schema,
    example_schema,
    rendered_layer,
    single_tenant_schema,
)

UPDATED_AT_FUNCTION = """
CREATE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := clock_timestamp();
    RETURN NEW;
END $$
"""


@dataclass(frozen=True)
class Project:
    """A rendered layer on its own database: the modules the tests use."""

    layer: RenderedLayer
    url: str

    @property
    def db(self) -> ModuleType:
        return self.layer.module("db")

    @property
    def models(self) -> ModuleType:
        return self.layer.module("models")

    @property
    def repositories(self) -> ModuleType:
        return self.layer.module("repositories")


def _prepare_database(layer: RenderedLayer, url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        create_extensions(connection, layer.catalog)
        layer.module("models").Base.metadata.create_all(connection)
        connection.execute(text(UPDATED_AT_FUNCTION))
        for table in layer.catalog.tables:
            if table.updated_at_trigger:
                connection.execute(
                    text(
                        f"CREATE TRIGGER trg_{table.name}_updated_at BEFORE UPDATE ON {table.name}"
                        " FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
                    )
                )
    engine.dispose()


@pytest.fixture(scope="module")
def projects(
    tmp_path_factory: pytest.TempPathFactory, create_database: Callable[[], str]
) -> Iterator[dict[str, Project]]:
    root = tmp_path_factory.mktemp("repositories")
    schemas = {
        "example": (example_schema, "app"),
        "single": (single_tenant_schema, "blog"),
        "edge": (edge_schema, "edge"),
    }
    with ExitStack() as stack:
        result = {}
        for name, (schema, package) in schemas.items():
            layer = stack.enter_context(rendered_layer(schema(), package, root / name))
            url = create_database()
            _prepare_database(layer, url)
            result[name] = Project(layer, url)
        yield result


@pytest.fixture
def app(projects: dict[str, Project]) -> Project:
    return projects["example"]


@pytest.fixture
def blog(projects: dict[str, Project]) -> Project:
    return projects["single"]


@pytest.fixture
async def sessions(app: Project) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = app.db.create_engine(app.url)
    yield app.db.create_session_factory(engine)
    await engine.dispose()


@pytest.fixture
async def blog_sessions(blog: Project) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = blog.db.create_engine(blog.url)
    yield blog.db.create_session_factory(engine)
    await engine.dispose()


class StatementLog:
    """The SQL statements an engine runs while the log is active.

    The savepoints that guard each write (``SAVEPOINT``, ``RELEASE SAVEPOINT``) are
    kept apart, in ``savepoints``.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.engine = sessions.kw["bind"].sync_engine
        self.statements: list[str] = []
        self.savepoints: list[str] = []

    def _record(self, *args: Any) -> None:
        statement: str = args[2]
        is_savepoint = statement.startswith(("SAVEPOINT ", "RELEASE SAVEPOINT "))
        (self.savepoints if is_savepoint else self.statements).append(statement)

    def __enter__(self) -> StatementLog:
        event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._record)


async def new_workspace(app: Project, sessions: async_sessionmaker[AsyncSession]) -> uuid.UUID:
    async with app.db.session_scope(sessions) as session:
        workspace = await app.repositories.WorkspaceRepository(session).create(
            name="Acme", slug=f"acme-{uuid.uuid4().hex[:8]}"
        )
    return workspace.id


async def new_member(app: Project, session: AsyncSession, **values: Any) -> Any:
    values.setdefault("email", f"{uuid.uuid4().hex[:10]}@example.com")
    return await app.repositories.MemberRepository(session).create(**values)


async def new_project(app: Project, session: AsyncSession, **values: Any) -> Any:
    if "owner" not in values:
        values["owner"] = await new_member(app, session)
    values.setdefault("name", f"project {uuid.uuid4().hex[:8]}")
    return await app.repositories.ProjectRepository(session).create(**values)


# -- db.py ------------------------------------------------------------------------------


def test_database_url_requires_the_variable(app: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(RuntimeError, match="DATABASE_URL is not set"):
        app.db.database_url()
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u@h/d")
    assert app.db.database_url() == "postgresql+psycopg://u@h/d"


async def test_create_engine_reads_database_url(
    app: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", app.url.replace("postgresql+psycopg", "postgresql"))
    engine = app.db.create_engine()
    try:
        assert engine.url.drivername == "postgresql+psycopg"
        assert engine.pool._pre_ping
        async with engine.connect() as connection:
            assert await connection.scalar(text("SELECT 1")) == 1
    finally:
        await engine.dispose()


async def test_tenant_session_sets_the_setting_for_its_transaction_only(
    app: Project, sessions: async_sessionmaker[AsyncSession]
) -> None:
    tenant = await new_workspace(app, sessions)
    async with app.db.tenant_session(sessions, tenant) as session:
        assert session.info["tenant_id"] == tenant
        setting = await session.scalar(text("SELECT current_setting('app.tenant_id')"))
        assert setting == str(tenant)
    async with app.db.session_scope(sessions) as session:
        after = await session.scalar(text("SELECT current_setting('app.tenant_id', true)"))
        assert after in (None, "")
        assert "tenant_id" not in session.info


async def test_session_scope_commits_or_rolls_back(
    app: Project, sessions: async_sessionmaker[AsyncSession]
) -> None:
    slug = f"gone-{uuid.uuid4().hex[:8]}"
    with pytest.raises(LookupError):
        async with app.db.session_scope(sessions) as session:
            await app.repositories.WorkspaceRepository(session).create(name="x", slug=slug)
            raise LookupError
    async with app.db.session_scope(sessions) as session:
        repository = app.repositories.WorkspaceRepository(session)
        assert not await repository.exists(filters={"slug": slug})


def test_single_tenant_db_module_has_no_tenant_session(blog: Project) -> None:
    assert not hasattr(blog.db, "tenant_session")
    assert hasattr(blog.db, "session_scope")


# -- reads -------------------------------------------------------------------------------


async def test_create_fills_the_tenant_and_loads_server_defaults(
    app: Project, sessions: async_sessionmaker[AsyncSession]
) -> None:
    tenant = await new_workspace(app, sessions)
    async with app.db.tenant_session(sessions, tenant) as session:
        member = await new_member(app, session, display_name="Ada")
        assert member.tenant_id == tenant
        assert member.role is app.models.MemberRole.MEMBER
        assert member.preferences == {}
        assert member.created_at is not None and member.deleted_at is None
        project = await new_project(app, session, rating=app.models.ProjectRating.PG_13)
        assert project.tags == [] and project.owner is not None
        stored = await session.scalar(
            text("SELECT rating::text FROM projects WHERE id = :id"), {"id": project.id}
        )
        assert stored == "PG-13"


async def test_reads_see_only_the_session_tenant(
    app: Project, sessions: async_sessionmaker[AsyncSession]
) -> None:
    tenant_a, tenant_b = await new_workspace(app, sessions), await new_workspace(app, sessions)
    async with app.db.tenant_session(sessions, tenant_b) as session:
        other = await new_member(app, session)
    async with app.db.tenant_session(sessions, tenant_a) as session:
        first, second = await new_member(app, session), await new_member(app, session)
        members = app.repositories.MemberRepository(session)
        assert await members.get(other.id) is None
        assert await members.get(first.id) is first
        found = await members.get_many([second.id, other.id, first.id, second.id])
        assert found == [second, first]
        assert await members.get_many([]) == []
        page = await members.list(limit=10)
        assert {m.id for m in page.items} == {first.id, second.id}
        assert await members.count() == 2
        assert await members.update(other.id, display_name="x") is None
        assert await members.delete(other.id) is False


async def test_list_pages_by_id_and_filters(
    app: Project, sessions: async_sessionmaker[AsyncSession]
) -> None:
    tenant = await new_workspace(app, sessions)
    status = app.models.TaskStatus
    async with app.db.tenant_session(sessions, tenant) as session:
        project = await new_project(app, session)
        tasks = app.repositories.TaskRepository(session)
        created = await tasks.bulk_create(
            [{"title": f"t{i}", "project_id": project.id} for i in range(5)]
        )
        await tasks.update(created[0].id, status=status.DONE)
        ids, after = [], None
        while True:
            page = await tasks.list(limit=2, after=after)
            ids += [task.id for task in page.items]
            assert len(page.items) <= 2
            if page.next_after is None:
                break
            after = page.next_after
        assert ids == sorted(task.id for task in created)
        done = await tasks.list(filters={"status": status.DONE})
        assert [task.id for task in done.items] == [created[0].id] and done.next_after is None
        some = await tasks.list(filters={"title": ["t1", "t2"], "parent_id": None})
        assert sorted(task.title for task in some.items) == ["t1", "t2"]
        assert await tasks.count(filters={"status": [status.TODO, status.DOING]}) == 4
        assert await tasks.exists(filters={"title": "t4"})
        assert not await tasks.exists(filters={"title": "t9"})
        with pytest.raises(ValueError, match="limit"):
            await tasks.list(limit=0)


async def test_unknown_names_raise_value_error(
    app: Project, sessions: async_sessionmaker[AsyncSession]
) -> None:
    tenant = await new_workspace(app, sessions)
    async with app.db.tenant_session(sessions, tenant) as session:
        tasks = app.repositories.TaskRepository(session)
        with pytest.raises(ValueError, match="nope"):
            await tasks.list(filters={"nope": 1})
        with pytest.raises(ValueError, match="project_id"):
            await tasks.count(filters={"project": 1})  # a relationship, not a column
        with pytest.raises(ValueError, match="nope"):
            await tasks.get(uuid.uuid4(), load=["nope"])
        with pytest.raises(ValueError, match="nope"):
            await tasks.create(title="x", nope=1)
        with pytest.raises(ValueError, match="nope"):
            await tasks.bulk_create([{"title": "x", "nope": 1}])
        with pytest.raises(ValueError, match="nope"):
            await tasks.update(uuid.uuid4(), nope=1)


async def test_load_selects_relationships_without_n_plus_one(
    app: Project, sessions: async_sessionmaker[AsyncSession]
) -> None:
    tenant = await new_workspace(app, sessions)
    async with app.db.tenant_session(sessions, tenant) as session:
        projects = [await new_project(app, session) for _ in range(3)]
        assignee = await new_member(app, session)
        tasks = app.repositories.TaskRepository(session)
        for index in range(6):
            await tasks.create(
                title=f"t{index}", project=projects[index % 3], assignee_id=assignee.id
            )
        session.expunge_all()
        with StatementLog(sessions) as log:
            page = await tasks.list(load=("project", "assignee", "detail"))
        assert len(log.statements) == 4  # the tasks, then one SELECT per relationship
        assert {task.project.id for task in page.items} == {p.id for p in projects}
        assert {task.assignee.id for task in page.items} == {assignee.id}
        assert all(task.detail is None for task in page.items)
        parent = page.items[0]
        child = await tasks.create(title="child", project_id=parent.project_id, parent=parent)
        session.expunge_all()
        loaded = await tasks.get(child.id, load=["parent"])
        assert loaded is not None and loaded.parent.id == parent.id


# -- writes ------------------------------------------------------------------------------


async def test_bulk_create_is_one_insert_returning_rows_in_order(
    app: Project, sessions: async_sessionmaker[AsyncSession]
) -> None:
    tenant = await new_workspace(app, sessions)
    async with app.db.tenant_session(sessions, tenant) as session:
        project = await new_project(app, session)
        tasks = app.repositories.TaskRepository(session)
        rows = [
            {"title": f"bulk {i}", "project_id": project.id, "order": 9 - i, "metadata_": {"i": i}}
            for i in range(30)
        ]
        with StatementLog(sessions) as log:
            created = await tasks.bulk_create(rows)
        assert len(log.statements) == 1 and log.statements[0].startswith("INSERT INTO tasks")
        assert [task.title for task in created] == [row["title"] for row in rows]
        assert [task.metadata_ for task in created] == [row["metadata_"] for row in rows]
        assert all(task.tenant_id == tenant for task in created)
        assert created[0].status is app.models.TaskStatus.TODO
        assert created[0].created_at is not None
        given = uuid.uuid4()
        mixed = await tasks.bulk_create(
            [
                {"title": "a", "project_id": project.id},
                {"id": given, "title": "b", "project_id": project.id, "order": 4},
            ]
        )
        assert [task.title for task in mixed] == ["a", "b"] and mixed[1].id == given
        assert await tasks.bulk_create([]) == []


async def test_update_returns_the_row_with_the_moved_updated_at(
    app: Project, sessions: async_sessionmaker[AsyncSession]
) -> None:
    tenant = await new_workspace(app, sessions)
    async with app.db.tenant_session(sessions, tenant) as session:
        project = await new_project(app, session)
        tasks = app.repositories.TaskRepository(session)
        task = await tasks.create(title="before", project=project)
        created_at, updated_at = task.created_at, task.updated_at
        updated = await tasks.update(task.id, title="after", order=3)
        assert updated is task
        assert (task.title, task.order) == ("after", 3)
        assert task.created_at == created_at and task.updated_at > updated_at
        assert await tasks.update(uuid.uuid4(), title="x") is None
        assert await tasks.update(task.id) is task


async def test_soft_delete_hides_restores_and_hard_deletes(
    app: Project, sessions: async_sessionmaker[AsyncSession]
) -> None:
    tenant = await new_workspace(app, sessions)
    async with app.db.tenant_session(sessions, tenant) as session:
        members = app.repositories.MemberRepository(session)
        member = await new_member(app, session, email="soft@example.com")
        assert await members.delete(member.id) is True
        assert member.deleted_at is not None
        assert await members.delete(member.id) is False
        assert await members.get(member.id) is None
        assert await members.get(member.id, include_deleted=True) is member
        assert await members.count() == 0
        assert await members.count(include_deleted=True) == 1
        assert (await members.list()).items == []
        assert await members.get_many([member.id], include_deleted=True) == [member]
        assert await members.update(member.id, display_name="x") is None
        # The unique email holds among live rows only.
        twin = await new_member(app, session, email="soft@example.com")
        errors = app.layer.module("errors")
        with pytest.raises(errors.ConflictError) as conflict:
            await members.restore(member.id)  # the twin holds the email now
        assert conflict.value.fields == ("email",) and conflict.value.entity == "Member"
        for never_deleted in (twin.id, uuid.uuid4()):
            with pytest.raises(errors.NotFoundError):
                await members.restore(never_deleted)
        await members.hard_delete(twin.id)
        restored = await members.restore(member.id)
        assert restored is member and member.deleted_at is None
        assert await members.hard_delete(member.id) is True
        assert await members.get(member.id, include_deleted=True) is None
        assert await members.hard_delete(member.id) is False


async def test_delete_without_soft_delete_removes_the_row(
    app: Project, sessions: async_sessionmaker[AsyncSession]
) -> None:
    tenant = await new_workspace(app, sessions)
    repositories = app.repositories
    assert not hasattr(repositories.ProjectRepository, "restore")
    assert not hasattr(repositories.ProjectRepository, "hard_delete")
    assert issubclass(repositories.ProjectRepository, repositories.Repository)
    async with app.db.tenant_session(sessions, tenant) as session:
        project = await new_project(app, session)
        projects = repositories.ProjectRepository(session)
        task = await repositories.TaskRepository(session).create(title="t", project=project)
        assert await projects.delete(project.id) is True
        assert await projects.delete(project.id) is False
        assert await projects.get(project.id, include_deleted=True) is None
        assert await repositories.TaskRepository(session).get(task.id) is None  # cascaded


async def test_relationships_write_through_and_load(
    app: Project, sessions: async_sessionmaker[AsyncSession]
) -> None:
    tenant = await new_workspace(app, sessions)
    async with app.db.tenant_session(sessions, tenant) as session:
        first, second = await new_member(app, session), await new_member(app, session)
        mentor = await new_member(app, session, mentors=[first, second])
        project = await new_project(app, session, members=[first, second])
        task = await app.repositories.TaskRepository(session).create(title="t", project=project)
        await app.repositories.TaskDetailRepository(session).create(task=task, notes="n")
        rows = await session.execute(
            text(
                "SELECT tenant_id FROM project_members"
                " UNION ALL SELECT tenant_id FROM member_mentors"
            )
        )
        assert [row.tenant_id for row in rows] == [tenant] * 4
        session.expunge_all()
        loaded = await app.repositories.MemberRepository(session).get(first.id, load=["projects"])
        assert [p.id for p in loaded.projects] == [project.id]
        mentors = await app.repositories.MemberRepository(session).get(mentor.id, load=["mentors"])
        assert {m.id for m in mentors.mentors} == {first.id, second.id}
        with_detail = await app.repositories.TaskRepository(session).get(
            task.id, load=["detail", "project"]
        )
        assert with_detail.detail.notes == "n" and with_detail.project.id == project.id


def test_page_is_a_frozen_value(app: Project) -> None:
    page = app.repositories.Page(items=[], next_after=None)
    with pytest.raises(FrozenInstanceError):
        page.next_after = uuid.uuid4()  # type: ignore[misc]


# -- without tenancy -----------------------------------------------------------------------


async def test_single_tenant_repositories(
    blog: Project, blog_sessions: async_sessionmaker[AsyncSession]
) -> None:
    repositories = blog.repositories
    async with blog.db.session_scope(blog_sessions) as session:
        authors = repositories.AuthorRepository(session)
        posts = repositories.PostRepository(session)
        author = await authors.create(name=f"author {uuid.uuid4().hex[:6]}")
        assert author.settings == {"theme": "dark"} and author.bio == "It's: a ':bio'"
        tag = await repositories.TagRepository(session).create(label=uuid.uuid4().hex[:10])
        post = await posts.create(title="hello", slug="hello", author=author, tags=[tag])
        assert post.status is blog.models.PostStatus.IN_REVIEW
        assert post.labels == ["news", "it's"]
        reply = await posts.create(title="re", slug="re", author_id=author.id, parent=post)
        await posts.update(post.id, class_="x", text="body")
        session.expunge_all()
        loaded = await posts.get(post.id, load=("replies", "tags", "author"))
        assert [r.id for r in loaded.replies] == [reply.id] and loaded.class_ == "x"
        assert [t.id for t in loaded.tags] == [tag.id] and loaded.author.id == author.id
        assert await authors.delete(author.id) is True
        assert await authors.get(author.id) is None
        assert (await posts.list(filters={"author_id": author.id})).items != []
        assert await authors.hard_delete(author.id) is True
        assert await posts.count(filters={"author_id": author.id}) == 0


async def test_tenancy_under_other_names(projects: dict[str, Project]) -> None:
    edge = projects["edge"]
    engine = edge.db.create_engine(edge.url)
    sessions = edge.db.create_session_factory(engine)
    repositories = edge.repositories
    try:
        async with edge.db.session_scope(sessions) as session:
            org = await repositories.OrgRepository(session).create(name="o")
        async with edge.db.tenant_session(sessions, org.id) as session:
            assert await session.scalar(text("SELECT current_setting('app.org')")) == str(org.id)
            sites = repositories.SiteRepository(session)
            first = await sites.create(label="a")
            second = await sites.create(label="b", twin=first, neighbours=[first])
            assert first.org_id == second.org_id == org.id
            session.expunge_all()
            loaded = await sites.get(first.id, load=("twin_of", "neighbour_of"))
            assert loaded.twin_of.id == second.id
            assert [site.id for site in loaded.neighbour_of] == [second.id]
            assert [s.id for s in (await sites.list(filters={"label": "a"})).items] == [first.id]
    finally:
        await engine.dispose()
