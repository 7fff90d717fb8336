"""Co-browsing remote control end to end (Chromium): after the visitor's second consent the agent
scrolls with the wheel over the mirror and types into a field; declining leaves control off;
typing into a private field reaches nothing."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from tests.e2e import test_cobrowse as base
from tests.e2e.test_cobrowse import MIRROR, Wire, _mirror, _start_cobrowse

# The co-browse module's fixtures, shared.
visitor = pytest.fixture(base.visitor.__wrapped__)  # type: ignore[attr-defined]
console = pytest.fixture(base.console.__wrapped__)  # type: ignore[attr-defined]
anna = pytest.fixture(scope="module")(base.anna.__wrapped__)  # type: ignore[attr-defined]


def _grant_control(vpage: Any, pane: Any, accept: bool) -> None:
    pane.locator("[data-action=request-control]").click()
    dialog = vpage.locator("[data-testid=cobrowse-dialog]")
    dialog.wait_for()
    assert "control this page" in dialog.inner_text()
    vpage.locator("[data-testid=cobrowse-yes]" if accept else "[data-testid=cobrowse-no]").click()


def test_control_scrolls_and_types_but_never_into_private_fields(
    visitor: tuple[Any, Wire], console: tuple[Any, Wire]
) -> None:
    vpage, vwire = visitor
    cpage, _ = console
    text = "control " + uuid.uuid4().hex[:8]
    pane = _start_cobrowse(vpage, cpage, text)
    mirror = _mirror(cpage)
    # A long page, so that there is something to scroll.
    vpage.evaluate(
        "() => { const d = document.createElement('div'); d.id = 'tall';"
        " d.style.height = '3000px'; document.querySelector('main').append(d); }"
    )
    mirror.locator("#tall").wait_for(state="attached")

    _grant_control(vpage, pane, accept=True)
    pane.locator("[data-testid=cobrowse-status]", has_text="with control").wait_for()
    banner = vpage.locator("[data-testid=cobrowse-banner]")
    assert "control this page" in banner.inner_text()
    pane.locator("[data-mode=control]").click()

    # Typing: click into the name field in the mirror, type (with a correction).
    mirror.locator("input[name=name]").click()
    cpage.keyboard.type("Jo")
    cpage.keyboard.press("Backspace")
    cpage.keyboard.type("ana K")
    vpage.wait_for_function("() => document.querySelector('input[name=name]').value === 'Jana K'")
    assert vwire.count('"action":"type"') >= 1
    # The mirror shows the visitor's page (masked), not the agent's keystrokes.
    cpage.wait_for_function(
        "() => document.querySelector('[data-testid=cobrowse-mirror] iframe')"
        ".contentDocument.querySelector('input[name=name]').value === '******'"
    )

    # Scrolling: the wheel over the mirror scrolls the visitor's page.
    assert vpage.evaluate("() => window.scrollY") == 0
    box = cpage.locator(MIRROR).bounding_box()
    assert box
    cpage.mouse.move(box["x"] + box["width"] / 2, box["y"] + min(box["height"] / 2, 200))
    for _ in range(4):
        cpage.mouse.wheel(0, 200)
        cpage.wait_for_timeout(30)
    vpage.wait_for_function("() => window.scrollY >= 400")
    scrolls = vwire.count('"action":"scroll"')
    assert 1 <= scrolls <= 4  # batched, never one per wheel tick beyond the throttle

    # Typing into the password field (blocked: a placeholder in the mirror) reaches nothing.
    placeholders = cpage.evaluate(
        "() => [...document.querySelector('[data-testid=cobrowse-mirror] iframe')"
        ".contentDocument.querySelectorAll('input:not([name])')].length"
    )
    assert placeholders == 2  # the card number and the password: no name, no value
    password = mirror.locator("input:not([name])").nth(1)
    password.click()
    typed_before = vwire.count('"action":"type"')
    cpage.keyboard.type("hunter22")
    pane.locator("[data-testid=cobrowse-notice]", has_text="Not typed").wait_for()
    assert vpage.evaluate("() => document.querySelector('input[name=password]').value") == ""
    assert vpage.evaluate("() => document.querySelector('input[name=card]').value") == ""
    assert vwire.count('"action":"type"') == typed_before
    assert "hunter22" not in vwire.text()
    assert not vpage.errors and not cpage.errors


def test_declining_control_leaves_control_off(
    visitor: tuple[Any, Wire], console: tuple[Any, Wire], anna: httpx.Client
) -> None:
    vpage, vwire = visitor
    cpage, _ = console
    text = "nocontrol " + uuid.uuid4().hex[:8]
    pane = _start_cobrowse(vpage, cpage, text)
    _grant_control(vpage, pane, accept=False)
    conv = int(pane.get_attribute("data-pane"))

    def audited() -> list[str]:
        r = anna.get(f"/api/cobrowse/audit?conversation_id={conv}")
        return [row["action"] for row in r.json()]

    for _ in range(50):
        if "control_revoked" in audited():
            break
        cpage.wait_for_timeout(100)
    assert "control_revoked" in audited() and "control_granted" not in audited()
    assert "with control" not in pane.locator("[data-testid=cobrowse-status]").inner_text()
    assert pane.locator("[data-mode=control]").count() == 0
    assert "control this page" not in vpage.locator("[data-testid=cobrowse-banner]").inner_text()
    # The wheel and keys over the mirror do nothing without control.
    box = cpage.locator(MIRROR).bounding_box()
    assert box
    cpage.mouse.move(box["x"] + 50, box["y"] + 50)
    cpage.mouse.wheel(0, 400)
    _mirror(cpage).locator("input[name=name]").click()
    cpage.keyboard.type("x")
    cpage.wait_for_timeout(400)
    assert vwire.count('"action":"scroll"') == 0 and vwire.count('"action":"type"') == 0
    assert vpage.evaluate("() => document.querySelector('input[name=name]').value") == ""
