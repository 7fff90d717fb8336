"""The console's inbox in headless Chromium against ``tresen demo``: the agent searches and finds
a message, switches views, tags and snoozes a conversation, and handles a callback."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.e2e.conftest import api_login
from tests.e2e.test_console import Guest, Loop, _context, login
from tests.support.server import ServerProcess


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
def guests(loop: Loop) -> Iterator[list[Guest]]:
    made: list[Guest] = []
    yield made
    for g in made:
        g.stop()


def ask(guest: Guest, body: str, skill: str | None = None) -> int:
    async def go() -> dict[str, Any]:
        cmid = await guest.client.send(body, None, skill=skill)
        return await guest.client.wait_ack(cmid, timeout=15)

    guest.conversation_id = int(guest.loop.run(go())["conversation_id"])
    return guest.conversation_id


def test_agent_searches_switches_views_tags_snoozes_and_handles_a_callback(
    page: Any,
    demo_server: ServerProcess,
    anna: httpx.Client,
    loop: Loop,
    guests: list[Guest],
    screenshot_dir: Path,
) -> None:
    me = anna.get("/api/auth/me").json()["agent"]
    was = me["status"]
    anna.patch(f"/api/agents/{me['id']}", json={"status": "away"})  # chats wait in the queue
    site = anna.get("/api/sites").json()[0]
    word = "kuehlschrank" + uuid.uuid4().hex[:6]
    tag = "e2e-" + uuid.uuid4().hex[:6]
    opened: list[int] = []
    try:
        fridge = Guest(loop, demo_server, site["widget_key"])
        guests.append(fridge)
        conv = ask(fridge, f"Mein {word} summt <b>laut</b>")
        opened.append(conv)

        login(page)
        page.locator(f".conv-item[data-conv='{conv}']").wait_for()

        # search: the message is found, the word highlighted, markup shown as text
        page.fill("input[name=q]", word.upper())
        page.press("input[name=q]", "Enter")
        hit = page.locator(".search-hit").first
        hit.locator("mark").wait_for()
        assert hit.locator("mark").inner_text() == word
        assert "<b>laut</b>" in hit.locator(".hit-snippet").inner_text()
        assert page.locator(".search-hit b").count() == 0
        hit.click()
        pane = page.locator(f".pane[data-pane='{conv}']")
        pane.locator(".msg", has_text=word).wait_for()
        page.screenshot(path=str(screenshot_dir / "console-search.png"))

        # hostile queries: words searched for as words, or a clear message; nothing breaks
        page.fill("input[name=q]", f'"NEAR({word}*')
        page.press("input[name=q]", "Enter")
        page.locator(".search-results .empty").wait_for()  # "near" is a word like any other
        page.fill("input[name=q]", '"*(^')
        page.press("input[name=q]", "Enter")
        page.locator(".search-results [role=alert]:has-text('at least one word')").wait_for()
        page.click(".search-results button:has-text('Clear')")

        # views: unassigned holds it, mine does not
        page.click("[data-inbox-view=unassigned]")
        page.locator(f".conv-item[data-conv='{conv}']").wait_for()
        page.click("[data-inbox-view=mine]")
        page.locator(f".conv-item[data-conv='{conv}']").wait_for(state="detached")
        page.click("[data-inbox-view=all]")

        # tag it: a chip, and a view for the tag with its count
        tools = page.locator(f".conv-tools[data-tools='{conv}']")
        tools.locator("input[aria-label='Add tag']").fill(tag)
        tools.locator("button:has-text('Tag')").click()
        tools.locator(f".tag[data-tag='{tag}']").wait_for()
        tag_view = page.locator(f"[data-inbox-view='tag:{tag}']")
        tag_view.locator("[data-testid=view-count]:has-text('1')").wait_for()
        tag_view.click()
        page.locator(f".conv-item[data-conv='{conv}']").wait_for()

        # snooze it: out of the active views, in "snoozed"; then woken by hand
        tools.locator("select[name=snooze]").select_option("1h")
        tools.locator("[data-action=wake]").wait_for()
        page.locator(f".conv-item[data-conv='{conv}']").wait_for(state="detached")
        page.click("[data-inbox-view=snoozed]")
        page.locator(f".conv-item[data-conv='{conv}'] .conv-snoozed").wait_for()
        assert anna.get(f"/api/conversations/{conv}").json()["snoozed_until"] is not None
        page.screenshot(path=str(screenshot_dir / "console-snoozed.png"))
        tools.locator("[data-action=wake]").click()
        page.locator(f".conv-item[data-conv='{conv}']").wait_for(state="detached")
        page.click("[data-inbox-view=all]")
        page.locator(f".conv-item[data-conv='{conv}']").wait_for()

        # a callback: the waiting visitor leaves a number; the console is reminded at once
        caller = Guest(loop, demo_server, site["widget_key"])
        guests.append(caller)
        call = ask(caller, "Please call me back", "Sales")
        opened.append(call)
        caller.raw(
            {
                "type": "queue_choice",
                "conversation_id": call,
                "choice": "callback",
                "phone": "+49 30 1234567",
                "when": "after 5 pm",
            }
        )
        page.locator(".notice:has-text('Callback due: +49301234567')").wait_for()
        page.click(".views button[data-view=callbacks]")
        page.click("[data-list=due]")
        row = page.locator(".callback", has_text="after 5 pm").first
        row.wait_for()
        assert "+49301234567" in row.inner_text()
        row.locator("[data-action=take]").click()
        page.click("[data-list=mine]")
        row = page.locator(".callback", has_text="after 5 pm").first
        row.locator("textarea").fill("Called, wants the Pro tariff")
        row.locator("[data-action=done]").click()
        row.wait_for(state="detached")  # no longer open
        page.click("[data-list=done]")
        page.locator(".callback", has_text="Called, wants the Pro tariff").first.wait_for()
        page.screenshot(path=str(screenshot_dir / "console-callbacks.png"))
        assert page.errors == []
    finally:
        anna.patch(f"/api/agents/{me['id']}", json={"status": was})
        for conv_id in opened:
            anna.patch(f"/api/conversations/{conv_id}", json={"status": "resolved"})


def test_inbox_by_team_counts_and_lists_live(
    page: Any,
    demo_server: ServerProcess,
    anna: httpx.Client,
    loop: Loop,
    guests: list[Guest],
    screenshot_dir: Path,
) -> None:
    me = anna.get("/api/auth/me").json()["agent"]
    was = me["status"]
    ben = next(a for a in anna.get("/api/agents").json() if a["username"] == "ben")
    anna.patch(f"/api/agents/{me['id']}", json={"status": "away"})  # chats wait in the queue
    site = anna.get("/api/sites").json()[0]
    name = "Night " + uuid.uuid4().hex[:6]
    team = anna.post("/api/teams", json={"name": name, "member_ids": [me["id"]]}).json()["id"]
    opened: list[int] = []
    try:
        guest = Guest(loop, demo_server, site["widget_key"])
        guests.append(guest)
        conv = ask(guest, "Is the lamp also in grey?")
        opened.append(conv)

        # anna may hold chats of earlier tests on this shared server: count from there
        teams = anna.get("/api/console/views").json()["teams"]
        base = next(t["count"] for t in teams if t["id"] == team)
        login(page)
        view = page.locator(f"[data-inbox-view='team:{team}']")
        count = view.locator("[data-testid=view-count]")
        count.filter(has_text=re.compile(rf"^{base}$")).wait_for()
        assert name in view.inner_text()

        # Assigned to a member: the team's count goes up without a reload, the list holds it.
        r = anna.patch(f"/api/conversations/{conv}", json={"assignee_id": me["id"]})
        assert r.status_code == 200, r.text
        count.filter(has_text=re.compile(rf"^{base + 1}$")).wait_for()
        view.click()
        page.locator(".inbox h2", has_text=f"Team {name}").wait_for()
        page.locator(f".conv-item[data-conv='{conv}']").wait_for()
        page.screenshot(path=str(screenshot_dir / "inbox-by-team.png"))

        # Handed to someone outside the team: it leaves the view and the count.
        r = anna.patch(f"/api/conversations/{conv}", json={"assignee_id": ben["id"]})
        assert r.status_code == 200, r.text
        count.filter(has_text=re.compile(rf"^{base}$")).wait_for()
        page.locator(f".conv-item[data-conv='{conv}']").wait_for(state="detached")
    finally:
        anna.patch(f"/api/agents/{me['id']}", json={"status": was})
        anna.delete(f"/api/teams/{team}")
        for conv_id in opened:
            anna.patch(f"/api/conversations/{conv_id}", json={"status": "resolved"})
