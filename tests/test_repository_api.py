"""What an API builds on: ordering and keyset cursors, operator filters, totals, nested
loads, many-to-many links, typed errors in savepoints and the generated schemas.

Run against PostgreSQL on databases made with ``create_all`` (see ``test_repositories``).
"""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pydantic
import pytest
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests import test_repositories
from tests.test_repositories import Project, StatementLog, new_member, new_project, new_workspace

# The repository tests' fixtures: rendered layers on their databases, and sessions.
projects = test_repositories.projects
app = test_repositories.app
sessions = test_repositories.sessions

# Due dates after every created_at (a check of the example spec).
NOW = datetime.now(UTC).replace(microsecond=0) + timedelta(days=365)


async def _tasks(app: Project, session: AsyncSession, count: int, **values: Any) -> list[Any]:
    """``count`` tasks of one new project; every third has no due date, estimates repeat."""
    project = await new_project(app, session)
    rows = [
        {
            "title": f"task {i:03d}",
            "project_id": project.id,
            "due_at": None if i % 3 == 0 else NOW + timedelta(hours=i % 7),
            "estimate_hours": None if i % 4 == 0 else 1 + i % 5,
            **values,
        }
        for i in range(count)
    ]
    random.Random(count).shuffle(rows)
    return await app.repositories.TaskRepository(session).bulk_create(rows)


async def _all_pages(repository: Any, limit: int, **options: Any) -> list[Any]:
    rows: list[Any] = []
    after = None
    while True:
        page = await repository.list(after=after, limit=limit, **options)
        rows += page.items
        if page.next_after is None:
            return rows
        after = page.next_after


def _expected(rows: list[Any], order_by: list[str]) -> list[uuid.UUID]:
    """The ids of ``rows`` in PostgreSQL's order: NULLs last ascending, first descending."""
    ordered = sorted(rows, key=lambda row: row.id, reverse=order_by[-1].startswith("-"))
    for item in reversed(order_by):
        name = item.removeprefix("-")
        descending = item.startswith("-")
        present = [row for row in ordered if getattr(row, name) is not None]
        missing = [row for row in ordered if getattr(row, name) is None]
        present.sort(key=lambda row: getattr(row, name), reverse=descending)
        ordered = missing + present if descending else present + missing
    return [row.id for row in ordered]


@pytest.mark.parametrize(
    "order_by",
    [
        [],
        ["-id"],
        ["title"],
        ["-created_at"],
        ["due_at"],
        ["-due_at"],
        ["estimate_hours", "-due_at"],
        ["-estimate_hours", "title"],
    ],
)
async def test_keyset_pages_cover_every_row_once_in_order(
    app: Project, sessions: async_sessionmaker[AsyncSession], order_by: list[str]
) -> None:
    tenant = await new_workspace(app, sessions)
    async with app.db.tenant_session(sessions, tenant) as session:
        created = await _tasks(app, session, 40)
        repository = app.repositories.TaskRepository(session)
        project_filter = {"project_id": created[0].project_id}
        rows = await _all_pages(repository, 7, order_by=order_by, filters=project_filter)
    assert [row.id for row in rows] == _expected(created, order_by or ["id"])


async def test_pages_neither_repeat_nor_skip_while_rows_are_inserted(
    app: Project, sessions: async_sessionmaker[AsyncSession]
) -> None:
    tenant = await new_workspace(app, sessions)
    async with app.db.tenant_session(sessions, tenant) as session:
        created = await _tasks(app, session, 30)
        project_id = created[0].project_id
    seen: list[uuid.UUID] = []
    after = None
    order = ["-due_at", "title"]
    while True:
        async with app.db.tenant_session(sessions, tenant) as session:
            repository = app.repositories.TaskRepository(session)
            page = await repository.list(
                order_by=order, filters={"project_id": project_id}, after=after, limit=4
            )
            seen += [row.id for row in page.items]
            # Another request inserts rows on both sides of the cursor meanwhile.
            await repository.bulk_create(
                [
                    {"title": "aaa new", "project_id": project_id, "due_at": NOW},
                    {"title": "zzz new", "project_id": project_id, "due_at": None},
                ]
            )
        if page.next_after is None:
            break
        after = page.next_after
    assert len(seen) == len(set(seen)), "a row came twice"
    assert set(seen) >= {row.id for row in created}, "a row present from the start was skipped"


async def test_a_page_statement_is_built_once_and_runs_with_each_call_s_values(
    app: Project, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """``list`` keeps one statement for each shape of call; the session's tenant, the
    filters' values and the cursor of every call are its parameters. The two tenants'
    tasks have the same titles, and no row-level security applies here: a value kept
    from the first call would show the first tenant's rows to the second."""
    tenants = [await new_workspace(app, sessions), await new_workspace(app, sessions)]
    made = {}
    for tenant in tenants:
        async with app.db.tenant_session(sessions, tenant) as session:
            made[tenant] = await _tasks(app, session, 12)
    statements = app.repositories.base._statements
    kept = []
    for tenant in tenants:
        rows = made[tenant]
        async with app.db.tenant_session(sessions, tenant) as session:
            repository = app.repositories.TaskRepository(session)
            in_project = {"project_id": rows[0].project_id}
            listed = await _all_pages(repository, 5, order_by=["-due_at"], filters=in_project)
            assert [row.id for row in listed] == _expected(rows, ["-due_at"])
            titles = sorted(row.title for row in rows[:2])
            for wanted in (titles, titles[:1]):  # IN lists of two lengths
                page = await repository.list(filters={"title": wanted, **in_project})
                assert sorted(row.title for row in page.items) == wanted
            undated = await repository.list(filters={"due_at": None}, with_total=True)
            assert {row.id for row in undated.items} == {r.id for r in rows if r.due_at is None}
            assert undated.total == len(undated.items)
        kept.append(set(statements))
    assert kept[0] == kept[1], "the second tenant's calls built statements of their own"


async def test_filters_are_sqlalchemy_expressions_and_totals_count_every_match(
    app: Project, sessions: async_sessionmaker[AsyncSession]
) -> None:
    models = app.models
    tenant = await new_workspace(app, sessions)
    async with app.db.tenant_session(sessions, tenant) as session:
        created = await _tasks(app, session, 24)
        repository = app.repositories.TaskRepository(session)
        mine = models.Task.project_id == created[0].project_id
        cases = {
            "range": [mine, models.Task.estimate_hours >= 3, models.Task.estimate_hours < 5],
            "is null": [mine, models.Task.due_at.is_(None)],
            "in": [mine, models.Task.title.in_(["task 001", "task 002", "nothing"])],
            "ilike": [mine, models.Task.title.ilike("TASK 01%")],
        }
        expected = {
            "range": [r for r in created if r.estimate_hours in (3, 4)],
            "is null": [r for r in created if r.due_at is None],
            "in": [r for r in created if r.title in ("task 001", "task 002")],
            "ilike": [r for r in created if r.title.startswith("task 01")],
        }
        for name, filters in cases.items():
            page = await repository.list(filters=filters, limit=3, with_total=True)
            assert page.total == len(expected[name]), name
            assert {r.id for r in await _all_pages(repository, 3, filters=filters)} == {
                r.id for r in expected[name]
            }, name
        assert (await repository.list(filters=[mine])).total is None


async def test_json_and_array_containment(
    app: Project, sessions: async_sessionmaker[AsyncSession]
) -> None:
    models = app.models
    tenant = await new_workspace(app, sessions)
    async with app.db.tenant_session(sessions, tenant) as session:
        dark = await new_member(app, session, preferences={"theme": "dark", "size": 2})
        await new_member(app, session, preferences={"theme": "light"})
        members = app.repositories.MemberRepository(session)
        found = await members.list(filters=[models.Member.preferences.contains({"theme": "dark"})])
        assert [row.id for row in found.items] == [dark.id]
        tagged = await new_project(app, session, tags=["red", "blue"])
        await new_project(app, session, tags=["red"])
        projects_ = app.repositories.ProjectRepository(session)
        both = await projects_.list(filters=[models.Project.tags.contains(["blue", "red"])])
        assert [row.id for row in both.items] == [tagged.id]


async def test_a_cursor_of_another_ordering_or_a_forged_one_is_refused(
    app: Project, sessions: async_sessionmaker[AsyncSession]
) -> None:
    errors = app.layer.module("errors")
    tenant = await new_workspace(app, sessions)
    async with app.db.tenant_session(sessions, tenant) as session:
        await _tasks(app, session, 5)
        repository = app.repositories.TaskRepository(session)
        page = await repository.list(order_by=["title"], limit=2)
        assert page.next_after is not None
        for order, cursor in ((["-title"], page.next_after), (["title"], "not-a-cursor")):
            with pytest.raises(errors.InvalidCursorError):
                await repository.list(order_by=order, after=cursor)
        with pytest.raises(ValueError, match="cannot be ordered by 'metadata_'"):
            await repository.list(order_by=["metadata_"])
        # The session is still usable: nothing reached the database.
        assert len((await repository.list(order_by=["title"], after=page.next_after)).items) == 3


async def test_nested_loads_cost_one_statement_per_relationship(
    app: Project, sessions: async_sessionmaker[AsyncSession]
) -> None:
    tenant = await new_workspace(app, sessions)
    async with app.db.tenant_session(sessions, tenant) as session:
        created = await _tasks(app, session, 12)
        owner = await new_member(app, session)
        for row in created[:6]:
            row.assignee_id = owner.id
        await session.flush()
        repository = app.repositories.TaskRepository(session)
        filters = {"project_id": created[0].project_id}
        counts = []
        for load in ((), ("project",), ("project", "project.owner", "assignee")):
            session.expunge_all()
            with StatementLog(sessions) as log:
                page = await repository.list(filters=filters, limit=12, load=load)
            counts.append(len(log.statements))
        assert counts == [1, 2, 4]
        assert {row.project.owner.id for row in page.items} == {page.items[0].project.owner_id}
        assert sum(row.assignee is not None for row in page.items) == 6
        session.expunge_all()
        bare = (await repository.list(filters=filters, limit=1)).items[0]
        with pytest.raises(InvalidRequestError, match="lazy='raise_on_sql'"):
            _ = bare.project


async def test_many_to_many_links_are_added_and_removed(
    app: Project, sessions: async_sessionmaker[AsyncSession]
) -> None:
    errors = app.layer.module("errors")
    tenant = await new_workspace(app, sessions)
    async with app.db.tenant_session(sessions, tenant) as session:
        project = await new_project(app, session)
        people = [await new_member(app, session) for _ in range(3)]
        projects_ = app.repositories.ProjectRepository(session)
        ids = [person.id for person in people]
        assert await projects_.add_links(project.id, "members", ids[:2]) == 2
        assert await projects_.add_links(project.id, "members", ids) == 1  # two were there
        loaded = await projects_.get(project.id, load=["members"])
        assert {member.id for member in loaded.members} == set(ids)
        assert await projects_.remove_links(project.id, "members", [ids[0], uuid.uuid4()]) == 1
        with pytest.raises(errors.BadReferenceError) as bad:
            await projects_.add_links(project.id, "members", [uuid.uuid4()])
        assert bad.value.target == "Member"
        with pytest.raises(errors.NotFoundError):
            await projects_.add_links(uuid.uuid4(), "members", ids)
        with pytest.raises(ValueError, match="not a many-to-many"):
            await projects_.add_links(project.id, "owner", ids)
        session.expunge_all()
        reloaded = await projects_.get(project.id, load=["members"])
        assert {member.id for member in reloaded.members} == set(ids[1:])


async def test_refused_writes_raise_typed_errors_and_the_transaction_goes_on(
    app: Project, sessions: async_sessionmaker[AsyncSession]
) -> None:
    errors = app.layer.module("errors")
    tenant = await new_workspace(app, sessions)
    async with app.db.tenant_session(sessions, tenant) as session:
        project = await new_project(app, session, name="taken")
        projects_ = app.repositories.ProjectRepository(session)
        tasks = app.repositories.TaskRepository(session)
        with pytest.raises(errors.ConflictError) as conflict:
            await new_project(app, session, name="taken")
        assert conflict.value.fields == ("name",) and conflict.value.http_status == 409
        with pytest.raises(errors.BadReferenceError) as bad:
            await tasks.create(title="x", project_id=uuid.uuid4())
        assert bad.value.fields == ("project_id",) and bad.value.target == "Project"
        with pytest.raises(errors.CheckViolationError) as check:
            await projects_.update(project.id, budget=-1)
        assert check.value.fields == ("budget",) and check.value.http_status == 422
        with pytest.raises(errors.InvalidValueError):
            await tasks.create(title=None, project_id=project.id)
        with pytest.raises(errors.BadReferenceError):
            await app.repositories.MemberRepository(session).hard_delete(project.owner_id)
        # Every failure was rolled back to its savepoint: the transaction still writes.
        task = await tasks.create(title="fine", project_id=project.id)
    async with app.db.tenant_session(sessions, tenant) as session:
        assert await app.repositories.TaskRepository(session).get(task.id) is not None


async def test_create_is_one_insert_and_takes_a_schema(
    app: Project, sessions: async_sessionmaker[AsyncSession]
) -> None:
    schemas = app.layer.module("schemas")
    tenant = await new_workspace(app, sessions)
    async with app.db.tenant_session(sessions, tenant) as session:
        project = await new_project(app, session)
        body = schemas.TaskCreate.model_validate(
            {"title": "from a request", "project_id": str(project.id), "metadata": {"a": 1}}
        )
        with StatementLog(sessions) as log:
            task = await app.repositories.TaskRepository(session).create(body)
        assert len(log.statements) == 1 and log.statements[0].startswith("INSERT INTO tasks")
        assert task.metadata_ == {"a": 1} and task.status == "todo" and task.created_at
        read = schemas.TaskRead.model_validate(task)
        assert read.model_dump(by_alias=True)["metadata"] == {"a": 1}
        change = schemas.TaskUpdate.model_validate({"status": "done"})
        updated = await app.repositories.TaskRepository(session).update(task.id, change)
        assert updated is task and task.status == "done" and task.title == "from a request"


def test_schemas_refuse_what_the_database_would(app: Project) -> None:
    schemas = app.layer.module("schemas")
    project = str(uuid.uuid4())
    refused = [
        (schemas.TaskCreate, {"title": "x" * 301, "project_id": project}),
        (schemas.TaskCreate, {"title": "x", "project_id": project, "estimate_hours": 0}),
        (schemas.TaskCreate, {"title": "x", "project_id": project, "status": "late"}),
        (schemas.TaskCreate, {"title": "x", "project_id": project, "order": 40_000}),
        (schemas.TaskCreate, {"title": "x"}),
        (schemas.TaskCreate, {"title": "x", "project_id": project, "tenant_id": project}),
        (schemas.WorkspaceCreate, {"name": "A", "slug": "Not A Slug"}),
        (schemas.ProjectCreate, {"name": "p", "owner_id": project, "budget": "1.234"}),
        (schemas.ProjectCreate, {"name": "p", "owner_id": project, "budget": "-1"}),
        (schemas.TaskUpdate, {"title": None}),
    ]
    for schema, body in refused:
        with pytest.raises(pydantic.ValidationError):
            schema.model_validate(body)
    assert schemas.TaskUpdate.model_validate({"due_at": None}).model_values() == {"due_at": None}
    assert schemas.TaskUpdate.model_validate({}).model_values() == {}
    created = schemas.MemberCreate.model_validate({"email": "a@b.c"})
    assert created.role == "member" and created.preferences == {}


async def test_concurrent_pages_and_writes_of_two_tenants(
    app: Project, sessions: async_sessionmaker[AsyncSession]
) -> None:
    tenants = [await new_workspace(app, sessions) for _ in range(2)]

    async def work(tenant: uuid.UUID) -> set[uuid.UUID]:
        async with app.db.tenant_session(sessions, tenant) as session:
            created = await _tasks(app, session, 10)
        async with app.db.tenant_session(sessions, tenant) as session:
            rows = await _all_pages(app.repositories.TaskRepository(session), 3)
        assert {row.tenant_id for row in rows} == {tenant}
        return {row.id for row in created}

    first, second = await asyncio.gather(*(work(tenant) for tenant in tenants))
    assert not first & second


async def test_changes_inside_json_objects_and_arrays_are_saved(
    app: Project, sessions: async_sessionmaker[AsyncSession]
) -> None:
    tenant = await new_workspace(app, sessions)
    async with app.db.tenant_session(sessions, tenant) as session:
        member = await new_member(app, session, preferences={"theme": "dark"})
        project = await new_project(app, session, owner=member, tags=["red"])
        member.preferences["size"] = 3
        project.tags.append("blue")
    async with app.db.tenant_session(sessions, tenant) as session:
        again = await app.repositories.MemberRepository(session).get(member.id)
        assert again.preferences == {"theme": "dark", "size": 3}
        reread = await app.repositories.ProjectRepository(session).get(project.id)
        assert reread.tags == ["red", "blue"]
