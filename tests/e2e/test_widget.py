"""The widget as a visitor meets it: the demo shop in headless Chromium, the agent over the wire.

The shop is opened on ``localhost`` while Tresen (and so the widget frame) lives on
``127.0.0.1``: the frame is cross-origin to the page, as on a customer's site.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import re
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from tests.e2e.conftest import DEMO_PASSWORD
from tests.support.actors import Agent
from tests.support.server import ServerProcess

T = TypeVar("T")
FRAME = "iframe[data-tresen='frame']"
TIMEOUT = 15_000


_LOOP: asyncio.AbstractEventLoop | None = None
_LOGINS: dict[tuple[str, str], Agent] = {}


def _background_loop() -> asyncio.AbstractEventLoop:
    """One event loop thread for every AgentSide of the session, so that a login (its HTTP
    client) can be reused: the server allows only a few logins a minute."""
    global _LOOP
    if _LOOP is None:
        _LOOP = asyncio.new_event_loop()
        threading.Thread(target=_LOOP.run_forever, daemon=True).start()
        atexit.register(_close_logins)
    return _LOOP


def _close_logins() -> None:
    loop = _LOOP
    if loop is None:
        return
    for agent in _LOGINS.values():
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(agent.close(), loop).result(5)
    loop.call_soon_threadsafe(loop.stop)


class AgentSide:
    """An agent driven over HTTP and WebSocket from a background event loop, so the sync
    Playwright test can call it directly. Logins are shared by the tests of a session."""

    def __init__(self, base_url: str, username: str = "anna") -> None:
        self.loop = _background_loop()
        self.frames: list[dict[str, Any]] = []
        key = (base_url, username)
        if key not in _LOGINS:
            _LOGINS[key] = self.run(Agent.login(base_url, username, DEMO_PASSWORD))
        self.agent: Agent = _LOGINS[key]
        self.client: Any = None

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def connect(self) -> None:
        self.client = self.agent.client()
        self.client.on_frame = self.frames.append
        self.run(self.client.start())

    def set_status(self, status: str, agent_id: int | None = None) -> None:
        path = f"/api/agents/{agent_id or self.agent.id}"
        r = self.run(self.agent.patch(path, json={"status": status}))
        r.raise_for_status()

    def api(self, method: str, path: str, **kw: Any) -> Any:
        """An admin HTTP call (anna is an admin); raises on an error status."""
        headers = {"X-CSRF-Token": self.agent.csrf}
        r = self.run(self.agent.http.request(method, path, headers=headers, **kw))
        r.raise_for_status()
        return r.json() if r.content else None

    def agent_ids(self) -> list[int]:
        r = self.run(self.agent.http.get("/api/agents"))
        r.raise_for_status()
        return [a["id"] for a in r.json()]

    def wait(self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 15) -> Any:
        async def go() -> dict[str, Any]:
            await self.client.wait_for(lambda: any(predicate(f) for f in self.frames), timeout)
            return next(f for f in self.frames if predicate(f))

        return self.run(go(), timeout + 5)

    def wait_message(self, body: str) -> dict[str, Any]:
        return self.wait(  # type: ignore[no-any-return]
            lambda f: f["type"] == "message" and f["body"] == body
        )

    def send(self, conversation_id: int, body: str) -> dict[str, Any]:
        async def go() -> dict[str, Any]:
            cmid = await self.client.send(body, conversation_id)
            return await self.client.wait_ack(cmid, 15)  # type: ignore[no-any-return]

        return self.run(go())

    def raw(self, frame: dict[str, Any]) -> None:
        self.run(self.client.send_raw(frame))

    def close(self) -> None:
        if self.client is not None:
            self.run(self.client.stop())
            self.client = None


def shop_url(server: ServerProcess, path: str = "/shop/") -> str:
    return f"http://localhost:{server.port}{path}"


@pytest.fixture
def agent(demo_server: ServerProcess) -> Iterator[AgentSide]:
    side = AgentSide(demo_server.url)
    side.set_status("online")
    side.connect()
    yield side
    side.close()


def _open_page(browser: Any, **ctx: Any) -> tuple[Any, Any, list[str]]:
    context = browser.new_context(**ctx)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    # A Content-Security-Policy violation in the frame would show up here; count it as a dialog.
    page.on(
        "console",
        lambda m: dialogs.append(m.text) if "Content Security Policy" in m.text else None,
    )
    return context, page, dialogs


def _frame(page: Any) -> Any:
    return page.frame_locator(FRAME)


def _frame_obj(page: Any) -> Any:
    return next(f for f in page.frames if "/widget/frame" in f.url)


def _box(page: Any) -> dict[str, float]:
    return page.locator(FRAME).bounding_box()  # type: ignore[no-any-return]


def _send_from_visitor(page: Any, text: str) -> None:
    box = _frame(page).locator("#tw-input")
    box.fill(text)
    box.press("Enter")


def _open_panel(page: Any) -> Any:
    frame = _frame(page)
    frame.get_by_role("button", name=re.compile("Open chat")).click()
    frame.locator(".panel").wait_for()
    return frame


def _bodies(page: Any) -> list[str]:
    return _frame_obj(page).eval_on_selector_all(  # type: ignore[no-any-return]
        ".log .body", "els => els.map(e => e.textContent)"
    )


def _wait_in_frame(page: Any, script: str, arg: Any = None) -> None:
    """wait_for_function in the widget frame, tolerating the frame being replaced by a
    navigation or reload while we wait."""
    from playwright.sync_api import Error

    deadline = time.monotonic() + TIMEOUT / 1000
    while True:
        try:
            _frame_obj(page).wait_for_function(script, arg=arg, timeout=TIMEOUT)
            return
        except (Error, StopIteration):
            if time.monotonic() > deadline:
                raise
            page.wait_for_timeout(200)


def _wait_body(page: Any, text: str) -> None:
    _wait_in_frame(
        page,
        "t => [...document.querySelectorAll('.log .body')].some(e => e.textContent === t)",
        text,
    )


def test_offline_visitor_can_leave_a_message(
    demo_server: ServerProcess, browser: Any, screenshot_dir: Path
) -> None:
    admin = AgentSide(demo_server.url)  # no socket: nobody is connected
    try:
        for agent_id in admin.agent_ids():
            admin.set_status("offline", agent_id)
        context, page, _ = _open_page(browser, viewport={"width": 1280, "height": 800})
        page.goto(shop_url(demo_server))
        frame = _open_panel(page)
        frame.get_by_text("Nobody can answer right now", exact=False).wait_for()
        assert frame.get_by_label("Your email (for our reply)").is_visible()
        frame.get_by_label("Your email (for our reply)").fill("petra@example.com")
        _send_from_visitor(page, "Please call me back about my order")
        # The chat overflows (nobody online) and the address given makes it an email
        # conversation (queue_choice "message"): the system confirms it in the log.
        _wait_body(page, "Message left; we answer by email to petra@example.com.")
        assert _bodies(page) == [
            "Please call me back about my order",
            "Message left; we answer by email to petra@example.com.",
        ]
        assert frame.locator(".overflow").count() == 0
        page.screenshot(path=str(screenshot_dir / "widget-offline.png"))
        context.close()
    finally:
        admin.close()


def test_visitor_chats_with_an_agent_across_pages(
    demo_server: ServerProcess, browser: Any, agent: AgentSide, screenshot_dir: Path
) -> None:
    context, page, dialogs = _open_page(browser, viewport={"width": 1280, "height": 800})
    page.goto(shop_url(demo_server))
    frame = _frame(page)
    launcher = frame.get_by_role("button", name="Open chat")
    launcher.wait_for()
    assert page.evaluate("typeof window.Tresen.open") == "function"
    page.wait_for_timeout(1500)  # the panel never opens by itself
    assert frame.locator(".panel").count() == 0
    assert _box(page)["width"] < 100 and _box(page)["height"] < 100
    page.screenshot(path=str(screenshot_dir / "widget-launcher.png"))

    launcher.click()
    frame.locator(".panel").wait_for()
    assert _box(page)["width"] >= 320 and _box(page)["height"] >= 400
    _wait_in_frame(page, "document.activeElement.id === 'tw-input'")
    _send_from_visitor(page, "Hello, my promo code does not work")
    first = agent.wait_message("Hello, my promo code does not work")
    conv = first["conversation_id"]

    agent.raw({"type": "read", "conversation_id": conv, "seq": first["seq"]})
    frame.locator(".meta", has_text="Read").wait_for()
    agent.raw({"type": "typing", "conversation_id": conv, "is_typing": True})
    # the name isolated (FSI ... PDI) inside the sentence: user text
    frame.get_by_text(re.compile("\u2068Anna\u2069 is typing")).wait_for()
    reply = "Hi, I am Anna. The summer code has ended, see https://example.com/codes."
    agent.send(conv, reply)
    _wait_body(page, reply)
    assert frame.locator(".typing").inner_text() == ""
    link = frame.locator(".log a")
    assert link.get_attribute("href") == "https://example.com/codes"
    assert link.get_attribute("target") == "_blank"
    assert set((link.get_attribute("rel") or "").split()) >= {"noopener", "noreferrer"}
    assert frame.locator(".head h1").inner_text() == "Anna"
    agent.wait(lambda f: f["type"] == "read" and f["reader"] == "visitor" and f["seq"] >= 2)
    page.screenshot(path=str(screenshot_dir / "widget-conversation.png"))

    # Another page: the conversation continues, history shown, new messages flow both ways.
    page.get_by_role("link", name="Nord table lamp").first.click()
    page.wait_for_url(re.compile(r"/shop/products/nord-lamp"))
    _wait_body(page, reply)
    assert _bodies(page)[:2] == ["Hello, my promo code does not work", reply]
    agent.send(conv, "Are you still on the lamp page?")
    _wait_body(page, "Are you still on the lamp page?")
    _send_from_visitor(page, "Yes, I am")
    assert agent.wait_message("Yes, I am")["conversation_id"] == conv

    # Escape closes and gives focus back to the launcher; a reply then shows an unread badge.
    frame.locator("#tw-input").press("Escape")
    frame.get_by_role("button", name=re.compile("Open chat")).wait_for()
    _wait_in_frame(page, "document.activeElement.className === 'launcher'")
    assert _box(page)["width"] < 100
    agent.send(conv, "Here is a working code: WINTER10")
    frame.get_by_role("button", name="Open chat, 1 unread message").wait_for()
    assert frame.locator(".badge").inner_text() == "1"

    # A reload keeps the conversation (token in the frame's storage, resumed by seq).
    page.reload()
    frame = _open_panel(page)
    _wait_body(page, "Here is a working code: WINTER10")
    assert _bodies(page) == [
        "Hello, my promo code does not work",
        reply,
        "Are you still on the lamp page?",
        "Yes, I am",
        "Here is a working code: WINTER10",
    ]
    assert dialogs == []
    page.screenshot(path=str(screenshot_dir / "widget-after-navigation.png"))
    context.close()


HOSTILE = [
    "<script>window.__pwned=1;alert('script')</script>",
    '<img src=x onerror="window.__pwned=1;alert(1)">',
    "\u202eevil right-to-left override\u202c and back",
    "emoji 🎉 👩\u200d👩\u200d👧\u200d👦 🇩🇰 done",
    "javascript:alert(1) <a href='javascript:alert(2)'>x</a> http://ok.example/?q=<b>",
    ("8 KB of text, " * 700)[:8192],
]


def test_hostile_text_is_shown_inert(
    demo_server: ServerProcess, browser: Any, agent: AgentSide, screenshot_dir: Path
) -> None:
    context, page, dialogs = _open_page(browser, viewport={"width": 1280, "height": 800})
    page.goto(shop_url(demo_server, "/shop/products/fjord-kettle"))
    _open_panel(page)
    _send_from_visitor(page, "hostile test")
    conv = agent.wait_message("hostile test")["conversation_id"]
    for text in HOSTILE:
        agent.send(conv, text)
        _wait_body(page, text)
        _send_from_visitor(page, text)
        agent.wait(
            lambda f, t=text: (
                f["type"] == "message"
                and f["body"] == t
                and f["author"]["kind"] == "visitor"
                and f["conversation_id"] == conv
            )
        )
    page.wait_for_timeout(500)
    bodies = _bodies(page)
    assert bodies == ["hostile test", *[t for text in HOSTILE for t in (text, text)]]
    fr = _frame_obj(page)
    assert (
        fr.evaluate("document.querySelectorAll('.log img, .log script, .log iframe').length") == 0
    )
    assert fr.evaluate("window.__pwned") is None and page.evaluate("window.__pwned") is None
    hrefs = fr.eval_on_selector_all(".log a", "els => els.map(e => e.href)")
    assert hrefs and all(h.startswith("http://ok.example/") for h in hrefs)
    assert dialogs == []
    page.screenshot(path=str(screenshot_dir / "widget-hostile.png"))
    context.close()


def test_phone_layout(
    demo_server: ServerProcess, browser: Any, agent: AgentSide, screenshot_dir: Path
) -> None:
    context, page, dialogs = _open_page(
        browser,
        viewport={"width": 360, "height": 740},
        is_mobile=True,
        has_touch=True,
    )
    page.goto(shop_url(demo_server, "/shop/checkout"))
    frame = _frame(page)
    frame.get_by_role("button", name="Open chat").wait_for()
    page.wait_for_timeout(1000)
    assert frame.locator(".panel").count() == 0
    assert _box(page)["width"] < 100

    # The failing promo code: the page reports it through Tresen.track, nothing breaks.
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.fill("#promo-code", "SUMMER")
    page.get_by_role("button", name="Apply").click()
    page.get_by_text("could not be applied", exact=False).wait_for()
    frame.get_by_role("button", name="Open chat").wait_for()
    page.screenshot(path=str(screenshot_dir / "widget-phone-launcher.png"))

    # (device_scale_factor stays 1: with mobile emulation at 2x, Playwright's input lands
    # off target inside cross-origin frames.)
    frame.get_by_role("button", name="Open chat").tap()
    frame.locator(".panel").wait_for()
    box = _box(page)
    assert (box["x"], box["y"], box["width"], box["height"]) == (0, 0, 360, 740)
    _send_from_visitor(page, "The code SUMMER fails on my phone")
    conv = agent.wait_message("The code SUMMER fails on my phone")["conversation_id"]
    agent.send(conv, "Sorry! Use WINTER10 instead.")
    _wait_body(page, "Sorry! Use WINTER10 instead.")
    fr = _frame_obj(page)
    assert fr.evaluate("document.documentElement.scrollWidth") <= 360
    send_box = frame.get_by_role("button", name="Send").bounding_box()
    assert send_box["x"] + send_box["width"] <= 360 and send_box["y"] + send_box["height"] <= 740
    page.screenshot(path=str(screenshot_dir / "widget-phone-open.png"))
    frame.get_by_role("button", name="Close chat").tap()
    frame.get_by_role("button", name="Open chat").wait_for()
    # the frame shrinks back to the launcher once the loader hears the panel closed
    page.wait_for_function(
        "s => document.querySelector(s).getBoundingClientRect().width < 100", arg=FRAME
    )
    assert errors == [] and dialogs == []
    context.close()


def test_frame_is_locked_to_the_sites_origins(demo_server: ServerProcess) -> None:
    import httpx

    shop = httpx.get(shop_url(demo_server)).text
    key = re.search(r'data-site="([^"]+)"', shop).group(1)  # type: ignore[union-attr]
    snippet = f'<script src="{demo_server.url}/widget.js" data-site="{key}" '
    assert snippet + 'data-topics="Sales,Support" async></script>' in shop
    loader = httpx.get(f"{demo_server.url}/widget.js")
    assert loader.status_code == 200 and "javascript" in loader.headers["content-type"]

    own, twin = demo_server.url, shop_url(demo_server, "")
    ok = httpx.get(f"{own}/widget/frame", params={"site": key, "origin": twin})
    assert ok.status_code == 200
    csp = ok.headers["content-security-policy"]
    assert f"frame-ancestors 'self' {own} {twin}" in csp
    # The frame's inlined core is allowed by its hash only (no 'unsafe-inline').
    assert re.search(r"script-src 'self' 'sha256-[A-Za-z0-9+/]+=*';", csp), csp
    assert "unsafe-inline" not in csp and "default-src 'none'" in csp
    evil = httpx.get(f"{own}/widget/frame", params={"site": key, "origin": "https://evil.example"})
    assert (
        evil.status_code == 403
        and "frame-ancestors 'none'" in evil.headers["content-security-policy"]
    )
    status = f"{own}/api/visitor/status"
    assert httpx.get(status, params={"site_key": key}, headers={"Origin": twin}).status_code == 200
    bad = httpx.get(status, params={"site_key": key}, headers={"Origin": "https://evil.example"})
    assert bad.status_code == 403
