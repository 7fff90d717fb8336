"""Webhooks in the console (headless Chromium against ``tresen demo``): an admin creates a
subscription to a real local receiver, a visitor writes, the delivery log shows the signed
delivery, and Resend sends it again under the same delivery id."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from tests.e2e.conftest import api_login
from tests.e2e.test_console import Guest, Loop, _context, login
from tests.support.server import ServerProcess
from tests.support.webhook_receiver import Receiver


@pytest.fixture(scope="module")
def loop() -> Iterator[Loop]:
    lp = Loop()
    yield lp
    lp.close()


@pytest.fixture(scope="module")
def anna(demo_server: ServerProcess) -> Iterator[httpx.Client]:
    http = api_login(demo_server.url, "anna")
    yield http
    http.close()


@pytest.fixture
def page(browser: Any, demo_server: ServerProcess, anna: httpx.Client) -> Iterator[Any]:
    context, pg = _context(browser, demo_server.url, dict(anna.cookies.items()))
    yield pg
    context.close()


@pytest.fixture
def receiver(anna: httpx.Client) -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()
    for sub in anna.get("/api/webhooks").json():  # leave no subscription to the other tests
        if str(server.port) in sub["url"]:
            token = anna.get("/api/auth/me").json()["csrf_token"]
            anna.delete(f"/api/webhooks/{sub['id']}", headers={"X-CSRF-Token": token})


def wait_until(predicate: Any, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "the receiver did not get what was expected"
        time.sleep(0.05)


def test_admin_creates_a_webhook_sees_the_delivery_and_resends_it(
    page: Any, loop: Loop, demo_server: ServerProcess, anna: httpx.Client, receiver: Receiver
) -> None:
    login(page)
    page.click("button[data-view=webhooks]")
    form = page.locator("form[aria-label='Create webhook']")
    form.wait_for()
    form.locator("input[name=name]").fill("CRM <b>sync</b>")
    form.locator("input[name=url]").fill(receiver.url)
    form.locator("input[name=event][value='message.created']").check()
    form.locator("input[name=allow_private]").check()  # the receiver listens on loopback
    form.locator("button[type=submit]").click()
    secret = page.locator("[data-secret] .webhook-secret").inner_text().strip()
    assert secret.startswith("whsec_")
    row = page.locator("tr[data-webhook]", has_text=receiver.url)
    row.wait_for()
    assert "CRM <b>sync</b>" in row.inner_text()  # shown as text, never as HTML
    page.locator("[data-secret] button", has_text="Done").click()
    assert page.locator("[data-secret]").count() == 0

    site_key = anna.get("/api/sites").json()[0]["widget_key"]
    guest = Guest(loop, demo_server, site_key)
    try:
        guest.say("Hello, does the webhook fire?")
    finally:
        guest.stop()
    wait_until(lambda: len(receiver.received) == 1)
    got = receiver.received[0]
    assert got.verified(secret, time.time())
    assert got.json["data"]["body"] == "Hello, does the webhook fire?"
    delivery_id = got.headers["tresen-delivery"]

    log = page.locator(".webhook-log")
    delivered = log.locator(f"tr[data-delivery='{delivery_id}'][data-status=delivered]")
    delivered.wait_for()
    assert "message.created" in delivered.inner_text() and "200" in delivered.inner_text()
    delivered.locator("button.link").click()  # the attempts: status, duration, response
    page.locator("tr.attempts", has_text="200 in").wait_for()

    delivered.locator("button", has_text="Resend").click()
    wait_until(lambda: len(receiver.received) == 2)
    assert receiver.ids() == [delivery_id, delivery_id]
    assert receiver.received[1].verified(secret, time.time())
    log.locator(f"tr[data-delivery='{delivery_id}'] button.link", has_text="2").wait_for()
    assert page.errors == []
