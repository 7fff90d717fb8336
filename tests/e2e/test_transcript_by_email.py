"""The transcript of a chat by email, in Chromium against the demo: a visitor chats, the agent
answers and ends the chat, the visitor asks for the transcript in the widget, and the mail
arrives in the visitor's Dovecot mailbox (through an aiosmtpd MTA) with the messages; the
console shows it sent on the note it left in the chat."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

from tests.e2e.test_console import _context, login, open_conversation
from tests.e2e.test_email import CUSTOMER, _mailbox, _smtp_to, _wait_mails, admin, mail
from tests.e2e.test_queue import _newest_conversation
from tests.e2e.test_radar import Admin
from tests.e2e.test_widget import (
    _open_page,
    _open_panel,
    _send_from_visitor,
    _wait_body,
    shop_url,
)
from tests.support.dovecot import DovecotServer
from tests.support.mail import DovecotMTA
from tests.support.server import ServerProcess

__all__ = ["admin", "mail"]  # the fixtures, shared with the email e2e


def _newest_id(admin: Admin) -> int:
    convs = admin.api("GET", "/api/conversations", params={"limit": 20})
    return int(_newest_conversation(admin)["id"]) if convs else 0


def _conversation_started(admin: Admin, before: int) -> int:
    """The visitor's new conversation (newer than ``before``), once the server has it."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if (newest := _newest_id(admin)) > before:
            return newest
        time.sleep(0.1)
    raise AssertionError("the visitor's chat never reached the server")


def test_visitor_asks_for_the_transcript_at_the_end_and_it_arrives(
    demo_server: ServerProcess,
    browser: Any,
    admin: Admin,
    mail: tuple[DovecotServer, DovecotMTA],
    screenshot_dir: Path,
) -> None:
    dovecot, mta = mail
    site_id = _smtp_to(admin, mta)
    try:
        admin.set_agent(admin.agent.id, status="online")
        before = _newest_id(admin)
        context, page, _ = _open_page(browser, viewport={"width": 1280, "height": 800})
        page.goto(shop_url(demo_server, "/shop/contact"))
        frame = _open_panel(page)
        _send_from_visitor(page, "Do you deliver on Saturdays?")
        conv_id = _conversation_started(admin, before)
        admin.conversations.append(conv_id)
        answer = "Yes, <b>until noon</b> & for free."
        admin.api(
            "POST",
            f"/api/conversations/{conv_id}/messages",
            json={"body": answer, "client_msg_id": uuid.uuid4().hex},
        )
        _wait_body(page, answer)
        console_ctx, console = _context(
            browser, demo_server.url, dict(admin.agent.http.cookies.items())
        )
        login(console)
        pane = open_conversation(console, conv_id)
        pane.locator("[data-action=close]").click()  # the agent ends the chat

        ended = frame.locator(".ended")
        ended.get_by_text("This chat has ended.").wait_for()
        ended.get_by_role("button", name="Email me the transcript").click()
        ended.get_by_label("Your email address").fill(CUSTOMER)
        ended.get_by_role("button", name="Send transcript").click()
        ended.get_by_text("We are sending the transcript to p***@example.com.").wait_for()
        page.screenshot(path=str(screenshot_dir / "transcript-asked-in-widget.png"))
        context.close()

        [got] = _wait_mails(dovecot, CUSTOMER, 1)
        assert got["Subject"].startswith("Your chat with ")
        text = got.get_body(("plain",)).get_content()
        assert "Do you deliver on Saturdays?" in text and answer in text
        html = got.get_body(("html",)).get_content()
        assert "&lt;b&gt;until noon&lt;/b&gt; &amp; for free." in html
        assert got["Message-ID"].startswith(f"<tresen.{conv_id}.")

        note = pane.locator(".msg.note", has_text="Transcript by email to p***@example.com")
        note.locator("[data-delivery=sent]").wait_for()
        console.screenshot(path=str(screenshot_dir / "transcript-sent-in-console.png"))
        console_ctx.close()
    finally:
        _mailbox(admin, site_id, smtp_host="", imap_host="")
