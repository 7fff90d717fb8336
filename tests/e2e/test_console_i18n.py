"""The console in German, English and Danish (docs/console.md): the agent switches the language
in the header, the console shows German labels at once, and the choice survives a reload."""

from __future__ import annotations

import json
import re
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


LANG_DIR = Path(__file__).resolve().parents[2] / "frontend" / "src" / "console" / "lang"
_ENTRY = re.compile(r'^\s*("[^"]+"|[A-Za-z_]\w*):\s*("(?:[^"\\]|\\.)*"),?\s*$')


def _catalogue(lang: str) -> dict[str, str]:
    """The console's catalogue of one language, read from its source (lang/<lang>*.ts)."""
    out: dict[str, str] = {}
    for name in (f"{lang}.ts", f"{lang}.pages.ts"):
        for line in (LANG_DIR / name).read_text().splitlines():
            m = _ENTRY.match(line)
            if m:
                out[m.group(1).strip('"')] = json.loads(m.group(2))
    return out


def _english_left(page: Any, lang: str) -> list[str]:
    """English catalogue texts (of two words or more, different in `lang`) still on the page:
    as text, or in a placeholder, aria-label or title."""
    en, other = _catalogue("en"), _catalogue(lang)
    shown = page.evaluate(
        """() => [document.body.innerText,
            ...[...document.querySelectorAll('[placeholder],[aria-label],[title]')].flatMap(
              (el) => ['placeholder', 'aria-label', 'title'].map((a) => el.getAttribute(a) || ''))
           ].join('\\n')"""
    )
    left = []
    for key, text in en.items():
        words = re.sub(r"\{\w+\}", "\n", text)
        for part in words.split("\n"):
            part = part.strip(" .:·()")
            if part.count(" ") >= 1 and len(part) >= 8 and other.get(key) != text and part in shown:
                left.append(f"{key}: {part}")
    return sorted(set(left))


# Every view of an admin's console, and what shows it is there.
VIEWS = [
    ("contacts", ".contacts.page h2"),
    ("kb", ".admin.kb h2"),
    ("canned", ".canned-editor h2"),
    ("reports", ".reports [data-testid='figure-Conversations']"),
    ("supervisor", ".card h3"),
    ("callbacks", ".callback-lists"),
    ("rules", ".rules h2"),
    ("sites", ".lifecycle-settings h4"),
    ("agents", ".teams h3"),
    ("webhooks", ".webhooks h2"),
    ("tokens", ".tokens h2"),
    ("audit", ".audit h2"),
]


@pytest.mark.parametrize(
    ("lang", "expect"),
    [
        (
            "de",
            {
                "contacts": "Kontakte",
                "kb": "Wissensdatenbank",
                "rules": "Web-Radar-Regeln",
                "sites": "Nachfassen und Zeitgeber",
                "agents": "Teams",
                "tokens": "API-Tokens",
                "audit": "Protokoll",
            },
        ),
        (
            "da",
            {
                "contacts": "Kontakter",
                "kb": "Vidensbase",
                "rules": "Web Radar-regler",
                "sites": "Genopfølgning og timere",
                "agents": "Teams",
                "tokens": "API-nøgler",
                "audit": "Revisionslog",
            },
        ),
    ],
)
def test_every_admin_page_in_german_and_danish(
    browser: Any,
    demo_server: ServerProcess,
    admin: Admin,
    screenshot_dir: Path,
    lang: str,
    expect: dict[str, str],
) -> None:
    context, page = _console(browser, admin, demo_server.url, "en-GB")
    try:
        page.goto("/console")
        page.wait_for_selector("[data-testid=connection]:has-text('online')")
        page.get_by_label("Language").select_option(lang)
        assert page.evaluate("() => document.documentElement.lang") == lang
        for view, ready in VIEWS:
            page.click(f"[data-view={view}]")
            page.locator(ready).first.wait_for()
            if view in expect:
                assert expect[view] in page.locator(ready).first.inner_text(), view
            if view == "rules":
                page.locator(".rules button.primary").click()
                page.locator(".rule-editor select[name=add-condition]").select_option("form_dwell")
                page.locator(".cond-leaf[data-type=form_dwell]").wait_for()
            if view == "contacts":
                page.locator(".contact-list a").first.click()
                page.locator("[data-testid=identities]").wait_for()
                assert _english_left(page, lang) == [], view
                page.go_back()
                page.locator(".contact-list").wait_for()
            assert _english_left(page, lang) == [], view
        page.screenshot(path=str(screenshot_dir / f"console-admin-{lang}.png"), full_page=True)

        # A refusal of the server reads in the console's language, not in the server's English.
        page.click("[data-view=sites]")
        form = page.locator("form.create")
        form.locator("input[name=site-name]").fill("Nope")
        form.locator("textarea[name=site-origins]").fill("not an origin")
        form.locator("button[type=submit]").click()
        error = form.locator("p.error")
        error.wait_for()
        assert error.inner_text() == _catalogue(lang)["err.invalid"]
        assert "origin" not in error.inner_text()
    finally:
        context.close()
