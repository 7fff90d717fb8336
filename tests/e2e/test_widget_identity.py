"""The widget's topic choice routes the chat; Tresen.identify recognises a verified customer."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.e2e.test_widget import (
    AgentSide,
    _frame,
    _open_page,
    _open_panel,
    _send_from_visitor,
    agent,
    shop_url,
)
from tests.support.server import ServerProcess

__all__ = ["agent"]  # the fixture, imported for use here


def _newest_conversation(side: AgentSide, body: str) -> dict[str, Any]:
    """The conversation that starts with ``body``: the widget shows a message at once (local
    echo), so wait for the server to have stored it."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        for conv in side.api("GET", "/api/conversations?limit=20"):
            msgs = side.api("GET", f"/api/conversations/{conv['id']}/messages?limit=1&after_seq=0")
            if msgs and msgs[0]["body"] == body:
                return dict(conv)
        time.sleep(0.2)
    raise AssertionError(f"no conversation starts with {body!r}")


def _conversation_holding(side: AgentSide, body: str) -> dict[str, Any]:
    """The conversation with a message ``body`` (stored: wait for the server to have it)."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        for conv in side.api("GET", "/api/conversations?limit=20"):
            msgs = side.api("GET", f"/api/conversations/{conv['id']}/messages")
            if any(m["body"] == body for m in msgs):
                return dict(conv)
        time.sleep(0.2)
    raise AssertionError(f"no conversation holds {body!r}")


@pytest.fixture
def visitor_page(browser: Any) -> Iterator[Any]:
    context, page, dialogs = _open_page(browser)
    yield page
    assert dialogs == []
    context.close()


def test_topic_choice_routes_the_chat(
    demo_server: ServerProcess, agent: AgentSide, visitor_page: Any, screenshot_dir: Path
) -> None:
    page = visitor_page
    page.goto(shop_url(demo_server))
    frame = _open_panel(page)
    topic = frame.get_by_label("Topic")
    assert topic.locator("option").all_inner_texts() == ["Anything", "Sales", "Support"]
    topic.select_option("Support")
    _send_from_visitor(page, "Mein Router blinkt rot")
    frame.locator(".log .body", has_text="Mein Router blinkt rot").wait_for()
    frame.get_by_label("Topic").wait_for(state="detached")  # chosen once, for a new chat
    page.screenshot(path=str(screenshot_dir / "widget-topic.png"))
    conv = _newest_conversation(agent, "Mein Router blinkt rot")
    assert conv["skill"] == "Support"
    agent.api("PATCH", f"/api/conversations/{conv['id']}", json={"status": "resolved"})


def test_identify_recognises_a_verified_customer(
    demo_server: ServerProcess, agent: AgentSide, visitor_page: Any
) -> None:
    site = next(s for s in agent.api("GET", "/api/sites") if s["name"] == "Demo shop")
    user_id = "crm-4711"
    digest = hmac.new(site["identity_secret"].encode(), user_id.encode(), hashlib.sha256)
    page = visitor_page
    page.goto(shop_url(demo_server))
    page.evaluate(
        """([id, hash]) => window.Tresen.identify({
            id, hash, name: "Petra Weber", email: "petra@example.de",
            attributes: {segment: "gold"}})""",
        [user_id, digest.hexdigest()],
    )
    _open_panel(page)
    _send_from_visitor(page, "Ich bin Bestandskundin")
    _frame(page).locator(".log .body", has_text="Ich bin Bestandskundin").wait_for()
    conv = _newest_conversation(agent, "Ich bin Bestandskundin")
    visitor = agent.api("GET", f"/api/visitors/{conv['visitor_id']}")
    assert visitor["verified"] is True
    assert (visitor["name"], visitor["email"]) == ("Petra Weber", "petra@example.de")
    assert visitor["attributes"]["segment"] == "gold"
    assert conv["priority"] == 1  # gold customers go first
    agent.api("PATCH", f"/api/conversations/{conv['id']}", json={"status": "resolved"})

    # A forged hash is not trusted: a new, anonymous visitor.
    context = page.context
    other = context.browser.new_context().new_page()
    other.goto(shop_url(demo_server))
    other.evaluate(
        """id => window.Tresen.identify({id, hash: "0".repeat(64), name: "Mallory"})""", user_id
    )
    _open_panel(other)
    _send_from_visitor(other, "Ich bin auch Petra")
    _frame(other).locator(".log .body", has_text="Ich bin auch Petra").wait_for()
    forged = _newest_conversation(agent, "Ich bin auch Petra")
    assert forged["visitor_id"] != conv["visitor_id"]
    assert agent.api("GET", f"/api/visitors/{forged['visitor_id']}")["verified"] is False
    agent.api("PATCH", f"/api/conversations/{forged['id']}", json={"status": "resolved"})
    other.context.close()


def _identify(page: Any, user_id: str, digest: str, name: str) -> None:
    page.evaluate(
        """([id, hash, name]) => window.Tresen.identify({id, hash, name})""",
        [user_id, digest, name],
    )


def test_a_returning_customer_who_opens_the_chat_early_writes_as_themselves(
    demo_server: ServerProcess, agent: AgentSide, browser: Any
) -> None:
    """A known customer on a new device: the page calls ``identify()``, and the visitor opens
    the chat before that session request is answered. The socket the frame opened for the
    anonymous visitor must be replaced by the customer's once the answer names them (before,
    it was not when the chat UI had come meanwhile: the message went out on the anonymous
    visitor's socket, for the customer's conversation, and was never stored)."""
    site = next(s for s in agent.api("GET", "/api/sites") if s["name"] == "Demo shop")
    user_id = "crm-4713"
    digest = hmac.new(site["identity_secret"].encode(), user_id.encode(), hashlib.sha256)
    first_context, first, _ = _open_page(browser)
    first.goto(shop_url(demo_server))
    _identify(first, user_id, digest.hexdigest(), "Jonas Weber")
    _open_panel(first)
    _send_from_visitor(first, "Erster Besuch")
    known = _newest_conversation(agent, "Erster Besuch")
    agent.api("PATCH", f"/api/conversations/{known['id']}", json={"status": "resolved"})
    first_context.close()

    context, page, dialogs = _open_page(browser)
    held: list[Any] = []

    def hold_identity(route: Any) -> None:
        if user_id in (route.request.post_data or ""):
            held.append(route)  # answered once the chat UI is there
        else:
            route.continue_()

    try:
        context.route("**/api/visitor/session", hold_identity)
        with page.expect_request(lambda r: user_id in (r.post_data or "")):
            page.goto(shop_url(demo_server))
            _identify(page, user_id, digest.hexdigest(), "Jonas Weber")
        frame = _open_panel(page)
        assert len(held) == 1
        held[0].continue_()
        _send_from_visitor(page, "Zweiter Besuch")
        frame.locator(".log .msg[data-seq] .body", has_text="Zweiter Besuch").wait_for()
        again = _conversation_holding(agent, "Zweiter Besuch")  # theirs: the last one, or new
        assert again["visitor_id"] == known["visitor_id"]
        agent.api("PATCH", f"/api/conversations/{again['id']}", json={"status": "resolved"})
        assert dialogs == []
    finally:
        context.close()
