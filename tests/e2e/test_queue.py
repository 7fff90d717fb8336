"""Waiting, never in silence: the visitor's place in the queue and the ways out when nobody
can help soon (message for email, callback, bot), in the widget in Chromium.

The demo server is shared with the other e2e tests: each test puts back the agents' status and
chat limits it changed and resolves the conversations it opened.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.e2e.test_radar import Admin
from tests.e2e.test_widget import (
    _bodies,
    _frame,
    _open_page,
    _open_panel,
    _send_from_visitor,
    _wait_body,
    shop_url,
)
from tests.support.actors import Visitor
from tests.support.server import ServerProcess

JOINED = "An agent has joined the chat."


@pytest.fixture
def admin(demo_server: ServerProcess) -> Iterator[Admin]:
    side = Admin(demo_server.url)
    try:
        yield side
    finally:
        side.restore()
        side.close()


def _site_key(server: ServerProcess) -> str:
    shop = httpx.get(shop_url(server)).text
    return re.search(r'data-site="([^"]+)"', shop).group(1)  # type: ignore[union-attr]


def _conversation_of(admin: Admin, body: str) -> int:
    conv: int = admin.wait_message(body)["conversation_id"]
    admin.conversations.append(conv)
    return conv


def _newest_conversation(admin: Admin) -> dict[str, Any]:
    convs = admin.api("GET", "/api/conversations", params={"limit": 20})
    newest: dict[str, Any] = max(convs, key=lambda c: c["id"])
    admin.conversations.append(newest["id"])
    return newest


def test_waiting_visitor_sees_position_and_is_connected(
    demo_server: ServerProcess, browser: Any, admin: Admin, screenshot_dir: Path
) -> None:
    admin.connect()
    anna = admin.agent.id
    for agent_id in admin.saved:  # only anna (Sales) answers; she has one chat slot left
        if agent_id != anna:
            admin.set_agent(agent_id, status="offline")
    admin.set_agent(anna, status="online")
    admin.set_agent(anna, max_chats=admin.me()["load"] + 1)

    # Another visitor takes anna's last slot.
    other = admin.run(Visitor.arrive(demo_server.url, _site_key(demo_server), demo_server.url))
    client = other.client()
    admin.run(client.start())
    try:
        admin.run(client.send("I need help with my order"))
        busy = _conversation_of(admin, "I need help with my order")
        admin.wait(
            lambda f: (
                f["type"] == "conversation"
                and f["conversation"]["id"] == busy
                and f["conversation"]["assignee_id"] == anna
            )
        )

        context, page, dialogs = _open_page(browser, viewport={"width": 1280, "height": 800})
        page.goto(shop_url(demo_server))
        frame = _open_panel(page)
        _send_from_visitor(page, "Is anyone there?")
        conv = _conversation_of(admin, "Is anyone there?")
        notice = frame.locator(".queue")
        notice.wait_for()
        # Position 1 and an estimate (anna is busy, so there is one; never "null").
        assert re.fullmatch(
            r"You are number 1 in the queue, "
            r"(about \d+ min\.|someone will be with you in a moment\.)",
            notice.inner_text(),
        ), notice.inner_text()
        page.screenshot(path=str(screenshot_dir / "queue-position.png"))

        # Anna finishes the other chat: the visitor is connected at once.
        admin.resolve(busy)
        admin.wait(
            lambda f: (
                f["type"] == "conversation"
                and f["conversation"]["id"] == conv
                and f["conversation"]["assignee_id"] == anna
            )
        )
        notice.wait_for(state="detached")
        _wait_body(page, JOINED)
        assert frame.locator(".overflow").count() == 0
        admin.send(conv, "Hi, Anna here. Sorry for the wait!")
        _wait_body(page, "Hi, Anna here. Sorry for the wait!")
        assert _bodies(page) == ["Is anyone there?", JOINED, "Hi, Anna here. Sorry for the wait!"]
        assert dialogs == []
        page.screenshot(path=str(screenshot_dir / "queue-connected.png"))
        context.close()
    finally:
        admin.run(client.stop())


def test_nobody_online_offers_other_ways_and_a_message_becomes_email(
    demo_server: ServerProcess, browser: Any, admin: Admin, screenshot_dir: Path
) -> None:
    for agent_id in admin.saved:
        admin.set_agent(agent_id, status="offline")
    context, page, dialogs = _open_page(browser, viewport={"width": 1280, "height": 800})
    page.goto(shop_url(demo_server, "/shop/contact"))
    frame = _open_panel(page)
    frame.get_by_text("Nobody can answer right now", exact=False).first.wait_for()
    _send_from_visitor(page, "Does the kettle work on induction?")  # no email given yet
    options = frame.get_by_role("group")
    options.wait_for()
    assert options.get_by_text("Nobody can answer right now.").is_visible()
    for name in ("Keep waiting", "Leave a message", "Request a callback", "Talk to our bot"):
        assert options.get_by_role("button", name=name).is_visible()
    page.screenshot(path=str(screenshot_dir / "queue-overflow-options.png"))

    options.get_by_role("button", name="Leave a message").click()
    options.get_by_label("Your email (for our reply)").fill("petra@example.com")
    options.get_by_label("Anything to add? (optional)").fill("Evenings are best.")
    options.get_by_role("button", name="Send message").click()
    confirmation = "Message left; we answer by email to petra@example.com."
    _wait_body(page, confirmation)
    options.wait_for(state="detached")
    assert _bodies(page) == [
        "Does the kettle work on induction?",
        "Evenings are best.",
        confirmation,
    ]
    mine = _newest_conversation(admin)
    assert mine["channel"] == "email" and mine["status"] == "pending"
    # answered by email now: no chat to end, neither here nor on the next page
    end = frame.get_by_role("button", name="End chat")
    assert end.count() == 0
    page.goto(shop_url(demo_server, "/shop/"))
    frame = _frame(page)
    frame.locator(".panel").wait_for()  # open in this tab before the navigation: open again
    _wait_body(page, confirmation)
    assert frame.get_by_role("button", name="End chat").count() == 0
    assert dialogs == []
    page.screenshot(path=str(screenshot_dir / "queue-message-left.png"))
    context.close()


def test_callback_request_is_confirmed(
    demo_server: ServerProcess, browser: Any, admin: Admin, screenshot_dir: Path
) -> None:
    for agent_id in admin.saved:
        admin.set_agent(agent_id, status="offline")
    context, page, _ = _open_page(browser, viewport={"width": 1280, "height": 800})
    page.goto(shop_url(demo_server))
    frame = _open_panel(page)
    _send_from_visitor(page, "Please call me")
    options = frame.get_by_role("group")
    options.get_by_role("button", name="Request a callback").click()
    # a number nobody can call: refused, and the form comes back with it to correct
    options.get_by_label("Your phone number").fill("12")
    options.get_by_role("button", name="Request callback").click()
    frame.get_by_role("alert").filter(has_text="does not look like a phone number").wait_for()
    assert options.get_by_label("Your phone number").input_value() == "12"
    options.get_by_label("Your phone number").fill("+49 40 123456")
    options.get_by_label("When suits you? (optional)").fill("after 6 pm")
    options.get_by_role("button", name="Request callback").click()
    _wait_body(page, "Callback requested: +49 40 123456, after 6 pm.")
    assert _newest_conversation(admin)["status"] == "pending"
    page.screenshot(path=str(screenshot_dir / "queue-callback.png"))
    context.close()
