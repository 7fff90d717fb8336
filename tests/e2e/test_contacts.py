"""The contact page in headless Chromium: an agent opens it from a conversation, adds a note
and a tag, and merges another contact of the same person into it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.e2e.conftest import api_login
from tests.e2e.test_console import Guest, Loop, _context, login, open_conversation
from tests.support.server import ServerProcess

from tresen.security.identity import identity_hash


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


def test_contact_page_from_a_conversation_note_tag_merge(
    page: Any, loop: Loop, demo_server: ServerProcess, anna: httpx.Client, screenshot_dir: Path
) -> None:
    site = anna.get("/api/sites").json()[0]
    uid = "e2e-" + uuid.uuid4().hex[:8]
    identity = {
        "id": uid,
        "hash": identity_hash(site["identity_secret"], uid),
        "name": "Freja Holm",
        "email": f"{uid}@example.dk",
    }
    guest = Guest(loop, demo_server, site["widget_key"], identity=identity)
    try:
        guest.say("Hello, about my order <b>42</b>")
        # the same person, known from an earlier import under another address
        old = anna.post(
            "/api/contacts",
            json={
                "site_id": site["id"],
                "name": "Freja H. (old)",
                "identities": [{"kind": "email", "value": f"old-{uid}@example.dk"}],
            },
        )
        assert old.status_code == 201, old.text
        old_id = old.json()["id"]

        login(page)
        open_conversation(page, guest.conversation_id)  # type: ignore[arg-type]
        page.click("[data-testid=open-contact]")
        contact = page.locator(".contact.page[data-contact]")
        contact.wait_for()
        assert "/console/contacts/" in page.url
        assert contact.locator("[data-field=contact-name]").inner_text() == "Freja Holm"
        conv = contact.locator(f"[data-conversation='{guest.conversation_id}']")
        assert "Hello, about my order <b>42</b>" in conv.inner_text()  # text, never HTML
        assert contact.locator("[data-testid=identities]").inner_text().count("Verified") >= 2

        page.fill("textarea[aria-label='New note']", "Called back, <i>parcel</i> found")
        page.click("button:has-text('Add note')")
        contact.locator("[data-testid=notes] .note-body", has_text="parcel").wait_for()
        assert (
            contact.locator("[data-testid=notes] .note-body").first.inner_text()
            == "Called back, <i>parcel</i> found"
        )
        page.fill("input[aria-label='New tag']", "vip")
        page.click("button:has-text('Add tag')")
        contact.locator("[data-testid=tags] li", has_text="vip").wait_for()

        page.fill("input[aria-label='Find a contact to merge']", f"old-{uid}")
        page.click("button:has-text('Find')")
        candidate = contact.locator(f"[data-testid=merge-candidates] [data-contact='{old_id}']")
        candidate.wait_for()
        page.once("dialog", lambda d: d.accept())
        candidate.locator("button:has-text('Merge into this contact')").click()
        contact.locator("[data-testid=identities]", has_text=f"old-{uid}@example.dk").wait_for()
        page.screenshot(path=str(screenshot_dir / "console-contact-page.png"))

        contact_id = int(contact.get_attribute("data-contact"))
        body = anna.get(f"/api/contacts/{contact_id}").json()
        assert body["tags"] == ["vip"]
        assert [n["body"] for n in body["notes"]] == ["Called back, <i>parcel</i> found"]
        assert anna.get(f"/api/contacts/{old_id}").status_code == 404
        assert not page.errors, page.errors

        # back to the chat from the contact page
        conv.locator("button").click()
        page.locator(f".pane[data-pane='{guest.conversation_id}']").wait_for()
    finally:
        guest.stop()


def test_admin_sets_a_sites_privacy_rules(page: Any, anna: httpx.Client) -> None:
    site = anna.get("/api/sites").json()[0]
    login(page)
    page.click("[data-view=sites]")
    card = page.locator(f".site[data-site='{site['id']}'] section.privacy")
    card.wait_for()
    card.locator("select").select_option("remove")
    card.get_by_label("Delete page views after").fill("30")
    card.get_by_label("Delete conversations after").fill("")
    card.locator("button:has-text('Save privacy rules')").click()
    card.locator("[role=status]:has-text('saved')").wait_for()
    rules = anna.get(f"/api/sites/{site['id']}/privacy").json()
    assert rules == {"message_erasure": "remove", "page_view_days": 30, "conversation_days": None}
    anna.put(f"/api/sites/{site['id']}/privacy", json={})  # back to the defaults
    assert not page.errors, page.errors
