"""New visitor sessions are limited per client IP and minute, with a clear error; a returning
visitor (a valid token) is not counted."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from tests.integration.api.helpers import assert_error
from tests.support.actors import ORIGIN, Scenario, running_scenario

from tresen.security import ratelimit

LIMIT = 5


@pytest.fixture
async def limited(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Scenario]:
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: 6000.0))
    async with running_scenario(tmp_path, visitor_sessions_per_ip_per_minute=LIMIT) as (_s, sc):
        yield sc


async def test_new_visitor_sessions_per_ip_are_limited(limited: Scenario) -> None:
    body = {"site_key": limited.site_key}
    async with httpx.AsyncClient(base_url=limited.base_url, headers={"Origin": ORIGIN}) as http:
        tokens = []
        for _ in range(LIMIT):
            r = await http.post("/api/visitor/session", json=body)
            assert r.status_code == 200, r.text
            tokens.append(r.json()["token"])
        assert_error(await http.post("/api/visitor/session", json=body), 429, "too_many_sessions")
        # A returning visitor still gets its session.
        r = await http.post("/api/visitor/session", json={**body, "token": tokens[0]})
        assert r.status_code == 200
