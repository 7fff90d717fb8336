"""Test actors that use the product as its clients do: over HTTP and WebSocket."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
import websockets

from tresen.agents.actions import check_create_agent
from tresen.client import TresenClient
from tresen.sites.actions import do_create_site

ORIGIN = "https://shop.example"
PASSWORD = "correct horse battery"


@dataclass
class Agent:
    base_url: str
    http: httpx.AsyncClient
    csrf: str
    id: int

    @classmethod
    async def login(cls, base_url: str, username: str, password: str = PASSWORD) -> Agent:
        http = httpx.AsyncClient(base_url=base_url, timeout=30)
        r = await http.post("/api/auth/login", json={"username": username, "password": password})
        r.raise_for_status()
        return cls(base_url, http, r.json()["csrf_token"], r.json()["agent"]["id"])

    async def ticket(self) -> str:
        r = await self.http.post("/api/auth/ws-ticket", headers={"X-CSRF-Token": self.csrf})
        r.raise_for_status()
        return str(r.json()["ticket"])

    async def ws_url(self, ws_base: str | None = None) -> str:
        base = ws_base or self.base_url.replace("http", "ws", 1)
        return f"{base}/ws/agent?ticket={quote(await self.ticket())}"

    def client(self, ws_bases: list[str] | None = None, **kw: Any) -> TresenClient:
        bases = ws_bases or [self.base_url.replace("http", "ws", 1)]
        return TresenClient([_bind(self.ws_url, b) for b in bases], **kw)

    async def post(self, path: str, **kw: Any) -> httpx.Response:
        return await self.http.post(path, headers={"X-CSRF-Token": self.csrf}, **kw)

    async def patch(self, path: str, **kw: Any) -> httpx.Response:
        return await self.http.patch(path, headers={"X-CSRF-Token": self.csrf}, **kw)

    async def close(self) -> None:
        await self.http.aclose()


def _bind(fn: Any, arg: str) -> Any:
    async def call() -> str:
        return str(await fn(arg))

    return call


@dataclass
class Visitor:
    base_url: str
    site_key: str
    token: str
    id: int
    origin: str = ORIGIN

    @classmethod
    async def arrive(
        cls, base_url: str, site_key: str, origin: str = ORIGIN, **body: Any
    ) -> Visitor:
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
            r = await http.post(
                "/api/visitor/session",
                json={"site_key": site_key, **body},
                headers={"Origin": origin},
            )
            r.raise_for_status()
            return cls(base_url, site_key, r.json()["token"], r.json()["visitor_id"], origin)

    def ws_url(self, ws_base: str | None = None) -> str:
        base = ws_base or self.base_url.replace("http", "ws", 1)
        return f"{base}/ws/visitor?site={self.site_key}&token={quote(self.token)}"

    def client(self, ws_bases: list[str] | None = None, **kw: Any) -> TresenClient:
        bases = ws_bases or [self.base_url.replace("http", "ws", 1)]

        def factory(base: str) -> Any:
            async def call() -> str:
                return self.ws_url(base)

            return call

        kw.setdefault("expect_seq_holes", True)
        return TresenClient([factory(b) for b in bases], origin=self.origin, **kw)


@dataclass
class Scenario:
    base_url: str
    site_key: str
    identity_secret: str
    anna: Agent
    ben: Agent
    extra: list[Any] = field(default_factory=list)

    async def visitor(self, **body: Any) -> Visitor:
        return await Visitor.arrive(self.base_url, self.site_key, **body)

    async def close(self) -> None:
        for thing in self.extra:
            await thing.stop()
        await self.anna.close()
        await self.ben.close()


async def seed(rt: Any) -> tuple[str, str]:
    """Site + agents through the actions, as the CLI does. Returns (site_key, identity_secret)."""
    site = await do_create_site(rt, "Shop", [ORIGIN])
    await check_create_agent(
        rt, "anna", PASSWORD, display_name="Anna", role="admin", skills=["Sales"]
    )
    await check_create_agent(rt, "ben", PASSWORD, display_name="Ben", skills=["Support"])
    return site.widget_key, site.identity_secret


async def make_scenario(server: Any) -> Scenario:
    key, secret = await seed(server.rt)
    anna = await Agent.login(server.url, "anna")
    ben = await Agent.login(server.url, "ben")
    return Scenario(server.url, key, secret, anna, ben)


async def raw_socket(url: str, origin: str | None = ORIGIN) -> Any:
    headers = {"Origin": origin} if origin else None
    return await websockets.connect(url, additional_headers=headers, ping_interval=None)


NOTICES = frozenset({"ping", "queue", "overflow"})


async def next_frame(ws: Any, kind: str | None = None, timeout: float = 30) -> dict[str, Any]:
    """The next frame of ``kind``; without a kind, the next one that is not a heartbeat or a
    routing notice (queue position, overflow), which arrive whenever a chat waits. The timeout
    is a deadline for a frame that must come (generous: a loaded machine is slow), not a bound
    on speed; tests that prove a frame does *not* come pass their own short one."""
    import asyncio

    async def read() -> dict[str, Any]:
        while True:
            frame: dict[str, Any] = json.loads(await ws.recv())
            if (kind is None and frame["type"] not in NOTICES) or frame["type"] == kind:
                return frame

    return await asyncio.wait_for(read(), timeout)


@asynccontextmanager
async def running_scenario(
    tmp_path: Any,
    database_url: str | None = None,
    clock: Any = None,
    scheduler: Any = None,
    **settings: Any,
) -> AsyncIterator[tuple[Any, Scenario]]:
    """A migrated in-process server with its own settings (and clock and timer scheduler:
    a test advances a manual pair instead of sleeping), a site, anna and ben."""
    from tests.support.server import InProcessServer, test_settings
    from tresen.storage.migrate import upgrade_async

    conf = test_settings(tmp_path, database_url, **settings)
    await upgrade_async(conf.database_url)
    srv = InProcessServer(conf, clock=clock, scheduler=scheduler)
    await srv.start()
    sc = await make_scenario(srv)
    try:
        yield srv, sc
    finally:
        await sc.close()
        await srv.stop()
