"""Visits that span pages, in Chromium on the demo shop: the journey the agent sees, "no thanks"
that holds across pages and a server restart, no invitation while chatting, two tabs with one
invitation in the focused one.

These tests run their own demo server (they restart it), with a fresh database.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.e2e.conftest import DEMO_PASSWORD, api_login
from tests.e2e.test_console import _context, login
from tests.e2e.test_widget import _frame, _open_page, _send_from_visitor, _wait_body, shop_url
from tests.support.server import ServerProcess

SHOP_PAGES = [
    "/shop/",
    "/shop/products/nord-lamp",
    "/shop/products/fjord-kettle",
    "/shop/cart",
    "/shop/checkout",
]
THIRD_PAGE = {
    "name": "e2e: three pages in",
    "priority": 1,
    "when": {"pages_viewed": {"gte": 3}},
    "action": {"type": "invite", "text": {"en": "Found what you need?"}},
}
ANY_SHOP_PAGE = {
    "name": "e2e: any shop page",
    "priority": 1,
    "when": {"url": {"glob": "/shop/*"}},
    "action": {"type": "invite", "text": {"en": "Can I help you choose?"}},
}
CART = {
    "name": "e2e: in the cart",
    "priority": 1,
    "when": {"url": {"glob": "/shop/cart"}},
    "action": {"type": "invite", "text": {"en": "Questions about your order?"}},
}


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    var = tmp_path_factory.mktemp("visits-var")
    server = ServerProcess(
        {
            "TRESEN_VAR_DIR": str(var),
            "TRESEN_DEMO_PASSWORD": DEMO_PASSWORD,
            "TRESEN_SECRET_KEY": "e2e-visits-secret",
            "TRESEN_LOG_LEVEL": "warning",
        },
        command="demo",
    )
    server.env["TRESEN_PUBLIC_URL"] = server.url
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def anna(shop: ServerProcess) -> Iterator[httpx.Client]:
    http = api_login(shop.url, "anna")
    me = http.get("/api/auth/me").json()["agent"]
    # Invitations are paced by free Sales capacity: anna online with room to spare.
    http.patch(f"/api/agents/{me['id']}", json={"status": "online", "max_chats": 8})
    yield http
    http.close()


@pytest.fixture
def rule(anna: httpx.Client) -> Iterator[Any]:
    made: list[int] = []

    def add(spec: dict[str, Any]) -> int:
        r = anna.post("/api/radar/rules", json={"rule": spec})
        r.raise_for_status()
        made.append(int(r.json()["id"]))
        return made[-1]

    yield add
    for rule_id in made:
        anna.delete(f"/api/radar/rules/{rule_id}")


def live(anna: httpx.Client) -> list[dict[str, Any]]:
    return list(anna.get("/api/radar/visitors").json())


def at(shop: ServerProcess, path: str, mark: str) -> str:
    """A shop page with this test's mark in the query: its visitor's row is found by it."""
    return shop_url(shop, path) + f"?e2e={mark}"


def wait_live(anna: httpx.Client, page: Any, pages: int, mark: str) -> dict[str, Any]:
    """The visitor's live row once it shows ``pages`` page views (the rules ran then)."""
    for _ in range(150):
        rows = [v for v in live(anna) if v["pages_viewed"] == pages and mark in v["url"]]
        if rows:
            return rows[0]
        page.wait_for_timeout(100)
    raise AssertionError(f"no live visitor with {pages} pages: {live(anna)}")


def bubble(page: Any) -> Any:
    return _frame(page).get_by_role("region", name="Invitation to chat")


def test_five_pages_show_in_the_live_list_and_the_third_brings_the_rule(
    shop: ServerProcess, browser: Any, anna: httpx.Client, rule: Any, screenshot_dir: Path
) -> None:
    rule(THIRD_PAGE)
    mark = uuid.uuid4().hex[:8]
    console_ctx, console = _context(browser, shop.url, dict(anna.cookies.items()))
    login(console)
    console.click(".views button[data-view=radar]")
    context, page, _ = _open_page(browser, viewport={"width": 1280, "height": 800})
    for n, path in enumerate(SHOP_PAGES, start=1):
        page.goto(at(shop, path, mark))
        _frame(page).get_by_role("button", name=re.compile("Open chat")).wait_for()
        me = wait_live(anna, page, n, mark)
        if n < 3:
            assert me["invited"] is False and bubble(page).count() == 0
        if n == 3:
            bubble(page).get_by_text("Found what you need?").wait_for()
            bubble(page).get_by_role("button", name="No thanks").click()
            bubble(page).wait_for(state="detached")
        page.wait_for_timeout(600)  # the visitor reads the page a little
    row = console.locator(f"table.radar-list tr[data-visitor='{me['id']}']")
    row.locator("[data-field=pages]:has-text('5')").wait_for()
    assert row.locator("[data-field=tabs]").inner_text() == "1"
    row.locator("[data-field=pages]").click()  # the journey, page by page
    steps = row.locator("[data-field=journey-page]")
    steps.nth(4).wait_for()
    assert steps.count() == 5
    assert "/shop/checkout" in steps.nth(4).inner_text()
    spent = row.locator("[data-field=time-spent]").inner_text()  # m:ss, the summed time
    minutes, seconds = spent.split(":")
    assert int(minutes) * 60 + int(seconds) >= 2
    final = wait_live(anna, page, 5, mark)
    assert len(final["pages"]) == 5 and final["time_on_site"] >= 2.0
    assert final["time_on_site"] == pytest.approx(sum(p["seconds"] for p in final["pages"]), 0.5)
    console.screenshot(path=str(screenshot_dir / "visits-live-journey.png"))
    context.close()
    console_ctx.close()


def test_no_thanks_holds_on_the_next_pages_and_after_a_restart(
    shop: ServerProcess, browser: Any, anna: httpx.Client, rule: Any
) -> None:
    rule(ANY_SHOP_PAGE)
    mark = uuid.uuid4().hex[:8]
    context, page, _ = _open_page(browser, viewport={"width": 1280, "height": 800})
    page.goto(at(shop, SHOP_PAGES[0], mark))
    bubble(page).get_by_text("Can I help you choose?").wait_for()
    bubble(page).get_by_role("button", name="No thanks").click()
    bubble(page).wait_for(state="detached")
    for n, path in enumerate(SHOP_PAGES[1:4], start=2):  # pages 2-4
        page.goto(at(shop, path, mark))
        me = wait_live(anna, page, n, mark)
        assert me["invited"] is False and me["offers_today"] == 1
        assert bubble(page).count() == 0
    shop.stop()  # a restart: nothing of the old process's memory survives
    shop.start()
    page.goto(at(shop, SHOP_PAGES[4], mark))
    me = wait_live(anna, page, 5, mark)  # the same visit, read back from the database
    assert me["invited"] is False
    assert [o["outcome"] for o in me["offers"]] == ["dismissed"]
    assert bubble(page).count() == 0
    context.close()


def test_a_visitor_in_a_chat_is_never_invited(
    shop: ServerProcess, browser: Any, anna: httpx.Client, rule: Any
) -> None:
    mark = uuid.uuid4().hex[:8]
    context, page, _ = _open_page(browser, viewport={"width": 1280, "height": 800})
    page.goto(at(shop, "/shop/contact", mark))
    _frame(page).get_by_role("button", name=re.compile("Open chat")).click()
    _send_from_visitor(page, "Do you ship to Bornholm?")
    rule(ANY_SHOP_PAGE)
    for n, path in enumerate(SHOP_PAGES[:3], start=2):
        page.goto(at(shop, path, mark))
        me = wait_live(anna, page, n, mark)
        assert me["chatting"] is True and me["invited"] is False
        assert bubble(page).count() == 0
    for c in anna.get("/api/conversations", params={"status": "open"}).json():
        if c["visitor_id"] == me["id"]:
            anna.patch(f"/api/conversations/{c['id']}", json={"status": "resolved"})
    context.close()


def test_two_tabs_are_one_row_and_get_one_invitation_in_the_focused_tab(
    shop: ServerProcess, browser: Any, anna: httpx.Client, rule: Any
) -> None:
    rule(CART)
    mark = uuid.uuid4().hex[:8]
    context, first, _ = _open_page(browser, viewport={"width": 1280, "height": 800})
    first.goto(at(shop, "/shop/", mark))
    wait_live(anna, first, 1, mark)
    second = context.new_page()  # the same browser: the same visitor, a second tab
    second.goto(at(shop, "/shop/cart", mark))
    second.bring_to_front()
    bubble(second).get_by_text("Questions about your order?").wait_for()
    me = wait_live(anna, second, 2, mark)
    assert me["tabs"] == 2 and me["offers_today"] == 1
    assert [v["id"] for v in live(anna)].count(me["id"]) == 1
    assert bubble(first).count() == 0  # the other tab got the frame and left it alone
    first.goto(at(shop, "/shop/cart", mark))  # a page view in the first tab: still one
    wait_live(anna, first, 3, mark)
    assert bubble(first).count() == 0
    assert wait_live(anna, first, 3, mark)["offers_today"] == 1
    # Accepting in the focused tab opens the chat there; the other tab shows it too.
    bubble(second).get_by_role("button", name="Chat now").click()
    _wait_body(second, "Questions about your order?")
    _frame(first).get_by_role("button", name=re.compile("Open chat")).click()
    _wait_body(first, "Questions about your order?")
    for c in anna.get("/api/conversations", params={"status": "open"}).json():
        if c["visitor_id"] == me["id"]:
            anna.patch(f"/api/conversations/{c['id']}", json={"status": "resolved"})
    context.close()
