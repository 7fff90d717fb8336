"""The visitor ends the chat in the widget, in Chromium against the demo: "End chat" in the
panel's header with a confirmation, the agent's console shows "The visitor ended the chat" at
once, the widget offers the rating and the transcript by email (prefilled with the address the
product knows, editable) and a new chat; another tab of the visitor shows the end too. Then on a
phone-sized screen in German: Escape keeps the chat, the end works the same."""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from pathlib import Path
from typing import Any

from tests.e2e.test_console import _context, login, open_conversation
from tests.e2e.test_widget import (
    AgentSide,
    _frame,
    _open_page,
    _open_panel,
    _send_from_visitor,
    _wait_body,
    agent,
    shop_url,
)
from tests.support.server import ServerProcess

__all__ = ["agent"]  # the fixture, imported for use here


def _identify(page: Any, side: AgentSide, email: str) -> None:
    """The shop tells the widget who its logged-in customer is (signed with the site's secret)."""
    site = next(s for s in side.api("GET", "/api/sites") if s["name"] == "Demo shop")
    user_id = f"crm-{uuid.uuid4().hex[:8]}"
    digest = hmac.new(site["identity_secret"].encode(), user_id.encode(), hashlib.sha256)
    page.evaluate(
        "([id, hash, email]) => window.Tresen.identify({id, hash, email, name: 'Kim Berg'})",
        [user_id, digest.hexdigest(), email],
    )


def test_visitor_ends_the_chat_across_pages_and_tabs(
    demo_server: ServerProcess, browser: Any, agent: AgentSide, screenshot_dir: Path
) -> None:
    email = f"kim.{uuid.uuid4().hex[:6]}@example.com"
    context, page, dialogs = _open_page(browser, viewport={"width": 1280, "height": 800})
    page.goto(shop_url(demo_server))
    _identify(page, agent, email)
    frame = _open_panel(page)
    # No conversation yet: nothing to end.
    assert frame.get_by_role("button", name="End chat").count() == 0
    _send_from_visitor(page, "Can I change my delivery address?")
    first = agent.wait_message("Can I change my delivery address?")
    conv = first["conversation_id"]
    agent.send(conv, "Yes, until the parcel ships. Which order is it?")
    _wait_body(page, "Yes, until the parcel ships. Which order is it?")

    console_ctx, console = _context(
        browser, demo_server.url, dict(agent.agent.http.cookies.items())
    )
    login(console)
    pane = open_conversation(console, conv)

    # A second page of the shop, and a second tab: the chat goes on in both.
    page.get_by_role("link", name="Nord table lamp").first.click()
    page.wait_for_url(re.compile(r"/shop/products/nord-lamp"))
    frame = _frame(page)
    _wait_body(page, "Yes, until the parcel ships. Which order is it?")
    tab = context.new_page()
    tab.goto(shop_url(demo_server, "/shop/contact"))
    other = _open_panel(tab)
    _wait_body(tab, "Yes, until the parcel ships. Which order is it?")

    # "End chat" asks first; "Cancel" keeps the chat.
    frame.get_by_role("button", name="End chat").click()
    ask = frame.get_by_role("alertdialog")
    ask.get_by_text("End this chat?").wait_for()
    ask.get_by_role("button", name="Cancel").click()
    ask.wait_for(state="detached")
    assert frame.locator(".ended").count() == 0
    frame.get_by_role("button", name="End chat").click()
    page.screenshot(path=str(screenshot_dir / "widget-end-chat-confirm.png"))
    frame.get_by_role("alertdialog").get_by_role("button", name="End chat").click()

    ended = frame.locator(".ended")
    ended.get_by_text("You ended the chat.").wait_for()
    assert frame.get_by_role("button", name="End chat").count() == 0
    # The agent reads it in the chat at once; the chat is resolved, off the agent's load.
    pane.locator(".msg.system", has_text="The visitor ended the chat.").wait_for()
    console.screenshot(path=str(screenshot_dir / "console-visitor-ended-chat.png"))
    stored = agent.api("GET", f"/api/conversations/{conv}")
    assert stored["status"] == "resolved" and stored["meta"]["ended"]["by"] == "visitor"
    # The other tab shows the end too.
    other.locator(".ended").get_by_text("You ended the chat.").wait_for()

    # The rating.
    ended.get_by_role("button", name="4 of 5 stars").click()
    ended.get_by_label("Comment (optional)").fill("Quick answer, thanks")
    ended.get_by_role("button", name="Send rating").click()
    ended.get_by_text("Thank you for your rating!").wait_for()
    agent.wait(
        lambda f: f["type"] == "conversation" and bool(f["conversation"]["meta"].get("rating"))
    )
    assert agent.api("GET", f"/api/conversations/{conv}")["meta"]["rating"]["score"] == 4

    # The transcript by email: the address the shop identified the customer with, editable.
    ended.get_by_role("button", name="Email me the transcript").click()
    address = ended.get_by_label("Your email address")
    _frame_value(page, email)
    address.fill("kim.private@example.org")
    assert address.input_value() == "kim.private@example.org"
    page.screenshot(path=str(screenshot_dir / "widget-ended-by-visitor.png"))

    # A new chat: the next message opens a new conversation.
    ended.get_by_role("button", name="Start a new chat").click()
    ended.wait_for(state="detached")
    _send_from_visitor(page, "One more question about the lamp")
    again = agent.wait_message("One more question about the lamp")
    assert again["conversation_id"] != conv
    agent.api(
        "PATCH", f"/api/conversations/{again['conversation_id']}", json={"status": "resolved"}
    )
    assert dialogs == []
    console_ctx.close()
    context.close()


def _frame_value(page: Any, want: str) -> None:
    """Wait until the transcript form's address field holds ``want`` (it is fetched)."""
    from tests.e2e.test_widget import _wait_in_frame

    _wait_in_frame(
        page,
        "w => { const i = document.querySelector('.ended input[type=email]'); "
        "return i !== null && i.value === w; }",
        want,
    )


def test_end_chat_on_a_phone_in_german(
    demo_server: ServerProcess, browser: Any, agent: AgentSide, screenshot_dir: Path
) -> None:
    context, page, dialogs = _open_page(
        browser, viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True
    )

    # The shop's page in German (its <html lang>, which the widget follows).
    page.add_init_script(
        """new MutationObserver((_, seen) => {
            if (!document.documentElement) return;
            document.documentElement.lang = "de";
            seen.disconnect();
        }).observe(document, {childList: true});"""
    )
    page.goto(shop_url(demo_server))
    frame = _frame(page)
    frame.get_by_role("button", name="Chat öffnen").tap()
    frame.locator(".panel").wait_for()
    _send_from_visitor(page, "Gibt es die Lampe auch in Grün?")
    conv = agent.wait_message("Gibt es die Lampe auch in Grün?")["conversation_id"]
    agent.send(conv, "Leider nur in Weiß und Schwarz.")
    _wait_body(page, "Leider nur in Weiß und Schwarz.")

    end = frame.get_by_role("button", name="Chat beenden")
    end.tap()
    ask = frame.get_by_role("alertdialog")
    ask.get_by_text("Diesen Chat beenden?").wait_for()
    page.keyboard.press("Escape")  # keeps the chat (and the panel)
    ask.wait_for(state="detached")
    assert frame.locator(".panel").count() == 1
    end.tap()
    box = frame.get_by_role("alertdialog").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360
    page.screenshot(path=str(screenshot_dir / "widget-end-chat-phone-de.png"))
    frame.get_by_role("alertdialog").get_by_role("button", name="Chat beenden").tap()
    ended = frame.locator(".ended")
    ended.get_by_text("Sie haben den Chat beendet.").wait_for()
    ended.get_by_role("button", name="Neuen Chat beginnen").wait_for()
    stored = agent.api("GET", f"/api/conversations/{conv}")
    assert stored["status"] == "resolved" and stored["meta"]["ended"]["by"] == "visitor"
    messages = agent.api("GET", f"/api/conversations/{conv}/messages")
    assert [m["body"] for m in messages if m["author"]["kind"] == "system"][-1] == (
        "Der Besucher hat den Chat beendet."
    )
    assert dialogs == []
    context.close()
