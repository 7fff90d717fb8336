"""The console in German, English and Danish (docs/console.md): the agent switches the language
in the header, the console shows German labels at once, and the choice survives a reload."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.e2e.test_console import Guest, Loop
from tests.e2e.test_radar import Admin
from tests.support.server import ServerProcess

WAIT_MS = 15_000


@pytest.fixture
def admin(demo_server: ServerProcess) -> Iterator[Admin]:
    side = Admin(demo_server.url)
    try:
        yield side
    finally:
        side.restore()
        side.close()


def _console(browser: Any, admin: Admin, url: str, locale: str) -> tuple[Any, Any]:
    context = browser.new_context(
        base_url=url, viewport={"width": 1400, "height": 900}, locale=locale
    )
    jar = admin.agent.http.cookies.jar
    context.add_cookies([{"name": c.name, "value": c.value, "url": url} for c in jar])
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    return context, page


def test_console_switched_to_german_stays_german(
    browser: Any, demo_server: ServerProcess, admin: Admin, screenshot_dir: Path
) -> None:
    loop = Loop()
    site = admin.api("GET", "/api/sites")[0]
    guest = Guest(loop, demo_server, site["widget_key"])
    context, page = _console(browser, admin, demo_server.url, "en-GB")
    try:
        guest.say("Haben Sie die Lampe in Grau?", new=True)
        assert guest.conversation_id is not None
        admin.conversations.append(guest.conversation_id)

        page.goto("/console")
        page.wait_for_selector("[data-testid=connection]:has-text('online')")
        assert page.evaluate("() => document.documentElement.lang") == "en"
        assert page.locator("[data-view=kb]").inner_text() == "Knowledge base"
        page.click("[data-inbox-view=all]")
        page.click(f".conv-item[data-conv='{guest.conversation_id}']")
        page.get_by_label("Reply", exact=True).wait_for()

        page.get_by_label("Language").select_option("de")
        assert page.evaluate("() => document.documentElement.lang") == "de"
        assert page.locator("[data-view=kb]").inner_text() == "Wissensdatenbank"
        assert page.locator("[data-view=callbacks]").inner_text().startswith("Rückrufe")
        assert page.get_by_label("Antwort", exact=True).get_attribute("name") == "reply"
        assert page.get_by_role("button", name="Senden", exact=True).is_visible()
        assert page.get_by_role("button", name="Abmelden").is_visible()
        assert page.locator("[data-inbox-view=all]").inner_text().startswith("Alle offenen")
        page.screenshot(path=str(screenshot_dir / "console-german.png"))

        page.reload()
        page.wait_for_selector("[data-testid=connection]:has-text('online')")
        assert page.evaluate("() => document.documentElement.lang") == "de"
        assert page.locator("[data-view=kb]").inner_text() == "Wissensdatenbank"
        assert page.get_by_label("Sprache").input_value() == "de"
        page.click("[data-view=radar]")
        page.locator(".radar h2", has_text="Besucher jetzt auf der Website").wait_for()
        page.click("[data-view=callbacks]")
        page.locator(".callback-lists button[data-list=due]", has_text="Fällig").wait_for()
    finally:
        context.close()
        guest.stop()
        loop.close()


def test_console_language_defaults_to_the_browser(
    browser: Any, demo_server: ServerProcess, admin: Admin
) -> None:
    context, page = _console(browser, admin, demo_server.url, "da-DK")
    try:
        page.goto("/console")
        page.wait_for_selector("[data-testid=connection]:has-text('online')")
        assert page.evaluate("() => document.documentElement.lang") == "da"
        assert page.locator("[data-view=kb]").inner_text() == "Vidensbase"
        assert page.get_by_role("button", name="Log ud").is_visible()
    finally:
        context.close()
