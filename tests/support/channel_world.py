"""The world of the channel tests (``tests/integration/channels``): a shop with a manual clock,
the messaging platforms faked at the HTTP edge and an SMTP sink, and the helpers that connect a
channel account and post to its webhook as the platform would. The fixtures are collected by
``tests/integration/channels/conftest.py``; a test module elsewhere imports the ones it uses.
A module sets its shop's settings by overriding ``shop_settings``."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.actors import Scenario, running_scenario
from tests.support.mail import SMTP_PASSWORD, SMTP_USER, MailSink
from tests.support.platforms import FakePlatforms, meta_signature
from tests.support.server import InProcessServer
from tresen.clock import ManualClock
from tresen.scheduler import ManualScheduler

PHONE_ID, WA_SECRET, WA_VERIFY = "106540352242922", "wa-app-secret", "wa-verify-me"
WA_ID = "16505551234"
PAGE_ID, FB_SECRET, PSID = "1234567890", "fb-app-secret", "6789012345"
BOT_TOKEN, TG_SECRET = "110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", "tg-secret-token"


@pytest.fixture
def timers() -> ManualScheduler:
    return ManualScheduler(ManualClock())


@pytest.fixture
async def fake() -> AsyncIterator[FakePlatforms]:
    platforms = await FakePlatforms().start()
    yield platforms
    await platforms.stop()


@pytest.fixture
def sink() -> Iterator[MailSink]:
    server = MailSink(SMTP_USER, SMTP_PASSWORD).start()
    yield server
    server.stop()


@pytest.fixture
def shop_settings() -> dict[str, Any]:
    """The shop's settings beyond the test defaults (a module overrides this fixture)."""
    return {}


@pytest.fixture
async def shop(
    tmp_path: Path, database_url: str | None, timers: ManualScheduler, shop_settings: dict[str, Any]
) -> AsyncIterator[tuple[InProcessServer, Scenario]]:
    """A migrated shop on ``database_url`` (SQLite and PostgreSQL), its timers on ``timers``."""
    async with running_scenario(
        tmp_path, database_url, clock=timers.clock, scheduler=timers, **shop_settings
    ) as setup:
        yield setup


async def site_id(sc: Scenario) -> int:
    return int((await sc.anna.http.get("/api/sites")).json()[0]["id"])


async def connect(sc: Scenario, **body: Any) -> dict[str, Any]:
    """A channel account on the shop's site, as an admin adds it."""
    r = await sc.anna.post(f"/api/sites/{await site_id(sc)}/channel-accounts", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def connect_whatsapp(sc: Scenario, **extra: Any) -> dict[str, Any]:
    return await connect(
        sc,
        kind="whatsapp",
        name="Shop WhatsApp",
        external_id=PHONE_ID,
        phone="+1 555 078 3881",
        access_token="wa-token",
        app_secret=WA_SECRET,
        verify_token=WA_VERIFY,
        **extra,
    )


async def post_hook(
    sc: Scenario, account: dict[str, Any], payload: Any, secret: str = WA_SECRET, **headers: str
) -> httpx.Response:
    """``payload`` posted to the account's webhook, signed as Meta signs it."""
    raw = json.dumps(payload).encode()
    path = "/hooks/" + account["webhook_url"].split("/hooks/", 1)[1]
    hdrs = {"Content-Type": "application/json", "X-Hub-Signature-256": meta_signature(secret, raw)}
    # A generous deadline (httpx's default is 5 s): on a loaded machine the server may take that
    # long only to read the body.
    async with httpx.AsyncClient(base_url=sc.base_url, timeout=30) as client:
        return await client.post(path, content=raw, headers={**hdrs, **headers})


def now_ts(timers: ManualScheduler) -> int:
    return int(timers.clock.now().timestamp())
