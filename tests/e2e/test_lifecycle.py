"""The conversation lifecycle in headless Chromium (docs/lifecycle.md), on a node whose clock
and timers the test advances (no waiting for a product timer): the console marks the silent
visitor and sends the suggested message; the widget announces a transfer with the new agent's
name and the end of the chat; the visitor rates it; the rating shows in the console and in the
reports."""

from __future__ import annotations

import asyncio
import os
import re
import threading
from collections.abc import Coroutine, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from tests.e2e.conftest import DEMO_PASSWORD, OUTPUT, api_login
from tests.support.server import InProcessServer, test_settings

from tresen.clock import ManualClock
from tresen.demo import seed_demo
from tresen.scheduler import ManualScheduler
from tresen.storage.migrate import upgrade_async

T = TypeVar("T")
FRAME = "iframe[data-tresen='frame']"
WAIT_MS = 15_000


class ManualNode:
    """``tresen demo`` in this process, in a thread's event loop, on a manual clock."""

    def __init__(self, var: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.clock = ManualClock(datetime.now(UTC).replace(microsecond=0))
        self.timers = ManualScheduler(self.clock)
        # Browsers answer pings, but the simulated minutes would outrun them: no idle closes.
        conf = test_settings(var, idle_timeout_seconds=86400, heartbeat_seconds=3600)
        os.environ["TRESEN_DEMO_PASSWORD"] = DEMO_PASSWORD
        self.run(upgrade_async(conf.database_url))
        self.run(seed_demo(conf))
        self.srv = InProcessServer(conf, clock=self.clock, scheduler=self.timers)
        self.run(self.srv.start())
        self.url = self.srv.url
        self.port = conf.port

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def advance(self, seconds: float) -> None:
        async def go() -> None:
            self.timers.advance(seconds)
            await self.srv.app.state.lifecycle.settle()
            await self.srv.rt.events.drain()

        self.run(go())

    def close(self) -> None:
        self.run(self.srv.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ManualNode]:
    n = ManualNode(tmp_path_factory.mktemp("lifecycle-var"))
    yield n
    n.close()


def _context(browser: Any, url: str, cookies: dict[str, str] | None = None) -> tuple[Any, Any]:
    context = browser.new_context(base_url=url, viewport={"width": 1400, "height": 900})
    if cookies:
        context.add_cookies([{"name": k, "value": v, "url": url} for k, v in cookies.items()])
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    return context, page


def _conversation_of_visitor(anna: httpx.Client) -> int:
    inbox = anna.get("/api/console/inbox").json()
    assert inbox, "the visitor's chat is not in the inbox"
    return int(inbox[0]["id"])


def test_silent_marker_transfer_end_and_rating(browser: Any, node: ManualNode) -> None:
    anna = api_login(node.url, "anna")
    ben = api_login(node.url, "ben")
    me = anna.get("/api/auth/me").json()["agent"]
    ben_id = ben.get("/api/auth/me").json()["agent"]["id"]
    sites = anna.get("/api/sites").json()
    r = anna.put(
        f"/api/sites/{sites[0]['id']}/lifecycle",
        json={"silent_after_seconds": 120, "close_after_minutes": 30},
    )
    assert r.status_code == 200, r.text
    assert anna.patch(f"/api/agents/{me['id']}", json={"status": "online"}).status_code == 200

    shop_ctx, shop = _context(browser, f"http://localhost:{node.port}")
    console_ctx, console = _context(browser, node.url, dict(anna.cookies.items()))
    try:
        shop.goto("/shop/")
        widget = shop.frame_locator(FRAME)
        widget.get_by_role("button", name=re.compile("Open chat")).click()
        widget.locator(".panel").wait_for()
        box = widget.locator("#tw-input")
        box.fill("Hello, I need help with my order")
        box.press("Enter")

        console.goto("/console")
        console.wait_for_selector("[data-testid=connection]:has-text('online')")
        conv_id = _conversation_of_visitor(anna)
        conv = anna.get(f"/api/conversations/{conv_id}").json()
        if conv["assignee_id"] != me["id"]:
            anna.patch(f"/api/conversations/{conv_id}", json={"assignee_id": me["id"]})
        item = console.locator(f".conv-item[data-conv='{conv_id}']")
        item.click()
        pane = console.locator(f".pane[data-pane='{conv_id}']")
        pane.wait_for()
        reply = console.locator("textarea[name=reply]")
        reply.fill("What is your order number?")
        reply.press("Enter")
        widget.locator(".log", has_text="What is your order number?").wait_for()
        # The widget's header names the agent who has the chat.
        widget.locator("#tw-title", has_text="Anna").wait_for()

        node.advance(119)
        console.wait_for_timeout(300)
        assert item.locator("[data-flag=silent]").count() == 0  # not before the second
        node.advance(1)
        item.locator("[data-flag=silent]").wait_for()
        nudge = pane.locator("[data-action=nudge]")
        nudge.wait_for()
        console.screenshot(path=str(OUTPUT / "lifecycle-silent.png"))
        nudge.click()
        widget.locator(".log .body", has_text="Are you still there?").wait_for()

        # Ben takes over: the visitor reads it, with Ben's name in the header.
        assert ben.patch(f"/api/agents/{ben_id}", json={"status": "online"}).status_code == 200
        r = anna.post(f"/api/conversations/{conv_id}/transfer", json={"agent_id": ben_id})
        assert r.status_code == 200, r.text
        widget.locator(".log", has_text="Ben takes over the chat.").wait_for()
        widget.locator("#tw-title", has_text="Ben").wait_for()

        # The end: a clear notice, a rating and a comment, a new chat on offer.
        r = ben.patch(f"/api/conversations/{conv_id}", json={"status": "resolved"})
        assert r.status_code == 200, r.text
        ended = widget.locator(".ended")
        ended.get_by_text("This chat has ended.").wait_for()
        assert ended.get_by_role("button", name="Start a new chat").is_visible()
        ended.get_by_role("button", name="4 of 5 stars").click()
        ended.get_by_label("Comment (optional)").fill("Quick and friendly")
        ended.get_by_role("button", name="Send rating").click()
        ended.get_by_text("Thank you for your rating!").wait_for()
        shop.screenshot(path=str(OUTPUT / "lifecycle-rated.png"))

        # The console's conversation view shows it, and the reports count it.
        rating = pane.locator("[data-rating='4']")
        rating.wait_for()
        assert "Quick and friendly" in rating.inner_text()
        summary = anna.get("/api/reports/summary").json()
        assert summary["csat"]["count"] == 1 and summary["csat"]["average"] == 4.0
        console.goto("/console/reports")
        console.locator("[data-testid='figure-CSAT']", has_text="4.0 / 5").wait_for()
    finally:
        shop_ctx.close()
        console_ctx.close()
        anna.close()
        ben.close()
