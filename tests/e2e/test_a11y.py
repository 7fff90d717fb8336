"""Accessibility under axe-core (npm ``axe-core``, run in the page by Playwright): every console
view and every widget state has no serious or critical violation. Also the keyboard fixes axe
cannot see: the skip links, the console's live message log, the widget's focus trap on a phone.

The demo server is shared with the other e2e tests: the agents' status and the conversations
opened here are put back / resolved (the ``admin`` fixture of test_queue).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.e2e.test_radar import Admin
from tests.e2e.test_widget import (
    _frame_obj,
    _open_page,
    _open_panel,
    _send_from_visitor,
    _wait_body,
    shop_url,
)
from tests.support.server import ServerProcess

AXE = Path(__file__).resolve().parents[2] / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
WAIT_MS = 15_000
INSIDE = "() => document.hasFocus() && !!document.activeElement.closest('.panel')"

CONSOLE_VIEWS = [
    "radar",
    "kb",
    "canned",
    "callbacks",
    "contacts",
    "supervisor",
    "reports",
    "rules",
    "sites",
    "agents",
    "webhooks",
    "tokens",
    "audit",
]


@pytest.fixture(autouse=True)
def _need_axe() -> None:
    if not AXE.exists():
        pytest.fail(f"{AXE} missing: run `npm ci` in frontend/ (axe-core is a devDependency)")


@pytest.fixture
def admin(demo_server: ServerProcess) -> Iterator[Admin]:
    """Anna with her socket open; puts back what the test changed."""
    side = Admin(demo_server.url)
    side.connect()
    try:
        yield side
    finally:
        side.restore()
        side.close()


def serious(target: Any, where: str) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations in a page or frame, in short form."""
    if not target.evaluate("() => typeof window.axe !== 'undefined'"):
        target.add_script_tag(path=str(AXE))
    found: list[dict[str, Any]] = target.evaluate(
        """async () => {
          const r = await axe.run(document, { resultTypes: ["violations"] });
          return r.violations
            .filter(v => v.impact === "serious" || v.impact === "critical")
            .map(v => ({ id: v.id, impact: v.impact, help: v.help,
                         nodes: v.nodes.slice(0, 5).map(n => ({ target: n.target.join(" "),
                                                                 summary: n.failureSummary })) }));
        }"""
    )
    for v in found:
        v["where"] = where
    return found


def report(violations: list[dict[str, Any]]) -> str:
    return json.dumps(violations, indent=2, ensure_ascii=False)


def _console(browser: Any, admin: Admin, url: str) -> tuple[Any, Any]:
    # axe is injected as an inline script: the console's CSP (script-src 'self') must let it in.
    context = browser.new_context(
        base_url=url, viewport={"width": 1400, "height": 900}, bypass_csp=True
    )
    jar = admin.agent.http.cookies.jar
    context.add_cookies([{"name": c.name, "value": c.value, "url": url} for c in jar])
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    return context, page


def test_console_views_have_no_serious_violations(
    browser: Any, demo_server: ServerProcess, admin: Admin, screenshot_dir: Path
) -> None:
    found: list[dict[str, Any]] = []
    # The login form, without a session.
    context = browser.new_context(base_url=demo_server.url, bypass_csp=True)
    login = context.new_page()
    login.goto("/console/login")
    login.locator("form.login-box").wait_for()
    found += serious(login, "login")
    context.close()

    # A visitor's chat, open in the console.
    admin.set_agent(admin.agent.id, status="online")
    shop_ctx, shop, _ = _open_page(browser, viewport={"width": 1280, "height": 800})
    context, page = _console(browser, admin, demo_server.url)
    try:
        shop.goto(shop_url(demo_server))
        _open_panel(shop)
        _send_from_visitor(shop, "Is the Nord lamp dimmable?")
        conv = admin.wait_message("Is the Nord lamp dimmable?")["conversation_id"]
        admin.conversations.append(conv)

        page.goto("/console")
        page.wait_for_selector("[data-testid=connection]:has-text('online')")
        page.click("[data-inbox-view=all]")
        page.click(f".conv-item[data-conv='{conv}']")
        pane = page.locator(f".pane[data-pane='{conv}']")
        pane.locator(".msg-list li", has_text="Is the Nord lamp dimmable?").wait_for()
        found += serious(page, "chats (open conversation)")

        # The chat tabs hold no close button inside a tab list any more; the log is live
        # (polite) once its history is shown; the reply box has a real label.
        assert page.locator("[role=tablist]").count() == 0
        log = pane.locator("[role=log]")
        assert log.get_attribute("aria-live") == "polite"
        assert page.get_by_label("Reply", exact=True).count() == 1

        # Skip links: each takes focus where it says; on a fresh page the first Tab stop.
        page.get_by_role("link", name="Skip to the reply box").focus()
        page.keyboard.press("Enter")
        assert page.evaluate("() => document.activeElement.name") == "reply"
        page.screenshot(path=str(screenshot_dir / "a11y-console-chat.png"))
        page.reload()
        page.wait_for_selector("[data-testid=connection]:has-text('online')")
        page.keyboard.press("Tab")
        assert page.evaluate("() => document.activeElement.textContent") == "Skip to conversations"
        page.keyboard.press("Enter")
        assert page.evaluate("() => document.activeElement.id") == "conversations"

        for view in CONSOLE_VIEWS:
            page.click(f"[data-view={view}]")
            page.wait_for_url(re.compile(r"/console/"))
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(300)  # the view's first fetch rendered
            found += serious(page, view)
    finally:
        context.close()
        shop_ctx.close()
    assert not found, "axe-core found serious/critical violations:\n" + report(found)


def test_widget_states_have_no_serious_violations(
    browser: Any, demo_server: ServerProcess, admin: Admin, screenshot_dir: Path
) -> None:
    found: list[dict[str, Any]] = []
    admin.set_agent(admin.agent.id, status="online")
    context, page, _ = _open_page(browser, viewport={"width": 1280, "height": 800}, bypass_csp=True)
    try:
        page.goto(shop_url(demo_server))
        launcher = page.frame_locator("iframe[data-tresen='frame']")
        launcher.get_by_role("button", name=re.compile("Open chat")).wait_for()
        found += serious(_frame_obj(page), "widget launcher")
        frame = _open_panel(page)
        found += serious(_frame_obj(page), "widget open panel")

        _send_from_visitor(page, "Do you ship to Denmark?")
        conv = admin.wait_message("Do you ship to Denmark?")["conversation_id"]
        admin.conversations.append(conv)
        admin.send(conv, "Yes, within three days.")
        _wait_body(page, "Yes, within three days.")
        found += serious(_frame_obj(page), "widget chat with messages")

        admin.resolve(conv)
        ended = frame.locator(".ended")
        ended.get_by_text("This chat has ended.").wait_for()
        found += serious(_frame_obj(page), "widget end notice with rating")
    finally:
        context.close()

    # Nobody online: the ways out (overflow options), then the callback form.
    for agent_id in admin.saved:
        admin.set_agent(agent_id, status="offline")
    context, page, _ = _open_page(browser, viewport={"width": 1280, "height": 800}, bypass_csp=True)
    try:
        page.goto(shop_url(demo_server, "/shop/contact"))
        frame = _open_panel(page)
        _send_from_visitor(page, "Can someone call me back?")
        options = frame.get_by_role("group")
        options.wait_for()
        found += serious(_frame_obj(page), "widget overflow options")
        options.get_by_role("button", name="Request a callback").click()
        options.get_by_label("Your phone number").wait_for()
        found += serious(_frame_obj(page), "widget callback form")
        page.screenshot(path=str(screenshot_dir / "a11y-widget-callback.png"))
    finally:
        context.close()
    assert not found, "axe-core found serious/critical violations:\n" + report(found)


def test_widget_focus_ring_and_phone_focus_trap(browser: Any, demo_server: ServerProcess) -> None:
    context, page, _ = _open_page(
        browser, viewport={"width": 390, "height": 800}, is_mobile=True, has_touch=True
    )
    try:
        page.goto(shop_url(demo_server))
        _open_panel(page)
        frame = _frame_obj(page)
        # Two colours around the focused control: a dark ring and a white one.
        frame.locator("#tw-input").focus()
        page.keyboard.press("Shift+Tab")  # a button, focused from the keyboard
        ring = frame.evaluate(
            """() => { const s = getComputedStyle(document.activeElement);
                       return [s.outlineColor, s.boxShadow,
                               document.activeElement.outerHTML.slice(0, 80)]; }"""
        )
        assert ring[0] in ("rgb(17, 17, 17)",), ring
        assert "rgb(255, 255, 255)" in ring[1], ring
        # Full screen: Tab from the last control wraps to the first, Shift+Tab back; focus
        # never leaves the frame for the hidden page.
        frame.locator("#tw-input").focus()
        for _ in range(12):
            page.keyboard.press("Tab")
            assert frame.evaluate(INSIDE)
        for _ in range(12):
            page.keyboard.press("Shift+Tab")
            assert frame.evaluate(INSIDE)
    finally:
        context.close()
