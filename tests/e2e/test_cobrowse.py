"""Co-browsing end to end: the visitor on the demo shop and the agent in the console, two
browser contexts in Chromium. Every WebSocket frame on both sides is captured, so that a typed
password or card number can be shown never to leave the visitor's page."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from tests.e2e.conftest import api_login
from tests.support.server import ServerProcess

FRAME = "iframe[data-tresen='frame']"
MIRROR = "[data-testid=cobrowse-mirror] iframe"
TIMEOUT = 15_000
PASSWORD = "Sup3r-Secret-" + uuid.uuid4().hex[:6]
CARD = "4111 1111 1111 1111"


class Wire:
    """Every frame sent and received by a page's WebSockets (its frames' included)."""

    def __init__(self, page: Any) -> None:
        self.frames: list[str] = []
        page.on("websocket", self._on_socket)

    def _on_socket(self, ws: Any) -> None:
        ws.on("framesent", lambda payload: self.frames.append(str(payload)))
        ws.on("framereceived", lambda payload: self.frames.append(str(payload)))

    def text(self) -> str:
        return "\n".join(self.frames)

    def count(self, needle: str) -> int:
        return sum(needle in f for f in self.frames)


@pytest.fixture(scope="module")
def anna(demo_server: ServerProcess) -> Iterator[httpx.Client]:
    http = api_login(demo_server.url, "anna")
    yield http
    http.close()


@pytest.fixture(scope="module")
def ben(demo_server: ServerProcess) -> Iterator[httpx.Client]:
    """Ben, the phone agent (one login for the module; logins are rate limited)."""
    http = api_login(demo_server.url, "ben")
    yield http
    http.close()


def _page(browser: Any, base_url: str, cookies: dict[str, str] | None = None) -> tuple[Any, Any]:
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
    if cookies:
        context.add_cookies([{"name": k, "value": v, "url": base_url} for k, v in cookies.items()])
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    return context, page


@pytest.fixture
def visitor(browser: Any, demo_server: ServerProcess) -> Iterator[tuple[Any, Wire]]:
    context, page = _page(browser, f"http://localhost:{demo_server.port}")
    wire = Wire(page)
    yield page, wire
    context.close()


def _console(browser: Any, server: ServerProcess, http: httpx.Client) -> tuple[Any, Any, Wire]:
    context, page = _page(browser, server.url, dict(http.cookies.items()))
    wire = Wire(page)
    page.goto("/console")
    page.wait_for_selector("[data-testid=connection]:has-text('online')")
    return context, page, wire


@pytest.fixture
def console(
    browser: Any, demo_server: ServerProcess, anna: httpx.Client
) -> Iterator[tuple[Any, Wire]]:
    context, page, wire = _console(browser, demo_server, anna)
    yield page, wire
    context.close()


def _start_chat(page: Any, text: str) -> Any:
    page.goto("/shop/checkout")
    frame = page.frame_locator(FRAME)
    frame.get_by_role("button", name=re.compile("Open chat")).click()
    box = frame.locator("#tw-input")
    box.fill(text)
    box.press("Enter")
    return frame


def _open_conv(console: Any, text: str) -> Any:
    item = console.locator(".conv-item", has_text=text)
    item.wait_for()
    item.click()
    pane = console.locator(".pane", has_text=text)
    pane.wait_for()
    return pane


def _mirror(console: Any) -> Any:
    return console.frame_locator(MIRROR)


def _start_cobrowse(vpage: Any, console: Any, text: str) -> Any:
    frame = _start_chat(vpage, text)
    pane = _open_conv(console, text)
    pane.locator("[data-action=cobrowse]").click()
    prompt = frame.locator("[data-testid=cobrowse-prompt]")
    prompt.wait_for()
    assert "see this page" in prompt.inner_text()
    frame.locator("[data-testid=cobrowse-accept]").click()
    vpage.locator("[data-testid=cobrowse-banner]").wait_for()
    _mirror(console).locator("h1", has_text="Checkout").wait_for()
    return pane


def test_mirror_masking_push_fill_and_stop(
    visitor: tuple[Any, Wire], console: tuple[Any, Wire], anna: httpx.Client
) -> None:
    vpage, vwire = visitor
    cpage, cwire = console
    text = "cobrowse " + uuid.uuid4().hex[:8]
    pane = _start_cobrowse(vpage, cpage, text)
    mirror = _mirror(cpage)

    # A change made by the visitor's page appears in the mirror.
    vpage.evaluate(
        "() => { const p = document.createElement('p'); p.id = 'live-change';"
        " p.textContent = 'Changed by the visitor'; document.querySelector('main').append(p); }"
    )
    mirror.locator("#live-change", has_text="Changed by the visitor").wait_for()

    # Private by default: typed values are masked, password and card are never sent at all.
    vpage.fill("input[name=name]", "Jana Kowalski")
    vpage.fill("input[name=password]", PASSWORD)
    vpage.fill("input[name=card]", CARD)
    vpage.fill("#promo-code", "SPRINGCODE")  # allow-listed: the agent sees it
    cpage.wait_for_function(
        "() => { const f = document.querySelector('[data-testid=cobrowse-mirror] iframe');"
        " const i = f && f.contentDocument.querySelector('#promo-code');"
        " return i && i.value === 'SPRINGCODE'; }"
    )
    name_value = cpage.evaluate(
        "() => document.querySelector('[data-testid=cobrowse-mirror] iframe')"
        ".contentDocument.querySelector('input[name=name]').value"
    )
    assert name_value == "*" * len("Jana Kowalski")
    mirror_html = cpage.evaluate(
        "() => document.querySelector('[data-testid=cobrowse-mirror] iframe')"
        ".contentDocument.documentElement.outerHTML"
    )
    for secret in (PASSWORD, CARD, CARD.replace(" ", ""), "Jana Kowalski"):
        assert secret not in mirror_html
        assert secret not in cpage.content()
    assert 'name="password"' not in mirror_html and 'name="card"' not in mirror_html

    # Form sharing: the agent fills the name field; the visitor sees it in their own page.
    pane.locator("[data-mode=fill]").click()
    mirror.locator("input[name=email]").click()
    pane.locator("input[name=fill_value]").fill("jana@example.com")
    pane.locator(".cobrowse-fill button[type=submit]").click()
    vpage.wait_for_function(
        "() => document.querySelector('input[name=email]').value === 'jana@example.com'"
    )
    vpage.locator("[data-testid=cobrowse-pointer]").first.wait_for(state="attached")

    # Page push: the visitor confirms and their page navigates; the mirror follows.
    pane.locator("input[name=push_url]").fill("/shop/cart")
    pane.locator(".cobrowse-push button").click()
    dialog = vpage.locator("[data-testid=cobrowse-dialog]")
    dialog.wait_for()
    assert "/shop/cart" in dialog.inner_text()
    vpage.locator("[data-testid=cobrowse-yes]").click()
    vpage.wait_for_url(re.compile(r"/shop/cart$"))
    vpage.locator("[data-testid=cobrowse-banner]").wait_for()  # resumed on the new page
    pane.locator("[data-testid=cobrowse-url]", has_text="/shop/cart").wait_for()
    mirror.locator("h1", has_text=re.compile("cart", re.I)).wait_for()

    # Stop ends it at once, for both sides.
    vpage.locator("[data-testid=cobrowse-stop]").click()
    assert vpage.locator("[data-testid=cobrowse-banner]").count() == 0
    pane.locator("[data-action=cobrowse]").wait_for()
    sent_before = vwire.count('"type":"cobrowse_events"')
    vpage.evaluate("() => document.querySelector('main').append('after stop')")
    vpage.wait_for_timeout(500)
    assert vwire.count('"type":"cobrowse_events"') == sent_before

    # Nothing private crossed any socket, in either direction, on either side.
    assert vwire.count('"type":"cobrowse_events"') > 0
    assert cwire.count('"type":"cobrowse_events"') > 0
    for secret in (PASSWORD, CARD, CARD.replace(" ", ""), "Jana Kowalski"):
        assert secret not in vwire.text()
        assert secret not in cwire.text()
    assert "SPRINGCODE" in cwire.text()  # the allow-listed field did travel

    # The audit log has the start, the tools and the stop.
    conv = int(pane.get_attribute("data-pane"))
    actions = [r["action"] for r in anna.get(f"/api/cobrowse/audit?conversation_id={conv}").json()]
    assert {"requested", "started", "fill", "navigate", "stopped"} <= set(actions)
    assert not vpage.errors and not cpage.errors


def test_declining_starts_nothing(visitor: tuple[Any, Wire], console: tuple[Any, Wire]) -> None:
    vpage, vwire = visitor
    cpage, _ = console
    text = "decline " + uuid.uuid4().hex[:8]
    frame = _start_chat(vpage, text)
    pane = _open_conv(cpage, text)
    pane.locator("[data-action=cobrowse]").click()
    frame.locator("[data-testid=cobrowse-prompt]").wait_for()
    frame.locator("[data-testid=cobrowse-decline]").click()
    pane.locator("[data-testid=cobrowse-notice]", has_text="declined").wait_for()
    vpage.wait_for_timeout(500)
    assert vpage.evaluate("() => typeof window.__tresenCb") == "undefined"
    assert vpage.locator("script[src*='cobrowse-recorder']").count() == 0
    assert vpage.locator("[data-testid=cobrowse-banner]").count() == 0
    assert vwire.count('"type":"cobrowse_events"') == 0
    assert cpage.locator(MIRROR).count() == 0


def test_support_code_joins_a_phone_agent(
    browser: Any, demo_server: ServerProcess, visitor: tuple[Any, Wire], ben: httpx.Client
) -> None:
    vpage, _ = visitor
    text = "phone " + uuid.uuid4().hex[:8]
    frame = _start_chat(vpage, text)
    vpage.click("#support-code")
    shown = frame.locator("[data-testid=cobrowse-code] .cb-code")
    shown.wait_for()
    code = shown.get_attribute("data-code")
    assert code and re.fullmatch(r"\d{6}", code)

    context, cpage, _ = _console(browser, demo_server, ben)
    try:
        cpage.fill("input[name=support_code]", code)
        cpage.locator("[data-testid=join-by-code] button").click()
        pane = cpage.locator(".pane", has_text=text)
        pane.wait_for()
        vpage.locator("[data-testid=cobrowse-banner]").wait_for()
        _mirror(cpage).locator("h1", has_text="Checkout").wait_for()
        # Single use: the same code does not work twice.
        r = ben.post(
            "/api/cobrowse/join-by-code",
            json={"code": code},
            headers={"X-CSRF-Token": _csrf(ben)},
        )
        assert r.status_code == 404 and r.json()["code"] == "bad_code"
    finally:
        context.close()


def _csrf(http: httpx.Client) -> str:
    r = http.get("/api/auth/me")
    return str(r.json().get("csrf_token", ""))


class Tamper:
    """The visitor's socket, forwarded both ways; the full snapshot of ``page`` gets an
    unmasked field value (what a faulty recorder would send), so the relay drops that batch."""

    def __init__(self, page: str) -> None:
        self.page = page
        self.tampered = 0

    def route(self, ws: Any) -> None:
        server = ws.connect_to_server()

        def to_server(message: str | bytes) -> None:
            if isinstance(message, str) and '"cobrowse_events"' in message:
                frame = json.loads(message)
                full = [ev for ev in frame.get("events", []) if ev.get("type") == 2]
                if frame.get("url", "").endswith(self.page) and full:
                    leak = {"type": 2, "tagName": "input", "id": 987654, "childNodes": []}
                    leak["attributes"] = {"type": "text", "value": "unmasked by a faulty recorder"}
                    full[0]["data"]["node"]["childNodes"].append(leak)
                    self.tampered += 1
                    message = json.dumps(frame)
            server.send(message)

        ws.on_message(to_server)
        server.on_message(lambda m: ws.send(m))


def test_real_pages_hidden_values_and_no_stale_page(
    visitor: tuple[Any, Wire], console: tuple[Any, Wire]
) -> None:
    """A product page carries hidden inputs with values (a product id, a CSRF token): the agent
    sees the page with those values omitted. A new page that cannot be shown is shown as "not
    shown" under its URL, never as the previous page."""
    vpage, _ = visitor
    cpage, cwire = console
    tamper = Tamper("/shop/cart")
    vpage.context.route_web_socket(lambda url: "/ws/visitor" in url, tamper.route)
    text = "real pages " + uuid.uuid4().hex[:8]
    pane = _start_cobrowse(vpage, cpage, text)
    mirror = _mirror(cpage)

    vpage.goto("/shop/products/nord-lamp")
    token = vpage.locator("input[name=form_token]").get_attribute("value")
    assert token and len(token) >= 20
    vpage.locator("[data-testid=cobrowse-banner]").wait_for()
    mirror.locator("h1", has_text="Nord table lamp").wait_for()
    pane.locator("[data-testid=cobrowse-url]", has_text="/shop/products/nord-lamp").wait_for()
    hidden = cpage.evaluate(
        "() => [...document.querySelector('[data-testid=cobrowse-mirror] iframe')"
        ".contentDocument.querySelectorAll('input[type=hidden]')]"
        ".map(i => [i.name, i.getAttribute('value')])"
    )
    assert sorted(hidden) == [["form_token", None], ["slug", None]]
    assert pane.locator("[data-testid=cobrowse-unshown]").count() == 0
    assert token not in cwire.text()
    assert token not in cpage.content()

    # The next page's snapshot is not relayed: the agent sees "not shown" for the cart, and
    # not the lamp page any more.
    vpage.goto("/shop/cart")
    vpage.locator("[data-testid=cobrowse-banner]").wait_for()
    pane.locator("[data-testid=cobrowse-unshown]").wait_for()
    assert tamper.tampered >= 1
    pane.locator("[data-testid=cobrowse-url]", has_text="/shop/cart").wait_for()
    assert not cpage.locator("[data-testid=cobrowse-mirror]").is_visible()
    assert "not shown" in pane.locator("[data-testid=cobrowse-unshown]").inner_text()
    assert "/shop/cart" in pane.locator("[data-testid=cobrowse-unshown]").inner_text()

    # A page that can be shown brings the mirror back.
    vpage.goto("/shop/products/fjord-kettle")
    vpage.locator("[data-testid=cobrowse-banner]").wait_for()
    mirror.locator("h1", has_text="Fjord kettle").wait_for()
    pane.locator("[data-testid=cobrowse-unshown]").wait_for(state="detached")
    assert cpage.locator("[data-testid=cobrowse-mirror]").is_visible()
    assert "unmasked by a faulty recorder" not in cwire.text()
    assert not vpage.errors and not cpage.errors
