"""Tresen behind Debian's nginx with TLS, configured as docs/deployment.md says.

The client talks to nginx on 127.0.0.2 (HTTPS, a self-signed certificate the client trusts);
nginx connects to Tresen from 127.0.0.3, the only trusted proxy. The widget's visitor socket and
the console's agent socket work over wss, login cookies are Secure, and the client address the
app counts comes from nginx's X-Forwarded-For alone: a header the client made up is replaced.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import websockets
from tests.support.actors import ORIGIN, PASSWORD, next_frame, seed
from tests.support.nginx import NginxProxy
from tests.support.server import TEST_SECRET, InProcessServer

from tresen.settings import Settings
from tresen.storage.migrate import upgrade_async

CLIENT, PROXY, NGINX_FROM = "127.0.0.1", "127.0.0.2", "127.0.0.3"
SPOOFED = "198.51.100.7"


@dataclass
class Stack:
    nginx: NginxProxy
    server: InProcessServer
    site_key: str
    limiter_keys: list[str]

    def https(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.nginx.url, verify=self.nginx.ssl_context())

    async def wss(self, path: str, origin: str) -> Any:
        return await websockets.connect(
            self.nginx.ws_url + path,
            ssl=self.nginx.ssl_context(),
            origin=origin,  # type: ignore[arg-type]
            ping_interval=None,
        )


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    from tests.support.services import free_port

    port = free_port()
    nginx = NginxProxy(tmp_path / "nginx", f"127.0.0.1:{port}", host=PROXY, proxy_bind=NGINX_FROM)
    settings = Settings(
        var_dir=tmp_path,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'tresen.db'}",
        secret_key=TEST_SECRET,
        port=port,
        public_url=nginx.url,
        trusted_proxies=[NGINX_FROM],
    ).resolved()
    await upgrade_async(settings.database_url)
    server = InProcessServer(settings)
    await server.start()
    site_key, _ = await seed(server.rt)
    keys: list[str] = []
    hit = server.rt.limiter.hit

    async def recording_hit(key: str, *args: Any) -> bool:
        keys.append(key)
        return bool(await hit(key, *args))

    server.rt.limiter.hit = recording_hit
    try:
        nginx.start()
        yield Stack(nginx, server, site_key, keys)
    except BaseException:
        print("nginx error log:\n", nginx.error_log())
        raise
    finally:
        nginx.stop()
        await server.stop()


async def test_login_through_nginx_sets_secure_cookies(stack: Stack) -> None:
    async with stack.https() as http:
        r = await http.post("/api/auth/login", json={"username": "anna", "password": PASSWORD})
    assert r.status_code == 200, r.text
    cookies = r.headers.get_list("set-cookie")
    assert {c.split("=", 1)[0] for c in cookies} == {"tresen_session", "tresen_device"}
    assert all("secure" in [p.strip().lower() for p in c.split(";")] for c in cookies), cookies


async def test_client_address_comes_from_nginx_only(stack: Stack) -> None:
    async with stack.https() as http:
        r = await http.post(
            "/api/auth/login",
            json={"username": "anna", "password": "wrong"},
            headers={"X-Forwarded-For": SPOOFED},
        )
        assert r.status_code == 401
        r = await http.post(
            "/api/visitor/session",
            json={"site_key": stack.site_key},
            headers={"Origin": ORIGIN, "X-Forwarded-For": f"{SPOOFED}, 10.0.0.1"},
        )
        assert r.status_code == 200, r.text
    # nginx's own address (the TCP peer) and the client's made-up header are both passed over.
    assert "login-ip:" + CLIENT in stack.limiter_keys
    assert "visitor-new:" + CLIENT in stack.limiter_keys
    assert not [k for k in stack.limiter_keys if SPOOFED in k or NGINX_FROM in k]


async def test_forwarded_headers_from_anyone_else_are_ignored(stack: Stack) -> None:
    """Straight to Tresen (not through nginx): the peer is not a trusted proxy."""
    async with httpx.AsyncClient(base_url=stack.server.url) as http:
        r = await http.post(
            "/api/auth/login",
            json={"username": "anna", "password": "wrong"},
            headers={"X-Forwarded-For": SPOOFED, "X-Forwarded-Proto": "https"},
        )
    assert r.status_code == 401
    assert [k for k in stack.limiter_keys if k.startswith("login-ip:")] == ["login-ip:" + CLIENT]


async def test_visitor_and_agent_talk_over_wss_through_nginx(stack: Stack) -> None:
    async with stack.https() as http:
        r = await http.post(
            "/api/visitor/session", json={"site_key": stack.site_key}, headers={"Origin": ORIGIN}
        )
        r.raise_for_status()
        token = r.json()["token"]
        login = await http.post("/api/auth/login", json={"username": "anna", "password": PASSWORD})
        login.raise_for_status()
        ticket = await http.post(
            "/api/auth/ws-ticket", headers={"X-CSRF-Token": login.json()["csrf_token"]}
        )
        ticket.raise_for_status()
    # The console's socket checks its Origin against the public host nginx forwarded.
    agent = await stack.wss(
        f"/ws/agent?ticket={quote(ticket.json()['ticket'])}", origin=stack.nginx.url
    )
    visitor = await stack.wss(f"/ws/visitor?site={stack.site_key}&token={quote(token)}", ORIGIN)
    try:
        assert (await next_frame(agent, "welcome"))["principal"]["kind"] == "agent"
        await agent.send(json.dumps({"type": "resume", "conversations": {}}))
        await next_frame(visitor, "welcome")
        await visitor.send(json.dumps({"type": "resume", "conversations": {}}))
        body = {"type": "send", "client_msg_id": "over-tls-1", "body": "Hallo über TLS"}
        await visitor.send(json.dumps(body))
        ack = await next_frame(visitor, "ack")
        assert ack["client_msg_id"] == "over-tls-1" and ack["seq"] == 1
        got = await next_frame(agent, "message")
        assert got["body"] == "Hallo über TLS" and got["conversation_id"] == ack["conversation_id"]
    finally:
        await visitor.close()
        await agent.close()


async def test_the_certificate_is_really_checked(stack: Stack) -> None:
    """The client's context is not a blanket 'trust anything': a default one refuses nginx."""
    async with httpx.AsyncClient(verify=ssl.create_default_context()) as http:
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            await http.get(stack.nginx.url + "/healthz")
