"""The FastAPI example of ``docs/examples`` runs on a generated project, over HTTP.

A project is generated from the built-in example spec and migrated as the owner; two
workspaces are made by the owner (creating tenants is the admin's job). The example's
ASGI app is then driven with httpx exactly as a client would, connected as a LOGIN
member of the writer role, so row-level security applies: CRUD, keyset paging while
other requests insert, soft delete and restore, the typed errors' HTTP statuses, and
two tenants that cannot see each other.
"""

from __future__ import annotations

import asyncio
import importlib.util
import shutil
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import psycopg
import pytest

from tests.conftest import EXAMPLE_SPEC
from tests.inprocess import generate_project, imported, run_alembic
from tests.login_roles import login_role
from tests.projects import REPO_ROOT, psql_url

EXAMPLE = REPO_ROOT / "docs" / "examples" / "fastapi_service.py"


@dataclass(frozen=True)
class Service:
    client: httpx.AsyncClient
    tenants: tuple[uuid.UUID, uuid.UUID]

    def headers(self, tenant: int = 0) -> dict[str, str]:
        return {"X-Tenant-Id": str(self.tenants[tenant])}

    async def post(self, path: str, body: dict[str, Any], tenant: int = 0) -> httpx.Response:
        return await self.client.post(path, json=body, headers=self.headers(tenant))

    async def get(self, path: str, tenant: int = 0, **params: Any) -> httpx.Response:
        return await self.client.get(path, params=params, headers=self.headers(tenant))


@pytest.fixture(scope="module")
def project(
    tmp_path_factory: pytest.TempPathFactory, create_database: Callable[[], str]
) -> Iterator[tuple[Path, str]]:
    root = tmp_path_factory.mktemp("fastapi") / "project"
    generate_project(root, EXAMPLE_SPEC.read_text(encoding="utf-8"), "app")
    shutil.copy(EXAMPLE, root / "fastapi_service.py")
    url = create_database()
    run_alembic(root, "app", url, "upgrade", "head")
    yield root, url


def _workspaces(owner_url: str) -> tuple[uuid.UUID, uuid.UUID]:
    with psycopg.connect(psql_url(owner_url), autocommit=True) as connection:
        rows = [
            connection.execute(
                "INSERT INTO workspaces (name, slug) VALUES (%s, %s) RETURNING id",
                (name, f"{name}-{uuid.uuid4().hex[:6]}"),
            ).fetchone()
            for name in ("acme", "globex")
        ]
    first, second = (row[0] for row in rows if row is not None)
    return first, second


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("fastapi_service", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
async def service(
    project: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Service]:
    root, owner_url = project
    with login_role(owner_url, "app_writer") as writer, imported(root, "app"):
        monkeypatch.setenv("DATABASE_URL", writer.url)
        example = _load(root / "fastapi_service.py")
        transport = httpx.ASGITransport(app=example.api)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            yield Service(client, _workspaces(owner_url))
        await example.sessions.kw["bind"].dispose()


async def _member(service: Service, tenant: int = 0) -> dict[str, Any]:
    response = await service.post("/members", {"email": f"{uuid.uuid4().hex[:8]}@x.io"}, tenant)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def _project(service: Service, tenant: int = 0, name: str | None = None) -> dict[str, Any]:
    owner = await _member(service, tenant)
    body = {"name": name or f"p-{uuid.uuid4().hex[:8]}", "owner_id": owner["id"]}
    response = await service.post("/projects", body, tenant)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_crud_and_nested_reads(service: Service) -> None:
    project = await _project(service)
    helper = await _member(service)
    created = await service.post(
        "/tasks",
        {"title": "Write docs", "project_id": project["id"], "metadata": {"size": "s"}},
    )
    assert created.status_code == 201, created.text
    task = created.json()
    assert task["status"] == "todo" and task["metadata"] == {"size": "s"}
    patched = await service.client.patch(
        f"/tasks/{task['id']}",
        json={"status": "doing", "assignee_id": helper["id"]},
        headers=service.headers(),
    )
    assert patched.status_code == 200 and patched.json()["status"] == "doing"
    detail = (await service.get(f"/tasks/{task['id']}")).json()
    assert detail["project"]["id"] == project["id"] and detail["assignee"]["id"] == helper["id"]
    path = f"/projects/{project['id']}/members/{helper['id']}"
    assert (await service.client.put(path, headers=service.headers())).status_code == 204
    tree = (await service.get(f"/projects/{project['id']}")).json()
    assert [m["id"] for m in tree["members"]] == [helper["id"]]
    assert [t["assignee"]["id"] for t in tree["tasks"]] == [helper["id"]]
    assert (await service.client.delete(path, headers=service.headers())).status_code == 204
    assert (await service.get(f"/projects/{project['id']}")).json()["members"] == []


async def test_errors_map_to_http_statuses(service: Service) -> None:
    project = await _project(service, name="unique name")
    owner_id = project["owner_id"]
    duplicate = await service.post("/projects", {"name": "unique name", "owner_id": owner_id})
    assert duplicate.status_code == 409
    assert duplicate.json()["fields"] == ["name"]
    dangling = await service.post("/tasks", {"title": "x", "project_id": str(uuid.uuid4())})
    assert dangling.status_code == 422 and dangling.json()["fields"] == ["project_id"]
    refused = await service.post(
        "/tasks", {"title": "x", "project_id": project["id"], "order": -1}
    )
    assert refused.status_code == 201  # no check on order; the schema's range is smallint's
    invalid = await service.post("/tasks", {"title": "", "project_id": project["id"], "x": 1})
    assert invalid.status_code == 422  # extra field: refused by the schema, not the database
    negative = await service.post(
        "/projects", {"name": "budget", "owner_id": owner_id, "budget": "-5"}
    )
    assert negative.status_code == 422
    assert (await service.get(f"/tasks/{uuid.uuid4()}")).status_code == 404
    forged = await service.get("/tasks", after="forged")
    assert forged.status_code == 400


async def test_paging_under_concurrent_inserts(service: Service) -> None:
    project = await _project(service)
    for i in range(25):
        body = {"title": f"t{i:02d}", "project_id": project["id"], "status": "doing"}
        assert (await service.post("/tasks", body)).status_code == 201

    async def read_all() -> list[str]:
        seen: list[str] = []
        after = None
        while True:
            params: dict[str, Any] = {"status": "doing", "limit": 4, "order_by": ["title"]}
            if after:
                params["after"] = after
            page = (await service.get("/tasks", **params)).json()
            seen += [item["title"] for item in page["items"]]
            after = page["next_after"]
            if after is None:
                return seen
            await asyncio.sleep(0)

    async def insert_meanwhile() -> None:
        for i in range(10):
            body = {"title": f"t{i:02d}+", "project_id": project["id"], "status": "doing"}
            assert (await service.post("/tasks", body)).status_code == 201

    seen, _ = await asyncio.gather(read_all(), insert_meanwhile())
    assert len(seen) == len(set(seen)) and seen == sorted(seen)
    assert {f"t{i:02d}" for i in range(25)} <= set(seen)
    counted = (await service.get("/tasks", status="doing", total="true", limit=1)).json()
    assert counted["total"] == 35 and len(counted["items"]) == 1


async def test_soft_delete_and_restore(service: Service) -> None:
    member = await _member(service)
    path = f"/members/{member['id']}"
    assert (await service.client.delete(path, headers=service.headers())).status_code == 204
    assert (await service.client.delete(path, headers=service.headers())).status_code == 404
    restored = await service.post(f"{path}/restore", {})
    assert restored.status_code == 200 and restored.json()["deleted_at"] is None
    assert (await service.post(f"{path}/restore", {})).status_code == 404


async def test_two_tenants_see_only_their_own_rows(service: Service) -> None:
    mine = await _project(service, tenant=0)
    theirs = await _project(service, tenant=1)
    body = {"title": "secret", "project_id": theirs["id"]}
    task = (await service.post("/tasks", body, tenant=1)).json()
    assert (await service.get(f"/tasks/{task['id']}", tenant=0)).status_code == 404
    assert (await service.get(f"/projects/{theirs['id']}", tenant=0)).status_code == 404
    stolen = await service.post("/tasks", {"title": "x", "project_id": theirs["id"]}, tenant=0)
    assert stolen.status_code == 422  # their project is no row for this tenant
    listed = (await service.get("/tasks", tenant=0, limit=200)).json()["items"]
    assert task["id"] not in {item["id"] for item in listed}
    assert {item["tenant_id"] for item in listed} <= {str(service.tenants[0])}
    assert mine["tenant_id"] == str(service.tenants[0])
