"""A hypothesis-driven frame fuzzer for both WebSocket endpoints: frames of every client type
with fields of any JSON shape (wrong types, huge numbers, deep nesting, unknown keys, non-JSON
text). Whatever comes, the socket answers (every ping gets its pong: never a crash, never a
1006) and another visitor's socket is undisturbed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support.actors import ORIGIN, PASSWORD, next_frame, raw_socket, seed
from tests.support.server import TEST_SECRET, ServerProcess
from tests.support.server import test_settings as settings_for

from tresen.realtime.protocol import CLIENT_MODELS
from tresen.runtime import build_runtime
from tresen.storage.migrate import upgrade_async

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def frames(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(sorted(CLIENT_MODELS)))
    known = sorted(CLIENT_MODELS[kind].model_fields)
    keys = draw(st.lists(st.sampled_from(known) | st.text(max_size=8), max_size=6))
    frame: dict[str, Any] = {k: draw(JSON_VALUES) for k in keys}
    frame["type"] = kind
    shape = draw(st.sampled_from(["frame", "frame", "frame", "deep", "text", "array"]))
    if shape == "deep":
        depth = draw(st.integers(min_value=100, max_value=5000))
        return json.dumps({**frame, "x": None})[:-5] + "[" * depth + "]" * depth + "}"
    if shape == "text":
        return draw(st.text(max_size=200))
    if shape == "array":
        return json.dumps([frame])
    return json.dumps(frame)


async def _prepare(database_url: str, var: Path) -> str:
    """Migrate and seed (a site, anna, ben) through the actions; the site key."""
    await upgrade_async(database_url)
    rt = build_runtime(settings_for(var, database_url))
    try:
        key, _secret = await seed(rt)
    finally:
        await rt.close()
    return key


@pytest.fixture(scope="module")
def fuzz_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, str, str]]:
    var: Path = tmp_path_factory.mktemp("fuzz")
    url = f"sqlite+aiosqlite:///{var / 'tresen.db'}"
    site_key = asyncio.run(_prepare(url, var))
    env = {
        "TRESEN_DATABASE_URL": url,
        "TRESEN_SECRET_KEY": TEST_SECRET,
        "TRESEN_VAR_DIR": str(var),
        "TRESEN_LOG_LEVEL": "warning",
        # Rate limits are tested on their own; here every frame should reach its handler.
        "TRESEN_FRAMES_PER_SECOND": "100000",
        "TRESEN_FRAMES_BURST": "100000",
    }
    node = ServerProcess(env)
    node.start()
    r = httpx.post(node.url + "/api/auth/login", json={"username": "anna", "password": PASSWORD})
    r.raise_for_status()
    try:
        yield node, site_key, r.cookies["tresen_session"] + " " + r.json()["csrf_token"]
    finally:
        node.stop()


async def _visitor_socket(node: ServerProcess, site_key: str) -> Any:
    async with httpx.AsyncClient(base_url=node.url, headers={"Origin": ORIGIN}) as http:
        r = await http.post("/api/visitor/session", json={"site_key": site_key})
        token = r.json()["token"]
    ws = await raw_socket(f"{node.ws_url}/ws/visitor?site={site_key}&token={quote(token)}")
    await next_frame(ws, "welcome")
    return ws


async def _agent_socket(node: ServerProcess, session: str) -> Any:
    cookie, csrf = session.split(" ")
    async with httpx.AsyncClient(base_url=node.url, cookies={"tresen_session": cookie}) as http:
        r = await http.post("/api/auth/ws-ticket", headers={"X-CSRF-Token": csrf})
        ticket = r.json()["ticket"]
    ws = await raw_socket(f"{node.ws_url}/ws/agent?ticket={quote(ticket)}", origin=None)
    await next_frame(ws, "welcome")
    return ws


async def _answers(ws: Any) -> None:
    await ws.send('{"type":"ping"}')
    await next_frame(ws, "pong", timeout=30)  # closed (1006 or any code) raises here


async def _fuzz(node: ServerProcess, site_key: str, session: str, texts: list[str]) -> None:
    bystander = await _visitor_socket(node, site_key)
    visitor = await _visitor_socket(node, site_key)
    agent = await _agent_socket(node, session)
    try:
        for text in texts:
            await visitor.send(text)
            await agent.send(text)
        await _answers(visitor)
        await _answers(agent)
        await _answers(bystander)
    finally:
        for ws in (bystander, visitor, agent):
            await ws.close()


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(texts=st.lists(frames(), min_size=1, max_size=15))
def test_no_frame_crashes_a_socket(
    fuzz_node: tuple[ServerProcess, str, str], texts: list[str]
) -> None:
    node, site_key, session = fuzz_node
    asyncio.run(_fuzz(node, site_key, session, texts))
