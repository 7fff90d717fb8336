"""Console: live visitors (radar), manual invitations, rules admin, supervisor view, routing.

Headless Chromium against ``tresen demo``; visitors are protocol clients that send ``track``
frames as the loader does. Every test puts back what it changed (agent status and limits,
rules, conversations it opened).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.e2e.conftest import DEMO_PASSWORD, api_login
from tests.e2e.test_console import Guest, Loop, _context, login, open_conversation
from tests.support.server import ServerProcess


@pytest.fixture(scope="module")
def loop() -> Iterator[Loop]:
    lp = Loop()
    yield lp
    lp.close()


_login = api_login


@pytest.fixture(scope="module")
def anna(demo_server: ServerProcess) -> Iterator[httpx.Client]:
    """One API session for anna (admin, skill Sales) for the module: logins are rate limited."""
    http = _login(demo_server.url, "anna")
    yield http
    http.close()


@pytest.fixture(scope="module")
def anna_id(anna: httpx.Client) -> int:
    return int(anna.get("/api/auth/me").json()["agent"]["id"])


@pytest.fixture(scope="module")
def site(anna: httpx.Client) -> dict[str, Any]:
    return dict(anna.get("/api/sites").json()[0])


@pytest.fixture
def guests(loop: Loop) -> Iterator[list[Guest]]:
    made: list[Guest] = []
    yield made
    for g in made:
        g.stop()


@pytest.fixture
def page(browser: Any, demo_server: ServerProcess, anna: httpx.Client) -> Iterator[Any]:
    context, pg = _context(browser, demo_server.url, dict(anna.cookies.items()))
    yield pg
    context.close()


@pytest.fixture
def restore_anna(anna: httpx.Client, anna_id: int) -> Iterator[None]:
    """Puts anna's status and chat limit back as they were."""
    me = anna.get("/api/auth/me").json()["agent"]
    yield
    r = anna.patch(
        f"/api/agents/{anna_id}", json={"status": me["status"], "max_chats": me["max_chats"]}
    )
    assert r.status_code == 200, r.text


@pytest.fixture
def opened(anna: httpx.Client) -> Iterator[list[int]]:
    """Conversations a test opened: resolved at the end so they take nobody's slot."""
    ids: list[int] = []
    yield ids
    for conv_id in ids:
        anna.patch(f"/api/conversations/{conv_id}", json={"status": "resolved"})


def visit(guest: Guest, server: ServerProcess, path: str, title: str, **extra: Any) -> None:
    frame = {
        "type": "track",
        "kind": "page",
        "url": server.url + path,
        "title": title,
        "referrer": "",
        "device": "desktop",
        "language": "de",
        **extra,
    }
    guest.raw(frame)


def ask(guest: Guest, body: str, skill: str) -> int:
    async def go() -> dict[str, Any]:
        cmid = await guest.client.send(body, None, skill=skill)
        return await guest.client.wait_ack(cmid, timeout=15)

    guest.conversation_id = int(guest.loop.run(go())["conversation_id"])
    return guest.conversation_id


def live_row(page: Any, visitor_id: int) -> Any:
    return page.locator(f"table.radar-list tr[data-visitor='{visitor_id}']")


# ---- radar and manual invitation --------------------------------------------------------------


def test_radar_lists_live_visitor_and_manual_invite_opens_chat(
    page: Any,
    loop: Loop,
    demo_server: ServerProcess,
    site: dict[str, Any],
    anna: httpx.Client,
    anna_id: int,
    guests: list[Guest],
    opened: list[int],
    screenshot_dir: Path,
) -> None:
    login(page)
    page.click(".views button[data-view=radar]")
    page.wait_for_url("**/console/radar")

    g = Guest(loop, demo_server, site["widget_key"])
    guests.append(g)
    visit(g, demo_server, "/shop/", "Demo shop - home")
    row = live_row(page, g.visitor.id)
    row.locator(".page-title:has-text('Demo shop - home')").wait_for()
    assert row.locator("[data-field=pages]").inner_text() == "1"

    # It moves when the visitor navigates.
    visit(g, demo_server, "/shop/product/phone-x", "Phone X")
    row.locator(".page-title:has-text('Phone X')").wait_for()
    assert "/shop/product/phone-x" in row.locator(".page-url").inner_text()
    row.locator("[data-field=pages]:has-text('2')").wait_for()
    assert "desktop" in row.inner_text() and "de" in row.inner_text()
    # Time on site ticks.
    before = row.locator("[data-field=time-on-site]").inner_text()
    page.wait_for_timeout(2200)
    assert row.locator("[data-field=time-on-site]").inner_text() != before

    # Filters and sorting.
    page.fill("input[name=radar-text]", "phone-x")
    row.wait_for()
    page.fill("input[name=radar-text]", "no-such-page-" + uuid.uuid4().hex[:6])
    row.wait_for(state="detached")
    page.fill("input[name=radar-text]", "")
    page.select_option("select[name=radar-device]", "mobile")
    row.wait_for(state="detached")
    page.select_option("select[name=radar-device]", "")
    page.select_option("select[name=radar-returning]", "false")
    page.select_option("select[name=radar-sort]", "pages")
    row.wait_for()
    page.screenshot(path=str(screenshot_dir / "console-radar.png"), full_page=True)

    # A manual invitation in the visitor's language; accepting opens a chat assigned to anna.
    row.locator("button:has-text('Invite')").click()
    form = page.locator(f"form[aria-label='Invite visitor {g.visitor.id}']")
    text = form.locator("textarea[name=invite-text]")
    assert text.input_value() == "Hallo! Kann ich Ihnen helfen?"
    text.fill("Hallo! Fragen zum Phone X?")
    page.screenshot(path=str(screenshot_dir / "console-radar-invite.png"))
    form.locator("button[type=submit]").click()
    g.wait(lambda: any(f["type"] == "offer" for f in g.frames))
    offer = next(f for f in g.frames if f["type"] == "offer")
    assert offer["text"] == "Hallo! Fragen zum Phone X?" and offer["agent_name"] == "Anna"
    row.locator("[data-field=state]:has-text('invited')").wait_for()

    g.raw({"type": "offer_reply", "offer_id": offer["offer_id"], "outcome": "accepted"})
    g.wait(lambda: any(f["type"] == "conversation" for f in g.frames))
    conv_id = next(f for f in g.frames if f["type"] == "conversation")["conversation"]["id"]
    opened.append(conv_id)
    row.locator("[data-field=state]:has-text('chatting')").wait_for()
    assert anna.get(f"/api/conversations/{conv_id}").json()["assignee_id"] == anna_id

    page.click(".views button[data-view=chats]")
    item = page.locator(f".conv-item[data-conv='{conv_id}']")
    item.wait_for()
    item.locator(".conv-meta:has-text('mine')").wait_for()

    # The context panel: where the visitor is now, what they saw, how long they are here.
    pane = open_conversation(page, conv_id)
    pane.locator(".msg", has_text="Fragen zum Phone X?").wait_for()
    context = page.locator(".context")
    context.locator("[data-field=current-page]:has-text('Phone X')").wait_for()
    context.locator("[data-field=live]:has-text('now')").wait_for()
    pages = context.locator("[data-testid=pages] li")
    pages.first.wait_for()
    assert "Phone X" in pages.nth(0).inner_text()
    visit(g, demo_server, "/shop/cart", "Warenkorb")
    context.locator("[data-field=current-page]:has-text('Warenkorb')").wait_for()
    context.locator("[data-testid=pages] li:first-child:has-text('Warenkorb')").wait_for()
    page.screenshot(path=str(screenshot_dir / "console-context-live.png"))

    # Transfer to a skill queue with a note: routing facts shown, the note stays internal.
    pane.locator("button[data-action=transfer]").click()
    dialog = page.locator("form[aria-label='Transfer conversation']")
    dialog.locator("input[name=transfer-mode] >> nth=1").check()
    dialog.locator("input[name=transfer-skill]").fill("Support")
    dialog.locator("textarea[name=transfer-note]").fill("Asks about Phone X contracts")
    dialog.locator("button[type=submit]").click()
    info = pane.locator("[data-testid=routing-info]")
    info.locator(".chip:has-text('Skill Support')").wait_for()
    info.locator(".chip:has-text('high priority')").wait_for()
    pane.locator(".msg.note", has_text="Asks about Phone X contracts").wait_for()
    page.screenshot(path=str(screenshot_dir / "console-transfer.png"))
    conv = anna.get(f"/api/conversations/{conv_id}").json()
    assert conv["skill"] == "Support" and conv["assignee_id"] is None
    assert "Asks about Phone X" not in str(g.frames)

    g.stop()
    guests.remove(g)
    page.click(".views button[data-view=radar]")
    page.locator("h2:has-text('Visitors on the site now')").wait_for()
    live_row(page, g.visitor.id).wait_for(state="detached")
    assert page.errors == []


# ---- rules ------------------------------------------------------------------------------------


def test_admin_edits_rules_sees_validation_error_and_tests_on_live_visitor(
    page: Any,
    loop: Loop,
    demo_server: ServerProcess,
    site: dict[str, Any],
    anna: httpx.Client,
    guests: list[Guest],
    screenshot_dir: Path,
) -> None:
    page.on("dialog", lambda d: d.accept())
    before = {r["id"]: r["priority"] for r in anna.get("/api/radar/rules").json()}
    tag = uuid.uuid4().hex[:6]
    made: list[int] = []
    g = Guest(loop, demo_server, site["widget_key"])
    guests.append(g)
    visit(g, demo_server, f"/e2e-{tag}/form", "Contract form")
    try:
        login(page)
        page.click(".views button[data-view=rules]")
        page.locator("h2:has-text('Web Radar rules')").wait_for()
        page.click("button:has-text('New rule')")
        editor = page.locator("form.rule-editor")
        editor.locator("input[name=rule-name]").fill(f"Contract form {tag}")
        editor.locator("input[name=rule-priority]").fill("900")
        editor.locator("input[name=rule-enabled]").uncheck()
        broken = (
            '{"any": [{"url": {"glob": "/nowhere"}}, {"time_on_page": {"gte": "three minutes"}}]}'
        )
        editor.locator("textarea[name=rule-when]").fill(broken)
        editor.locator("button[type=submit]").click()
        error = editor.locator("[data-testid=rule-error]")
        error.wait_for()
        assert "when.any[1].time_on_page.gte" in error.inner_text()
        page.screenshot(path=str(screenshot_dir / "console-rule-invalid.png"), full_page=True)

        good = json.dumps(
            {"all": [{"url": {"glob": f"/e2e-{tag}/*"}}, {"time_on_page": {"gte": 0}}]}
        )
        editor.locator("textarea[name=rule-when]").fill(good)
        editor.locator("input[name=rule-text-de]").fill("Hilfe beim Vertrag?")
        editor.locator("input[name=rule-text-en]").fill("Help with the contract?")
        editor.locator("input[name=rule-text-da]").fill("Hjælp med kontrakten?")
        editor.locator("input[name=rule-skill]").fill("Sales")

        # Test against the live visitor before saving.
        option = f"select[name=rule-test-visitor] option[value='{g.visitor.id}']"
        page.wait_for_function(f'() => document.querySelector("{option}") !== null')
        editor.locator("select[name=rule-test-visitor]").select_option(str(g.visitor.id))
        editor.locator("button:has-text('Test')").click()
        result = editor.locator("[data-testid=rule-test]")
        result.locator("[data-field=holds]:has-text('yes')").wait_for()
        assert result.locator("[data-field=behaviour]").inner_text() == "yes"
        page.screenshot(path=str(screenshot_dir / "console-rule-test.png"), full_page=True)

        editor.locator("button[type=submit]").click()
        editor.wait_for(state="detached")
        rules = anna.get("/api/radar/rules").json()
        mine = next(r for r in rules if r["name"] == f"Contract form {tag}")
        made.append(mine["id"])
        assert mine["when"]["all"][0] == {"url": {"glob": f"/e2e-{tag}/*"}}
        assert mine["action"]["text"]["da"] == "Hjælp med kontrakten?"
        assert mine["enabled"] is False and mine["action"]["skill"] == "Sales"

        # A second rule via the API; reorder with the buttons; toggle enabled.
        second = {
            "name": f"Second {tag}",
            "priority": 950,
            "enabled": False,
            "when": {"url": {"glob": f"/e2e-{tag}/never"}},
            "action": {"type": "message", "text": {"en": "Hi"}},
        }
        r = anna.post("/api/radar/rules", json={"rule": second})
        assert r.status_code == 201, r.text
        made.append(r.json()["id"])
        page.click(".views button[data-view=chats]")
        page.click(".views button[data-view=rules]")
        first_row = page.locator(f"tr[data-rule='{made[0]}']")
        second_row = page.locator(f"tr[data-rule='{made[1]}']")
        second_row.wait_for()

        def order() -> list[int]:
            return [int(r["id"]) for r in anna.get("/api/radar/rules").json()]

        assert order().index(made[0]) < order().index(made[1])
        second_row.locator("button[aria-label='Move up']").click()
        page.wait_for_function(
            f"""() => {{
              const ids = [...document.querySelectorAll('tr[data-rule]')].map(r => r.dataset.rule);
              return ids.indexOf('{made[1]}') < ids.indexOf('{made[0]}');
            }}"""
        )
        assert order().index(made[1]) < order().index(made[0])

        first_row.locator("input[aria-label=Enabled]").check()
        page.wait_for_function(
            f"() => document.querySelector(\"tr[data-rule='{made[0]}'] input\").checked"
        )
        # The box ticks at once; the PATCH behind it may still be on its way.
        deadline = time.monotonic() + 10
        while True:
            rule = next(r for r in anna.get("/api/radar/rules").json() if r["id"] == made[0])
            if rule["enabled"] or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert rule["enabled"] is True
        first_row.locator("input[aria-label=Enabled]").uncheck()

        # Edit the saved rule and test it by id-less spec again (with the stored fields).
        first_row.locator("button:has-text('Edit')").click()
        editor = page.locator(f"form[aria-label='Edit rule {made[0]}']")
        assert editor.locator("input[name=rule-text-de]").input_value() == "Hilfe beim Vertrag?"
        editor.locator("select[name=rule-test-visitor]").select_option(str(g.visitor.id))
        editor.locator("button:has-text('Test')").click()
        editor.locator("[data-testid=rule-test] [data-field=holds]:has-text('yes')").wait_for()
        page.screenshot(path=str(screenshot_dir / "console-rules.png"), full_page=True)
        editor.locator("button:has-text('Cancel')").click()

        first_row.locator("button:has-text('Delete')").click()
        first_row.wait_for(state="detached")
        made.remove(made[0])
        assert page.errors == []
    finally:
        for rule_id in made:
            anna.delete(f"/api/radar/rules/{rule_id}")
        now = {r["id"]: r["priority"] for r in anna.get("/api/radar/rules").json()}
        for rule_id, priority in before.items():
            if now.get(rule_id) != priority:
                anna.patch(f"/api/radar/rules/{rule_id}", json={"priority": priority})


# ---- supervisor -------------------------------------------------------------------------------


def test_supervisor_sees_queue_position_and_takes_chat(
    browser: Any,
    loop: Loop,
    demo_server: ServerProcess,
    site: dict[str, Any],
    anna: httpx.Client,
    anna_id: int,
    guests: list[Guest],
    opened: list[int],
    restore_anna: None,
    screenshot_dir: Path,
) -> None:
    username = "sven" + uuid.uuid4().hex[:4]
    password = "sven-password-123"
    r = anna.post(
        "/api/agents",
        json={
            "username": username,
            "display_name": "Sven",
            "password": password,
            "role": "supervisor",
            "site_ids": [site["id"]],  # other tests may have added sites: serve the demo's
        },
    )
    assert r.status_code == 201, r.text
    sven_id = r.json()["id"]
    sven = _login(demo_server.url, username, password)
    context, page = _context(browser, demo_server.url, dict(sven.cookies.items()))
    try:
        # The only Sales agent can take one chat, and gets one.
        r = anna.patch(f"/api/agents/{anna_id}", json={"status": "online", "max_chats": 1})
        assert r.status_code == 200, r.text
        first = Guest(loop, demo_server, site["widget_key"])
        guests.append(first)
        opened.append(ask(first, "I want to buy Phone X", "Sales"))
        second = Guest(loop, demo_server, site["widget_key"])
        guests.append(second)
        waiting = ask(second, "Tariff question, please", "Sales")
        opened.append(waiting)
        overview = anna.get("/api/routing/overview").json()
        row = next(w for w in overview["waiting"] if w["conversation_id"] == waiting)
        assert row["position"] >= 1

        login(page)
        assert page.locator(".views button[data-view=rules]").count() == 0  # not an admin
        page.click(".views button[data-view=supervisor]")
        waiting_row = page.locator(f"tr[data-waiting='{waiting}']")
        waiting_row.wait_for()
        assert waiting_row.locator("[data-field=position]").inner_text() == str(row["position"])
        page.locator("tr[data-queue='Sales'] [data-field=waiting]").wait_for()
        anna_row = page.locator(f"tr[data-agent-id='{anna_id}']")
        anna_row.locator("[data-field=load]:has-text('/1')").wait_for()
        assert "online" in anna_row.inner_text() and "Sales" in anna_row.inner_text()
        page.screenshot(path=str(screenshot_dir / "console-supervisor.png"), full_page=True)

        # A third visitor gives up waiting and asks for a callback: the agent sees the details.
        third = Guest(loop, demo_server, site["widget_key"])
        guests.append(third)
        callback = ask(third, "Please call me", "Sales")
        opened.append(callback)
        third.raw(
            {
                "type": "queue_choice",
                "conversation_id": callback,
                "choice": "callback",
                "phone": "+49 30 1234567",
                "when": "after 5 pm",
            }
        )
        page.locator(f"tr[data-waiting='{callback}']").wait_for(state="detached")

        # The supervisor takes the waiting chat: it leaves the queue and opens for them.
        waiting_row.locator("button:has-text('Take')").click()
        waiting_row.wait_for(state="detached")
        conv = anna.get(f"/api/conversations/{waiting}").json()
        assert conv["assignee_id"] == sven_id
        pane = page.locator(f".pane[data-pane='{waiting}']")
        page.click(".views button[data-view=chats]")
        pane.wait_for()
        pane.locator(".msg", has_text="Tariff question").wait_for()
        assert "Skill Sales" in pane.locator("[data-testid=routing-info]").inner_text()

        page.click(f".conv-item[data-conv='{callback}']")
        cb = page.locator(f".pane[data-pane='{callback}']")
        cb.locator("[data-field=callback]:has-text('+49 30 1234567')").wait_for()
        assert "after 5 pm" in cb.locator("[data-field=callback]").inner_text()
        page.screenshot(path=str(screenshot_dir / "console-callback.png"))
        assert page.errors == []
    finally:
        context.close()
        sven.close()
        anna.patch(f"/api/agents/{sven_id}", json={"is_active": False})


# ---- offered chats (accept / decline) ---------------------------------------------------------


@pytest.fixture(scope="module")
def accept_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A second demo where a chat is first offered to one agent, who accepts or declines."""
    server = ServerProcess(
        {
            "TRESEN_VAR_DIR": str(tmp_path_factory.mktemp("accept-var")),
            "TRESEN_DEMO_PASSWORD": DEMO_PASSWORD,
            "TRESEN_SECRET_KEY": "e2e-secret",
            "TRESEN_LOG_LEVEL": "warning",
            "TRESEN_ACCEPT_SECONDS": "60",
        },
        command="demo",
    )
    server.env["TRESEN_PUBLIC_URL"] = server.url
    server.start()
    yield server
    server.stop()


def test_offered_chat_is_accepted_or_declined_in_the_chat(
    browser: Any,
    loop: Loop,
    accept_server: ServerProcess,
    guests: list[Guest],
    screenshot_dir: Path,
) -> None:
    admin = _login(accept_server.url, "anna")
    me = admin.get("/api/auth/me").json()["agent"]
    key = admin.get("/api/sites").json()[0]["widget_key"]
    context, page = _context(browser, accept_server.url, dict(admin.cookies.items()))
    try:
        assert admin.patch(f"/api/agents/{me['id']}", json={"status": "online"}).status_code == 200
        login(page)
        first = Guest(loop, accept_server, key)
        guests.append(first)
        declined = ask(first, "Is Phone X in stock?", "Sales")
        item = page.locator(f".conv-item[data-conv='{declined}']")
        item.locator(".offered").wait_for()
        pane = open_conversation(page, declined)
        banner = pane.locator("[data-testid=offer-banner]")
        banner.wait_for()
        page.screenshot(path=str(screenshot_dir / "console-offer-banner.png"))
        banner.locator("button:has-text('Decline')").click()
        banner.wait_for(state="detached")
        conv = admin.get(f"/api/conversations/{declined}").json()
        assert conv["offered_to"] is None and conv["assignee_id"] is None

        second = Guest(loop, accept_server, key)
        guests.append(second)
        accepted = ask(second, "I would like a contract", "Sales")
        pane = open_conversation(page, accepted)
        banner = pane.locator("[data-testid=offer-banner]")
        banner.locator("button:has-text('Accept')").click()
        banner.wait_for(state="detached")
        page.locator(f".conv-item[data-conv='{accepted}'] .conv-meta:has-text('mine')").wait_for()
        assert admin.get(f"/api/conversations/{accepted}").json()["assignee_id"] == me["id"]
        assert page.errors == []
    finally:
        context.close()
        admin.patch(f"/api/agents/{me['id']}", json={"status": "away"})
        admin.close()
