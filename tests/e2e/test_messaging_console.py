"""WhatsApp end to end, in Chromium against a demo server whose Graph API base points at the
fake platform (tests/support/platforms.py): a customer's message arrives (posted signed to the
webhook), the agent answers in the console and the fake records the outbound call with the
right body; a customer whose last message is older than 24 hours can only get a template, which
the agent picks and fills in the composer."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from tests.e2e.conftest import DEMO_PASSWORD, api_login
from tests.e2e.test_console import _context, login, open_conversation, type_and_enter
from tests.e2e.test_widget import _open_page, _open_panel, _send_from_visitor, _wait_body, shop_url
from tests.support.platforms import Call, ThreadedFake, meta_signature, wa_text
from tests.support.server import ServerProcess

PHONE_ID, SECRET = "106540352242922", "e2e-wa-app-secret"


@pytest.fixture(scope="module")
def fake() -> Iterator[ThreadedFake]:
    platforms = ThreadedFake().start()
    yield platforms
    platforms.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, fake: ThreadedFake) -> Iterator[ServerProcess]:
    var = tmp_path_factory.mktemp("messaging-var")
    srv = ServerProcess(
        {
            "TRESEN_VAR_DIR": str(var),
            "TRESEN_DEMO_PASSWORD": DEMO_PASSWORD,
            "TRESEN_SECRET_KEY": "e2e-secret",
            "TRESEN_LOG_LEVEL": "warning",
            "TRESEN_GRAPH_API_BASE": fake.fake.graph,
            "TRESEN_TELEGRAM_API_BASE": fake.fake.url,
        },
        command="demo",
    )
    srv.env["TRESEN_PUBLIC_URL"] = srv.url
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def whatsapp(server: ServerProcess) -> Iterator[tuple[httpx.Client, dict[str, Any]]]:
    """anna's API session, and the demo site's WhatsApp account with one template."""
    admin = api_login(server.url, "anna")
    site_id = admin.get("/api/sites").json()[0]["id"]
    account = admin.post(
        f"/api/sites/{site_id}/channel-accounts",
        json={
            "kind": "whatsapp",
            "external_id": PHONE_ID,
            "phone": "15550783881",
            "access_token": "wa-token",
            "app_secret": SECRET,
            "verify_token": "v",
        },
    ).json()
    r = admin.post(
        f"/api/sites/{site_id}/templates",
        json={
            "name": "order_update",
            "language": "en_US",
            "body": "Hello {{1}}, your order {{2}} has shipped.",
        },
    )
    assert r.status_code == 201, r.text
    yield admin, account
    admin.close()


def _post_signed(server: ServerProcess, hook_url: str, payload: Any) -> None:
    raw = json.dumps(payload).encode()
    r = httpx.post(
        server.url + "/hooks/" + hook_url.split("/hooks/", 1)[1],
        content=raw,
        headers={
            "Content-Type": "application/json",
            "X-Hub-Signature-256": meta_signature(SECRET, raw),
        },
    )
    assert r.status_code == 200 and r.json()["stored"] == 1, r.text


def _wait_calls(fake: ThreadedFake, n: int) -> list[Call]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        sent = fake.fake.sent(f"/{PHONE_ID}/messages")
        if len(sent) >= n:
            return sent
        time.sleep(0.05)
    raise AssertionError(f"the fake got {len(fake.fake.sent('/messages'))} sends, expected {n}")


def _conversation_of(admin: httpx.Client, wa_id: str) -> int:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for c in admin.get("/api/conversations", params={"limit": 50}).json():
            if c.get("channel") == "whatsapp" and c.get("meta", {}).get("recipient") == wa_id:
                return int(c["id"])
        time.sleep(0.05)
    raise AssertionError(f"no WhatsApp conversation for {wa_id}")


def test_a_whatsapp_message_is_answered_in_the_console_and_a_template_outside_the_window(
    server: ServerProcess,
    fake: ThreadedFake,
    whatsapp: tuple[httpx.Client, dict[str, Any]],
    browser: Any,
    screenshot_dir: Path,
) -> None:
    admin, account = whatsapp
    now = int(time.time())
    _post_signed(
        server,
        account["webhook_url"],
        wa_text(PHONE_ID, "16505551234", "wamid.E2E1", now, "Does it come in blue?"),
    )
    conv_id = _conversation_of(admin, "16505551234")

    context, console = _context(browser, server.url, dict(admin.cookies.items()))
    login(console)
    pane = open_conversation(console, conv_id)
    assert pane.locator("[data-channel=whatsapp]").inner_text() == "WhatsApp"
    pane.locator(".msg.from-visitor", has_text="Does it come in blue?").wait_for()  # the history
    bar = pane.locator(".channel-bar")
    bar.locator("[data-field=window]", has_text="free reply possible for 23 h").wait_for()
    assert pane.locator("[data-testid=cobrowse]").count() == 0  # no co-browsing on WhatsApp
    type_and_enter(console, "Yes, in navy blue.")
    pane.locator("[data-delivery=sent]").wait_for()
    [call] = _wait_calls(fake, 1)
    assert call.body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "16505551234",
        "type": "text",
        "text": {"preview_url": False, "body": "Yes, in navy blue."},
    }
    console.screenshot(path=str(screenshot_dir / "whatsapp-answered.png"))

    # Another customer last wrote 25 hours ago: only a template goes out.
    _post_signed(
        server,
        account["webhook_url"],
        wa_text(
            PHONE_ID,
            "4915112345678",
            "wamid.E2E2",
            now - 25 * 3600,
            "Where is my parcel?",
            name="Petra",
        ),
    )
    late = _conversation_of(admin, "4915112345678")
    pane = open_conversation(console, late)
    pane.locator(".channel-bar[data-window=template]").wait_for()
    assert pane.locator("button.send").is_disabled()
    picker = pane.locator(".template-picker")
    picker.locator("input[name=variable-1]").fill("Petra")
    picker.locator("input[name=variable-2]").fill("#4711")
    assert picker.locator("[data-field=template-preview]").inner_text() == (
        "Hello Petra, your order #4711 has shipped."
    )
    picker.locator("[data-action=send-template]").click()
    pane.locator(
        ".msg.from-agent", has_text="Hello Petra, your order #4711 has shipped."
    ).wait_for()
    pane.locator("[data-delivery=sent]").wait_for()
    _, template = _wait_calls(fake, 2)
    assert template.body["to"] == "4915112345678" and template.body["type"] == "template"
    assert template.body["template"] == {
        "name": "order_update",
        "language": {"code": "en_US"},
        "components": [
            {
                "type": "body",
                "parameters": [
                    {"type": "text", "text": "Petra"},
                    {"type": "text", "text": "#4711"},
                ],
            }
        ],
    }
    console.screenshot(path=str(screenshot_dir / "whatsapp-template.png"))
    assert console.errors == []
    context.close()


def test_a_web_chat_moves_to_whatsapp_with_its_history(
    server: ServerProcess,
    fake: ThreadedFake,
    whatsapp: tuple[httpx.Client, dict[str, Any]],
    browser: Any,
    screenshot_dir: Path,
) -> None:
    admin, account = whatsapp
    context, page, _ = _open_page(browser, viewport={"width": 1280, "height": 800})
    page.goto(shop_url(server, "/shop/"))
    frame = _open_panel(page)
    _send_from_visitor(page, "Can I reserve the blue jacket?")
    _wait_body(page, "Can I reserve the blue jacket?")
    frame.locator("[data-action=continue-whatsapp]").click()
    link = frame.locator("[data-action=open-whatsapp]")
    href = link.get_attribute("href")
    assert href is not None and href.startswith("https://wa.me/15550783881?text=")
    assert frame.locator("img.wa-qr").is_visible()
    page.screenshot(path=str(screenshot_dir / "widget-continue-on-whatsapp.png"))
    context.close()

    # The customer sends the prefilled text from WhatsApp: the web chat continues there.
    text = parse_qs(urlparse(href).query)["text"][0]
    _post_signed(
        server,
        account["webhook_url"],
        wa_text(PHONE_ID, "4917099999", "wamid.MOVE1", int(time.time()), text),
    )
    conv_id = _conversation_of(admin, "4917099999")
    bodies = [m["body"] for m in admin.get(f"/api/conversations/{conv_id}/messages").json()]
    assert bodies[0] == "Can I reserve the blue jacket?" and bodies[-1] == text
