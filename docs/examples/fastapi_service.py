"""A FastAPI service on a project generated from entityforge's built-in example spec.

Run it inside such a project (``entityforge new tasks-api``) with FastAPI and uvicorn
installed, connected as a login member of the writer role::

    DATABASE_URL=postgresql+psycopg://app_login:…@localhost/app uvicorn fastapi_service:api

Every request names its tenant (a workspace id) in the ``X-Tenant-Id`` header and runs in
one ``tenant_session`` transaction, so row-level security confines it to that tenant.
Nothing below repeats a field, a constraint or an ordering rule: the request and response
bodies are the generated schemas, the listing is the repository's keyset ``list``, and
every refused write arrives as a typed error with its HTTP status.
"""

import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, FastAPI, Header, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from app import db
from app.errors import DataLayerError, NotFoundError
from app.models import Member, Project, Task, TaskStatus
from app.repositories import MemberRepository, ProjectRepository, TaskOrder, TaskRepository
from app.schemas import (
    MemberCreate,
    MemberRead,
    ProjectCreate,
    ProjectRead,
    TaskCreate,
    TaskRead,
    TaskUpdate,
)

sessions = db.create_session_factory(db.create_engine())
api = FastAPI(title="Tasks")


async def tenant_session(
    x_tenant_id: Annotated[uuid.UUID, Header()],
) -> AsyncIterator[AsyncSession]:
    async with db.tenant_session(sessions, x_tenant_id) as session:
        yield session


Session = Annotated[AsyncSession, Depends(tenant_session)]


@api.exception_handler(DataLayerError)
async def data_layer_error(request: Request, error: DataLayerError) -> JSONResponse:
    body = {"detail": error.message, "constraint": error.constraint, "fields": error.fields}
    return JSONResponse(body, status_code=error.http_status)


class TaskPage(BaseModel):
    items: list[TaskRead]
    next_after: str | None
    total: int | None


class TaskWithProject(TaskRead):
    project: ProjectRead
    assignee: MemberRead | None


class ProjectWithTasks(ProjectRead):
    members: list[MemberRead]
    tasks: list[TaskWithProject]


@api.post("/members", status_code=201, response_model=MemberRead)
async def create_member(body: MemberCreate, session: Session) -> Member:
    return await MemberRepository(session).create(body)


@api.delete("/members/{member_id}", status_code=204)
async def delete_member(member_id: uuid.UUID, session: Session) -> Response:
    if not await MemberRepository(session).delete(member_id):
        raise NotFoundError(f"no member {member_id}")
    return Response(status_code=204)


@api.post("/members/{member_id}/restore", response_model=MemberRead)
async def restore_member(member_id: uuid.UUID, session: Session) -> Member:
    return await MemberRepository(session).restore(member_id)


@api.post("/projects", status_code=201, response_model=ProjectRead)
async def create_project(body: ProjectCreate, session: Session) -> Project:
    return await ProjectRepository(session).create(body)


@api.get("/projects/{project_id}", response_model=ProjectWithTasks)
async def get_project(project_id: uuid.UUID, session: Session) -> Project:
    load = ["members", "tasks.project", "tasks.assignee"]
    return await ProjectRepository(session).get_or_raise(project_id, load=load)


@api.put("/projects/{project_id}/members/{member_id}", status_code=204)
async def add_project_member(
    project_id: uuid.UUID, member_id: uuid.UUID, session: Session
) -> None:
    await ProjectRepository(session).add_links(project_id, "members", [member_id])


@api.delete("/projects/{project_id}/members/{member_id}", status_code=204)
async def remove_project_member(
    project_id: uuid.UUID, member_id: uuid.UUID, session: Session
) -> None:
    await ProjectRepository(session).remove_links(project_id, "members", [member_id])


@api.post("/tasks", status_code=201, response_model=TaskRead)
async def create_task(body: TaskCreate, session: Session) -> Task:
    return await TaskRepository(session).create(body)


@api.get("/tasks", response_model=TaskPage)
async def list_tasks(
    session: Session,
    status: TaskStatus | None = None,
    order_by: Annotated[list[TaskOrder], Query()] = ["-created_at"],  # noqa: B006
    after: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    total: bool = False,
) -> TaskPage:
    filters = [Task.status == status] if status else []
    page = await TaskRepository(session).list(
        order_by=order_by, filters=filters, after=after, limit=limit, with_total=total
    )
    items = [TaskRead.model_validate(row) for row in page.items]
    return TaskPage(items=items, next_after=page.next_after, total=page.total)


@api.get("/tasks/{task_id}", response_model=TaskWithProject)
async def get_task(task_id: uuid.UUID, session: Session) -> Task:
    return await TaskRepository(session).get_or_raise(task_id, load=["project", "assignee"])


@api.patch("/tasks/{task_id}", response_model=TaskRead)
async def update_task(task_id: uuid.UUID, body: TaskUpdate, session: Session) -> Task:
    task = await TaskRepository(session).update(task_id, body)
    if task is None:
        raise NotFoundError(f"no task {task_id}")
    return task
