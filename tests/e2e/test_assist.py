"""Agent assist in headless Chromium against ``tresen demo``: a suggestion inserted with one
key, edited and sent; a canned response made in the editor and used by its shortcut with its
variables filled; a visitor reading a help article in the widget (a deflected chat)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.e2e.conftest import api_login
from tests.e2e.test_console import Guest, Loop, _context, login, open_conversation
from tests.e2e.test_widget import _open_page, _open_panel, shop_url
from tests.support.actors import Visitor
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


def test_suggestion_inserted_with_one_key_edited_and_sent(
    page: Any, loop: Loop, demo_server: ServerProcess, site: dict[str, Any], guests: list[Guest],
    screenshot_dir: Path,
) -> None:  # fmt: skip
    g = Guest(loop, demo_server, site["widget_key"])
    guests.append(g)
    g.say("How much does shipping cost?", new=True)
    login(page)
    pane = open_conversation(page, g.conversation_id)  # type: ignore[arg-type]
    first = page.locator(".suggestions li").first
    first.wait_for()
    sources = page.locator(".suggestions li").evaluate_all("els => els.map(e => e.dataset.source)")
    assert "kb" in sources  # the demo's article on shipping costs
    assert "Knowledge base" in (page.locator(".suggestions").text_content() or "")
    text = first.locator(".suggestion-text").text_content() or ""
    assert "€4.90" in text or "€50" in text
    page.screenshot(path=str(screenshot_dir / "console-suggestions.png"))

    box = page.locator("textarea[name=reply]")
    box.focus()
    box.press("Alt+Shift+Digit1")
    assert box.input_value() == text
    box.press("End")
    box.type(" Anything else?")
    box.press("Enter")
    sent = text + " Anything else?"
    g.wait_body(sent)
    pane.locator(".msg.from-agent", has_text="Anything else?").wait_for()
    assert page.errors == []


def test_canned_response_made_in_the_editor_and_used_by_shortcut(
    page: Any, loop: Loop, demo_server: ServerProcess, site: dict[str, Any], guests: list[Guest],
) -> None:  # fmt: skip
    shortcut = "ship" + uuid.uuid4().hex[:6]
    login(page)
    page.click(".views button[data-view=canned]")
    page.fill("input[name=canned-shortcut]", shortcut)
    page.fill("input[name=canned-title]", "Shipping days")
    page.fill("textarea[name=canned-body]", "Hi {{visitor.name}}, {{site.name}} ships in 2 days.")
    page.click("form[aria-label='Canned response'] button[type=submit]")
    page.locator(f".canned-list li[data-shortcut='{shortcut}']").wait_for()

    user = "cust-" + uuid.uuid4().hex[:8]
    identity = {"id": user, "hash": identity_hash(site["identity_secret"], user), "name": "Petra"}
    loop.run(
        Visitor.arrive(
            demo_server.url, site["widget_key"], origin=demo_server.url, identity=identity
        )
    )
    g = Guest(loop, demo_server, site["widget_key"], identity=identity)
    guests.append(g)
    g.say("When will my order ship?", new=True)
    page.click(".views button[data-view=chats]")
    open_conversation(page, g.conversation_id)  # type: ignore[arg-type]
    box = page.locator("textarea[name=reply]")
    box.fill("")
    box.type(f"/{shortcut[:6]}")
    page.locator(".canned-menu li.selected", has_text=f"/{shortcut}").wait_for()
    box.press("Enter")
    expected = f"Hi Petra, {site['name']} ships in 2 days."
    assert box.input_value() == expected
    box.press("Enter")
    g.wait_body(expected)
    assert page.errors == []


def test_visitor_reads_a_help_article_and_is_deflected(
    browser: Any, demo_server: ServerProcess, anna: httpx.Client, screenshot_dir: Path
) -> None:
    site_id = anna.get("/api/sites").json()[0]["id"]
    articles = anna.get("/api/kb/articles", params={"site_id": site_id}).json()
    article = next(a for a in articles if a["title"] == "Returning an item")
    before = anna.get(f"/api/kb/articles/{article['id']}").json()

    context, page, dialogs = _open_page(browser, viewport={"width": 1280, "height": 800})
    try:
        page.goto(shop_url(demo_server))
        frame = _open_panel(page)
        frame.locator("#tw-kb-q").fill("how do I return an item")
        frame.locator(".kb-hit", has_text="Returning an item").click()
        frame.locator(".kb-article h2", has_text="Returning an item").wait_for()
        assert frame.locator(".kb-html strong", has_text="30 days").count() == 1
        assert frame.locator(".kb-html ol li").count() == 2  # Markdown rendered
        page.screenshot(path=str(screenshot_dir / "widget-help-article.png"))
        frame.get_by_role("button", name="This answered my question").click()
        frame.locator(".kb-thanks").wait_for()
        after = anna.get(f"/api/kb/articles/{article['id']}").json()
        assert after["reads"] == before["reads"] + 1
        assert after["answered"] == before["answered"] + 1
        assert dialogs == []
    finally:
        context.close()


def test_supervisor_writes_an_article_and_agents_find_it(page: Any) -> None:
    title = "Gift wrapping " + uuid.uuid4().hex[:6]
    login(page)
    page.click(".views button[data-view=kb]")
    page.locator(".kb-list li").first.wait_for()  # the demo's articles
    page.fill("input[name=kb-title]", title)
    page.fill("textarea[name=kb-body]", "We wrap gifts for **3 euros**.\n\n<script>x</script>")
    page.fill("input[name=kb-keywords]", "gift, wrapping")
    page.click("form[aria-label=Article] button[type=submit]")
    shown = page.locator(".kb-article", has_text=title)
    shown.locator(".kb-html strong", has_text="3 euros").wait_for()
    assert shown.locator(".kb-html script").count() == 0
    assert "<script>x</script>" in (shown.locator(".kb-html").text_content() or "")

    page.fill("input[name=kb-search]", "can you wrap my present as a gift")
    first = page.locator(".kb-list li").first
    for _ in range(20):  # the index follows the article's event, after the commit
        page.click("form[role=search] button[type=submit]")
        page.wait_for_timeout(250)
        if title in (first.text_content() or ""):
            break
    assert title in (first.text_content() or "")
    assert page.errors == []
