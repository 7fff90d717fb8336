"""Web Radar as the visitor meets it: invitations and message offers in the widget, driven by
rules created through the admin API and by what the loader reports (pages, events).

The demo server is shared with the other e2e tests: every test puts back what it changed
(rules, agents' status and chat limits) and resolves the conversations it opened.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.e2e.test_widget import (
    AgentSide,
    _bodies,
    _box,
    _frame,
    _open_page,
    _send_from_visitor,
    _wait_body,
    shop_url,
)
from tests.support.server import ServerProcess

INVITE_TEXT = "Questions about this product? I am happy to help."
LINGER = {
    "name": "e2e: lingering on a product, Sales free",
    "priority": 1,
    "enabled": True,
    "when": {
        "all": [
            {"url": {"glob": "/shop/products/*"}},
            {"time_on_page": {"gte": 5}},
            {"agent_free": {"skill": "Sales"}},
        ]
    },
    "action": {
        "type": "invite",
        "skill": "Sales",
        "agent_name": "Anna",
        "text": {
            "en": INVITE_TEXT,
            "de": "Fragen zu diesem Produkt? Ich helfe gern.",
            "da": "Spørgsmål om produktet? Jeg hjælper gerne.",
        },
    },
}
CODE_TEXT = "Sorry, SUMMER has ended. Use WINTER15 for 15% off instead."
PROMO = {
    "name": "e2e: failing promo code",
    "priority": 1,
    "enabled": True,
    "when": {
        "event": {
            "name": "checkout_code_failed",
            "within": 60,
            "props": {"code": {"op": "eq", "value": "SUMMER"}},
        }
    },
    "action": {
        "type": "message",
        "text": {
            "en": CODE_TEXT,
            "de": "SUMMER ist abgelaufen. Mit WINTER15 sparen Sie 15 %.",
            "da": "SUMMER er udløbet. Brug WINTER15 og spar 15 %.",
        },
    },
}


class Admin(AgentSide):
    """Anna (admin, Sales) with her console socket open; remembers what it changes."""

    def __init__(self, base_url: str) -> None:
        super().__init__(base_url)
        self.rules: list[int] = []
        self.conversations: list[int] = []
        overview = self.api("GET", "/api/routing/overview")
        self.saved = {a["id"]: a for a in overview["agents"]}
        # Chats other tests left waiting would take the free slots these tests count on (and
        # hold back invitations): they are long over, so close them.
        for row in overview["waiting"]:
            self.resolve(row["conversation_id"])

    def me(self) -> dict[str, Any]:
        agents = self.api("GET", "/api/routing/overview")["agents"]
        return next(a for a in agents if a["id"] == self.agent.id)  # type: ignore[no-any-return]

    def set_agent(self, agent_id: int, **changes: Any) -> None:
        self.api("PATCH", f"/api/agents/{agent_id}", json=changes)

    def add_rule(self, rule: dict[str, Any]) -> int:
        rule_id: int = self.api("POST", "/api/radar/rules", json={"rule": rule})["id"]
        self.rules.append(rule_id)
        return rule_id

    def resolve(self, conversation_id: int) -> None:
        self.api("PATCH", f"/api/conversations/{conversation_id}", json={"status": "resolved"})

    def restore(self) -> None:
        for rule_id in self.rules:
            self.api("DELETE", f"/api/radar/rules/{rule_id}")
        for conv in self.conversations:
            try:
                self.resolve(conv)
            except Exception:  # already resolved by the test
                pass
        for agent_id, a in self.saved.items():
            self.set_agent(agent_id, status=a["status"], max_chats=a["max_chats"])


@pytest.fixture
def admin(demo_server: ServerProcess) -> Iterator[Admin]:
    side = Admin(demo_server.url)
    side.connect()
    try:
        yield side
    finally:
        side.restore()
        side.close()


def _free_sales(admin: Admin, slots: int) -> None:
    """Anna online with exactly ``slots`` free chat slots, whatever earlier tests left open."""
    admin.set_agent(admin.agent.id, status="online")
    load = admin.me()["load"]
    admin.set_agent(admin.agent.id, max_chats=load + slots)
    # no wait: the agent change's event refreshes the radar's capacity view at once


def test_lingering_on_a_product_brings_a_gentle_invitation(
    demo_server: ServerProcess, browser: Any, admin: Admin, screenshot_dir: Path
) -> None:
    _free_sales(admin, 2)
    admin.add_rule(LINGER)
    context, page, dialogs = _open_page(browser, viewport={"width": 1280, "height": 800})
    page.goto(shop_url(demo_server, "/shop/products/nord-lamp"))
    frame = _frame(page)
    frame.get_by_role("button", name=re.compile("Open chat")).wait_for()
    started = time.monotonic()
    bubble = frame.get_by_role("region", name="Invitation to chat")
    bubble.wait_for(timeout=20_000)
    assert time.monotonic() - started >= 3  # the rule waits for 5 s on the page
    assert bubble.get_by_text(INVITE_TEXT).is_visible()
    assert bubble.get_by_text("Anna").is_visible()
    # Gentle: the panel stays closed, the frame only grows to hold the bubble.
    assert frame.locator(".panel").count() == 0
    box = _box(page)
    assert box["width"] <= 340 and box["height"] <= 264
    page.screenshot(path=str(screenshot_dir / "radar-invitation.png"))
    # What the loader reported about the page, as agents see it on the radar.
    live = admin.api("GET", "/api/radar/visitors")
    me = next(v for v in live if (v["url"] or "").endswith("/shop/products/nord-lamp"))
    assert me["device"] == "desktop" and me["language"] == "en"
    assert me["title"] == "Nord table lamp · Nordlys Home"

    bubble.get_by_role("button", name="Chat now").click()
    frame.locator(".panel").wait_for()
    _wait_body(page, INVITE_TEXT)  # the invitation opens the conversation
    opening = admin.wait_message(INVITE_TEXT)
    conv = opening["conversation_id"]
    admin.conversations.append(conv)
    admin.wait(
        lambda f: (
            f["type"] == "conversation"
            and f["conversation"]["id"] == conv
            and f["conversation"]["assignee_id"] == admin.agent.id
        )
    )
    assert admin.api("GET", f"/api/conversations/{conv}")["skill"] == "Sales"
    admin.send(conv, "Hi, Anna here. The Nord lamp dims from 10 to 100 percent.")
    _wait_body(page, "Hi, Anna here. The Nord lamp dims from 10 to 100 percent.")
    frame.locator(".head h1", has_text="Anna").wait_for()
    _send_from_visitor(page, "Great, thank you!")
    admin.wait_message("Great, thank you!")
    assert _bodies(page)[0] == INVITE_TEXT
    assert frame.get_by_role("region", name="Invitation to chat").count() == 0
    assert dialogs == []
    page.screenshot(path=str(screenshot_dir / "radar-invitation-accepted.png"))
    context.close()


def test_phone_gets_the_quiet_invitation_and_can_dismiss_it(
    demo_server: ServerProcess, browser: Any, admin: Admin, screenshot_dir: Path
) -> None:
    _free_sales(admin, 1)
    admin.add_rule({**LINGER, "action": {**LINGER["action"], "auto_open": True}})  # type: ignore[dict-item]
    context, page, _ = _open_page(
        browser, viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True
    )
    page.goto(shop_url(demo_server, "/shop/products/fjord-kettle"))
    frame = _frame(page)
    chip = frame.get_by_role("region", name="Invitation to chat")
    chip.wait_for(timeout=20_000)
    # Quiet: a one-line chip and a dot beside the launcher, never the panel (even with
    # auto_open), nothing over the page's content.
    assert frame.locator(".chip").count() == 1 and frame.locator(".invite").count() == 0
    assert frame.locator(".launcher .dot").count() == 1
    assert frame.locator(".panel").count() == 0
    box = _box(page)
    assert box["height"] <= 76 and box["x"] >= 12 and box["x"] + box["width"] <= 360
    page.screenshot(path=str(screenshot_dir / "radar-invitation-phone.png"))
    frame.get_by_role("button", name="No thanks").tap()
    chip.wait_for(state="detached")
    assert frame.locator(".launcher .dot").count() == 0
    assert _box(page)["width"] < 100
    context.close()


def test_no_invitation_while_no_sales_agent_is_free(
    demo_server: ServerProcess, browser: Any, admin: Admin
) -> None:
    admin.set_agent(admin.agent.id, status="away")  # its event refreshes the radar at once
    admin.add_rule(LINGER)
    context, page, _ = _open_page(browser, viewport={"width": 1280, "height": 800})
    page.goto(shop_url(demo_server, "/shop/products/nord-lamp"))
    frame = _frame(page)
    frame.get_by_role("button", name="Open chat").wait_for()
    page.wait_for_timeout(9000)  # well past the rule's 5 s
    assert frame.locator(".invite, .chip").count() == 0
    assert frame.locator(".panel").count() == 0
    context.close()


def test_failing_promo_code_brings_a_working_code(
    demo_server: ServerProcess, browser: Any, admin: Admin, screenshot_dir: Path
) -> None:
    admin.add_rule(PROMO)
    context, page, dialogs = _open_page(browser, viewport={"width": 1280, "height": 800})
    page.goto(shop_url(demo_server, "/shop/checkout"))
    frame = _frame(page)
    frame.get_by_role("button", name="Open chat").wait_for()
    page.fill("#promo-code", "SUMMER")
    page.get_by_role("button", name="Apply").click()
    page.get_by_text("could not be applied", exact=False).wait_for()
    # The message waits behind the launcher with an unread badge; nothing pops open.
    launcher = frame.get_by_role("button", name="Open chat, 1 unread message")
    launcher.wait_for()
    assert frame.locator(".panel").count() == 0
    page.screenshot(path=str(screenshot_dir / "radar-promo-badge.png"))
    launcher.click()
    frame.locator(".panel").wait_for()
    _wait_body(page, CODE_TEXT)
    assert frame.locator(".badge").count() == 0
    assert dialogs == []
    page.screenshot(path=str(screenshot_dir / "radar-promo-code.png"))
    # It stays in the log on the next page.
    page.goto(shop_url(demo_server, "/shop/cart"))
    _wait_body(page, CODE_TEXT)
    context.close()


def test_dwelling_in_the_checkout_form_brings_an_invitation(
    demo_server: ServerProcess, browser: Any, admin: Admin, screenshot_dir: Path
) -> None:
    _free_sales(admin, 1)
    text = "Need a hand with your order?"
    admin.add_rule(
        {
            "name": "e2e: stuck in the checkout form",
            "priority": 1,
            "when": {
                "all": [
                    {"form_dwell": {"form": "checkout", "gte": 3}},
                    {"agent_free": {"skill": "Sales"}},
                ]
            },
            "action": {"type": "invite", "skill": "Sales", "text": {"en": text}},
        }
    )
    context, page, _ = _open_page(browser, viewport={"width": 1280, "height": 800})
    page.goto(shop_url(demo_server, "/shop/checkout"))
    frame = _frame(page)
    frame.get_by_role("button", name="Open chat").wait_for()
    page.wait_for_timeout(4000)  # on the page, but not in the form: nothing yet
    assert frame.locator(".invite").count() == 0
    page.get_by_label("Name").click()  # focus in the form (its values are never sent)
    page.keyboard.type("Petra")
    page.get_by_label("Email").click()  # moving between fields stays in the form
    bubble = frame.get_by_role("region", name="Invitation to chat")
    bubble.wait_for(timeout=10_000)
    assert bubble.get_by_text(text).is_visible()
    assert frame.locator(".panel").count() == 0
    page.screenshot(path=str(screenshot_dir / "radar-form-invitation.png"))
    bubble.get_by_role("button", name="No thanks").click()
    bubble.wait_for(state="detached")
    assert frame.locator(".panel").count() == 0 and _box(page)["width"] < 100
    context.close()


def test_an_invitation_reaches_a_frame_that_has_not_painted(
    demo_server: ServerProcess, browser: Any, admin: Admin
) -> None:
    """The chat UI is fetched when the offer comes; its Chat gives out the held offer only once
    the panel's App listens, which Preact sets up after a paint (or a timer): in a frame with no
    animation frames (as in a tab that is not painted), the session request answered first."""
    _free_sales(admin, 1)
    text = "That code has ended; shall I find you one that works?"
    admin.add_rule(
        {
            **PROMO,
            "name": "e2e: failing promo code, an invitation",
            "action": {"type": "invite", "skill": "Sales", "text": {"en": text}},
        }
    )
    context, page, _ = _open_page(browser, viewport={"width": 1280, "height": 800})
    context.add_init_script(
        "if (location.pathname.startsWith('/widget/frame')) {"
        " window.requestAnimationFrame = () => 0; window.cancelAnimationFrame = () => {}; }"
    )
    page.goto(shop_url(demo_server, "/shop/checkout"))
    frame = _frame(page)
    frame.get_by_role("button", name="Open chat").wait_for()
    assert frame.locator(".panel").count() == 0  # only the core's launcher so far
    page.fill("#promo-code", "SUMMER")
    page.get_by_role("button", name="Apply").click()
    bubble = frame.get_by_role("region", name="Invitation to chat")
    bubble.wait_for(timeout=10_000)
    assert bubble.get_by_text(text).is_visible()
    bubble.get_by_role("button", name="No thanks").click()
    bubble.wait_for(state="detached")
    context.close()
