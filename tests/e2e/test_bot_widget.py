"""The FAQ bot in the widget, in Chromium, on the demo shop: nobody is online, the visitor
chooses the bot, gets the demo FAQ's answer, and then asks for a person and joins the queue;
the agent gets a summary note.

The demo server is shared with the other e2e tests: the test puts back the agents' status and
chat limits it changed and resolves the conversations it opened.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.e2e.test_queue import _conversation_of, _site_key
from tests.e2e.test_radar import Admin
from tests.e2e.test_widget import _open_page, _open_panel, _send_from_visitor, _wait_body, shop_url
from tests.support.actors import Visitor
from tests.support.server import ServerProcess

QUESTION = "Wie lange dauert der Versand?"
ANSWER = "Der Versand dauert 2 bis 3 Werktage; ab 50 € liefern wir versandkostenfrei."
HANDOVER = (
    "Ich verbinde Sie mit einem Menschen. Er sieht alles, was Sie geschrieben haben. "
    "Sie müssen nichts wiederholen."
)


@pytest.fixture
def admin(demo_server: ServerProcess) -> Iterator[Admin]:
    side = Admin(demo_server.url)
    side.connect()
    try:
        yield side
    finally:
        side.restore()
        side.close()


def test_bot_answers_then_hands_over_to_the_queue(
    demo_server: ServerProcess, browser: Any, admin: Admin, screenshot_dir: Path
) -> None:
    for agent_id in admin.saved:
        admin.set_agent(agent_id, status="offline")
    context, page, dialogs = _open_page(browser, viewport={"width": 1280, "height": 800})
    page.goto(shop_url(demo_server))
    frame = _open_panel(page)
    _send_from_visitor(page, QUESTION)
    conv = _conversation_of(admin, QUESTION)
    options = frame.get_by_role("group")
    options.get_by_role("button", name="Talk to our bot").click()
    _wait_body(page, ANSWER)
    assert frame.locator(".msg.bot .by").first.inner_text() == "Tresen bot"
    person = frame.get_by_role("button", name="Talk to a person")
    assert person.is_visible()
    page.screenshot(path=str(screenshot_dir / "bot-answer.png"))

    # Anna comes online, but another visitor takes her only slot: a handed-over visitor waits.
    anna = admin.agent.id
    admin.set_agent(anna, status="online")
    admin.set_agent(anna, max_chats=admin.me()["load"] + 1)
    other = admin.run(Visitor.arrive(demo_server.url, _site_key(demo_server), demo_server.url))
    client = other.client()
    admin.run(client.start())
    try:
        admin.run(client.send("Where is my parcel?"))
        busy = _conversation_of(admin, "Where is my parcel?")
        admin.wait(
            lambda f: (
                f["type"] == "conversation"
                and f["conversation"]["id"] == busy
                and f["conversation"]["assignee_id"] == anna
            )
        )
        person.click()
        _wait_body(page, HANDOVER)
        notice = frame.locator(".queue")
        notice.wait_for()
        assert re.match(r"You are number 1 in the queue", notice.inner_text()), notice.inner_text()
        person.wait_for(state="detached")
        note = admin.wait(
            lambda f: f["type"] == "message" and f["conversation_id"] == conv and f["internal"]
        )
        assert note["body"].startswith('Handed over by the bot: the visitor pressed "Talk to')
        assert f"- {QUESTION}" in note["body"] and f"- {ANSWER}" in note["body"]
        assert dialogs == []
        page.screenshot(path=str(screenshot_dir / "bot-handover-queue.png"))
        context.close()
    finally:
        admin.run(client.stop())
