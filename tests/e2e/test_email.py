"""The email channel end to end, in Chromium against the demo: a visitor leaves a message, an
agent answers in the console, the answer arrives in the customer's Dovecot mailbox (through an
aiosmtpd MTA) with threading headers, the customer's reply (sent through the MTA to the support
mailbox in Dovecot) is read over IMAP and appears in the same conversation in the console."""

from __future__ import annotations

import re
import smtplib
import time
from collections.abc import Iterator
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from tests.e2e.test_console import _context, login, open_conversation, type_and_enter
from tests.e2e.test_queue import _newest_conversation
from tests.e2e.test_radar import Admin
from tests.e2e.test_widget import (
    _frame,
    _open_page,
    _open_panel,
    _send_from_visitor,
    _wait_body,
    shop_url,
)
from tests.support.dovecot import PASSWORD, DovecotServer
from tests.support.eml import eml
from tests.support.mail import DovecotMTA
from tests.support.server import ServerProcess

SUPPORT, CUSTOMER = "support@shop.example", "petra@example.com"


@pytest.fixture
def mail() -> Iterator[tuple[DovecotServer, DovecotMTA]]:
    dovecot = DovecotServer(users=(SUPPORT, CUSTOMER)).start()
    mta = DovecotMTA(dovecot).start()
    yield dovecot, mta
    mta.stop()
    dovecot.stop()


@pytest.fixture
def admin(demo_server: ServerProcess) -> Iterator[Admin]:
    side = Admin(demo_server.url)
    try:
        yield side
    finally:
        side.restore()
        side.close()


def _mailbox(admin: Admin, site_id: int, **conf: Any) -> None:
    admin.api("PUT", f"/api/sites/{site_id}/mailbox", json={"from_address": SUPPORT, **conf})


def _smtp_to(admin: Admin, mta: DovecotMTA, **conf: Any) -> int:
    """The demo site's mailbox sending through ``mta`` (``conf``: more of it, its IMAP side);
    the site's id."""
    site_id = int(admin.api("GET", "/api/sites")[0]["id"])
    _mailbox(
        admin,
        site_id,
        from_name="Demo Shop",
        smtp_host="127.0.0.1",
        smtp_port=mta.port,
        smtp_security="none",
        **conf,
    )
    return site_id


def _wait_mails(dovecot: DovecotServer, user: str, n: int) -> list[Any]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = dovecot.messages(user)
        if len(found) >= n:
            return [message_from_bytes(m, policy=policy.default) for m in found]
        time.sleep(0.1)
    raise AssertionError(f"{user} has {len(dovecot.messages(user))} mails, expected {n}")


def test_message_left_is_answered_by_email_and_the_reply_comes_back(
    demo_server: ServerProcess,
    browser: Any,
    admin: Admin,
    mail: tuple[DovecotServer, DovecotMTA],
    screenshot_dir: Path,
) -> None:
    dovecot, mta = mail
    site_id = _smtp_to(
        admin,
        mta,
        imap_host="127.0.0.1",
        imap_port=dovecot.port,
        imap_security="none",
        imap_user=SUPPORT,
        imap_password=PASSWORD,
    )
    try:
        for agent_id in admin.saved:
            admin.set_agent(agent_id, status="offline")
        context, page, _ = _open_page(browser, viewport={"width": 1280, "height": 800})
        page.goto(shop_url(demo_server, "/shop/contact"))
        frame = _open_panel(page)
        _send_from_visitor(page, "Can I pay by invoice?")
        options = frame.get_by_role("group")
        options.get_by_role("button", name="Leave a message").click()
        options.get_by_label("Your email (for our reply)").fill(CUSTOMER)
        options.get_by_role("button", name="Send message").click()
        _wait_body(page, f"Message left; we answer by email to {CUSTOMER}.")
        context.close()
        conv_id = _newest_conversation(admin)["id"]

        console_ctx, console = _context(
            browser, demo_server.url, dict(admin.agent.http.cookies.items())
        )
        login(console)
        pane = open_conversation(console, conv_id)
        assert pane.locator("[data-channel=email]").is_visible()
        type_and_enter(console, "Yes, invoices are fine <b>up to 500 €</b>.")
        pane.locator("[data-delivery=sent]").wait_for()

        [first] = _wait_mails(dovecot, CUSTOMER, 1)
        assert first["Message-ID"].startswith(f"<tresen.{conv_id}.")
        assert first["Reply-To"].startswith(f"support+{conv_id}-")
        assert "Anna" in first["From"]
        html = first.get_body(("html",)).get_content()
        assert "&lt;b&gt;up to 500 €&lt;/b&gt;" in html

        reply = eml(
            "thunderbird_reply",
            FROM=CUSTOMER,
            TO=first["Reply-To"],
            IN_REPLY_TO=first["Message-ID"],
            REFERENCES=first["Message-ID"],
            SUBJECT=first["Subject"].removeprefix("Re: "),
        )
        with smtplib.SMTP("127.0.0.1", mta.port) as smtp:
            smtp.sendmail(CUSTOMER, [first["Reply-To"]], reply)
        # read from the support mailbox over IMAP (IDLE), shown in the same conversation
        pane.locator(".msg.from-visitor", has_text="Danke schön, das passt so.").wait_for(
            timeout=30_000
        )
        assert "schrieb Anna" not in pane.locator(".msg.from-visitor").last.inner_text()
        console.screenshot(path=str(screenshot_dir / "email-reply-in-console.png"))

        type_and_enter(console, "Gern geschehen!")
        pane.locator("[data-delivery=sent]").nth(1).wait_for()
        second = _wait_mails(dovecot, CUSTOMER, 2)[1]
        assert second["In-Reply-To"] == "<a1b2c3d4-thunderbird-0001@example.com>"
        assert first["Message-ID"] in second["References"]

        # Invite from the email into a live chat: the link arrives by mail and opens the shop
        # with the widget on this very conversation, in a browser that never saw the shop.
        pane.locator("[data-action=invite-chat]").click()
        pane.locator("[data-delivery=sent]").nth(2).wait_for()
        third = _wait_mails(dovecot, CUSTOMER, 3)[2]
        [link] = re.findall(
            r"http://[^\s]+/invite/[\w.-]+", third.get_body(("plain",)).get_content()
        )
        customer, shop, _ = _open_page(browser, viewport={"width": 1280, "height": 800})
        shop.goto(link)
        assert "/shop/contact" in shop.url and "tresen-invite" not in shop.url
        widget = _frame(shop)
        widget.locator(".panel").wait_for()  # open at once
        _wait_body(shop, "Gern geschehen!")  # the conversation's history
        _send_from_visitor(shop, "Hi, I clicked the link in your mail.")
        pane.locator(".msg.from-visitor", has_text="I clicked the link").wait_for()
        shop.screenshot(path=str(screenshot_dir / "email-invite-opens-chat.png"))
        customer.close()
        console_ctx.close()
    finally:
        _mailbox(admin, site_id, smtp_host="", imap_host="")
