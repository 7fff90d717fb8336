# ruff: noqa: F811  (the agent fixture, imported by name)
"""The chat UI comes only when needed (issue #17, docs/widget.md "What a page pays").

Before any click the widget frame runs its small core: the session, the one visitor socket
(page views and tracking for Web Radar, invitations) and a launcher. The chat UI's script and
CSS load on the first open, when an invitation arrives, or when an open conversation is resumed,
and take over the same socket: frames that came before the UI are shown once, none lost, and no
second socket is opened.

The session is opened on the socket's handshake (its `welcome` carries the visitor's token):
before a click the first page makes no session request and at most 3 requests in all.

Sockets are routed through Playwright (``route_web_socket``, a pass-through) to count them and
see the frames the server sends.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from tests.e2e.test_widget import (
    TIMEOUT,
    AgentSide,
    _bodies,
    _frame,
    _frame_obj,
    _open_page,
    _open_panel,
    _send_from_visitor,
    _wait_body,
    agent,  # noqa: F401 (a fixture)
    shop_url,
)
from tests.support.server import ServerProcess

UI = re.compile(r"/static/build/widget-frame-[A-Z0-9]+\.(js|css)$")
VISITOR_SOCKET = re.compile(r"/ws/visitor\?")
WIDGET_PATHS = ("/widget.js", "/widget/", "/static/build/", "/api/visitor/", "/ws/visitor")


class Watch:
    """The chat UI's requests, the visitor sockets opened and the frames they got."""

    def __init__(self, context: Any, page: Any) -> None:
        self.ui: list[str] = []
        self.sockets = 0
        self.received: list[str] = []
        self.session: dict[str, Any] = {}
        self.requests: list[str] = []  # every request of the widget (the shop's own left out)
        self.holding = False  # True: the server's frames are not passed on (nor seen here)
        page.on("request", self._request)
        page.on("response", self._response)
        context.route_web_socket(VISITOR_SOCKET, self._socket)

    def _request(self, r: Any) -> None:
        if UI.search(r.url):
            self.ui.append(r.url)
        if any(p in r.url for p in WIDGET_PATHS):
            self.requests.append(r.url)

    def _response(self, r: Any) -> None:
        if r.url.endswith("/api/visitor/session") and r.ok:
            self.session = r.json()

    def _socket(self, ws: Any) -> None:
        self.sockets += 1
        server = ws.connect_to_server()

        def down(message: str | bytes) -> None:
            if self.holding:
                return
            text = message if isinstance(message, str) else message.decode()
            self.received.append(text)
            if '"welcome"' in text and '"session"' in text:
                self.session = json.loads(text)["session"]
            ws.send(message)

        server.on_message(down)

    def conversations(self) -> set[int]:
        frames = [json.loads(m) for m in self.received]
        return {f["conversation"]["id"] for f in frames if f.get("type") == "conversation"}

    def got(self, text: str) -> bool:
        return any(text in m for m in self.received)


def _stored(page: Any) -> dict[str, Any]:
    """What the frame keeps for the site (token, conversation, ...): in its own localStorage, or,
    where the browser blocks storage in the frame, in the host page's (the loader's relay)."""
    site, own = _frame_obj(page).evaluate(
        """() => {
          const site = JSON.parse(document.getElementById('tresen-root').dataset.config).site;
          try {
            return [site, localStorage.getItem('tresen:' + site)];
          } catch {
            return [site, null];
          }
        }"""
    )
    if own is not None:
        return json.loads(own)  # type: ignore[no-any-return]
    raw = page.evaluate("(k) => localStorage.getItem(k)", f"tresen:{site}")
    return json.loads(raw or "{}")  # type: ignore[no-any-return]


def _resolve(agent: AgentSide, conv: int) -> None:
    agent.api("PATCH", f"/api/conversations/{conv}", json={"status": "resolved"})


def _wait(page: Any, predicate: Any) -> None:
    """Poll a Python-side condition while Playwright delivers its events."""
    for _ in range(TIMEOUT // 100):
        if predicate():
            return
        page.wait_for_timeout(100)
    raise AssertionError("condition not reached")


def _ui_in_frame(page: Any) -> dict[str, bool]:
    """Has the frame asked for the UI's files; has the UI drawn anything?"""
    return _frame_obj(page).evaluate(  # type: ignore[no-any-return]
        """() => ({
          requested: !!document.querySelector('link[rel=stylesheet], script[src*="widget-frame-"]'),
          drawn: !!document.querySelector('.tw, .panel'),
        })"""
    )


def test_the_chat_ui_loads_on_the_first_open_and_not_before(
    demo_server: ServerProcess, browser: Any, agent: AgentSide
) -> None:
    context, page, dialogs = _open_page(browser, viewport={"width": 1280, "height": 800})
    watch = Watch(context, page)
    try:
        page.goto(shop_url(demo_server))
        launcher = _frame(page).get_by_role("button", name="Open chat")
        launcher.wait_for()
        # The core is at work: the socket is up and the page view went out on it.
        _wait(page, lambda: watch.got('"welcome"'))
        assert watch.session.get("visitor_id")
        page.wait_for_load_state("networkidle")
        assert watch.ui == [] and _ui_in_frame(page) == {"requested": False, "drawn": False}
        assert launcher.get_attribute("aria-expanded") == "false"

        frame = _open_panel(page)
        assert sorted(u.rsplit(".", 1)[1] for u in watch.ui) == ["css", "js"]
        body = "hello from the widget, " + uuid.uuid4().hex[:6]
        _send_from_visitor(page, body)
        msg = agent.wait_message(body)
        reply = "the agent's answer " + uuid.uuid4().hex[:6]
        agent.send(msg["conversation_id"], reply)
        _wait_body(page, reply)
        frame.locator(".panel").wait_for()
        assert watch.sockets == 1  # the UI took over the core's socket
        assert dialogs == []
        _resolve(agent, msg["conversation_id"])
    finally:
        context.close()


def test_the_first_page_opens_the_session_on_the_socket(
    demo_server: ServerProcess, browser: Any, agent: AgentSide
) -> None:
    """No session request before a click; the chat goes on across pages on the same visitor."""
    context, page, dialogs = _open_page(browser, viewport={"width": 1280, "height": 800})
    watch = Watch(context, page)
    try:
        page.goto(shop_url(demo_server))
        _frame(page).get_by_role("button", name="Open chat").wait_for()
        _wait(page, lambda: bool(watch.session.get("token")))
        page.wait_for_load_state("networkidle")
        assert not [u for u in watch.requests if "/api/visitor/session" in u]
        assert len(watch.requests) <= 3, watch.requests  # loader, frame (core inlined), socket
        visitor = watch.session["visitor_id"]

        _open_panel(page)
        body = "across pages " + uuid.uuid4().hex[:6]
        _send_from_visitor(page, body)
        msg = agent.wait_message(body)
        assert msg["author"]["id"] == visitor

        # The next page: the token from the socket brings the same visitor and its chat back,
        # still with no session request; the agent's answer reaches it there.
        watch.requests.clear()
        page.goto(shop_url(demo_server, "/shop/cart"))
        _wait(page, lambda: watch.session.get("visitor_id") == visitor and watch.sockets == 2)
        reply = "answer on the next page " + uuid.uuid4().hex[:6]
        agent.send(msg["conversation_id"], reply)
        _frame(page).locator(".panel").wait_for()  # it was open on the last page: open again
        _wait_body(page, reply)
        assert body in _bodies(page)
        assert not [u for u in watch.requests if "/api/visitor/session" in u]
        assert dialogs == []
        _resolve(agent, msg["conversation_id"])
    finally:
        context.close()


def test_an_invitation_brings_the_chat_ui(
    demo_server: ServerProcess, browser: Any, agent: AgentSide
) -> None:
    context, page, dialogs = _open_page(browser, viewport={"width": 1280, "height": 800})
    watch = Watch(context, page)
    try:
        page.goto(shop_url(demo_server, "/shop/cart"))
        _wait(page, lambda: watch.got('"welcome"'))
        assert watch.ui == [] and _ui_in_frame(page) == {"requested": False, "drawn": False}
        text = "Can I help you with your order? " + uuid.uuid4().hex[:6]
        visitor = watch.session["visitor_id"]
        agent.api("POST", f"/api/radar/visitors/{visitor}/invite", json={"text": text})
        frame = _frame(page)
        frame.locator(".invite .itext", has_text=text).wait_for()
        assert sorted(u.rsplit(".", 1)[1] for u in watch.ui) == ["css", "js"]
        frame.get_by_role("button", name="Chat now").click()
        frame.locator(".panel").wait_for()
        _wait_body(page, text)  # accepting opens the conversation with the invitation
        assert watch.sockets == 1
        assert dialogs == []
        for conv in watch.conversations():
            _resolve(agent, conv)
    finally:
        context.close()


def test_messages_that_come_before_the_ui_are_shown_once(
    demo_server: ServerProcess, browser: Any, agent: AgentSide
) -> None:
    context, page, dialogs = _open_page(browser, viewport={"width": 1280, "height": 800})
    watch = Watch(context, page)
    held: list[Any] = []
    try:
        page.goto(shop_url(demo_server))
        _open_panel(page)
        first = "my question " + uuid.uuid4().hex[:6]
        _send_from_visitor(page, first)
        conv = agent.wait_message(first)["conversation_id"]
        _frame(page).get_by_role("button", name="Close chat").click()
        _frame(page).get_by_role("button", name="Open chat").wait_for()

        # The next page: the core resumes the open conversation and fetches the UI, which the
        # network holds back while the agent writes twice.
        released = False

        def hold(route: Any) -> None:
            if released:
                route.continue_()
            else:
                held.append(route)

        context.route(UI, hold)
        sockets_before = watch.sockets
        welcomes = sum('"welcome"' in m for m in watch.received)
        page.goto(shop_url(demo_server, "/shop/cart"))
        _wait(page, lambda: sum('"welcome"' in m for m in watch.received) > welcomes)
        _wait(page, lambda: len(held) >= 1)
        one, two = "one " + uuid.uuid4().hex[:6], "two " + uuid.uuid4().hex[:6]
        agent.send(conv, one)
        agent.send(conv, two)
        _wait(page, lambda: watch.got(one) and watch.got(two))  # at the core, UI not there
        assert _ui_in_frame(page) == {"requested": True, "drawn": False}

        released = True
        for route in held:
            route.continue_()
        _open_panel(page)
        _wait_body(page, two)
        bodies = _bodies(page)
        assert [b for b in bodies if b in (first, one, two)] == [first, one, two]
        assert watch.sockets == sockets_before + 1  # one socket for the new page, no second
        assert dialogs == []
        _resolve(agent, conv)
    finally:
        context.close()


def test_a_press_on_the_launcher_while_the_ui_arrives_opens_the_chat(
    demo_server: ServerProcess, browser: Any
) -> None:
    """A pointer over the core's launcher fetches the chat UI; when the UI takes over while the
    visitor holds the button down, letting go still opens the chat. (The UI removed the core's
    launcher from under the pointer, and the click that was to open the chat never came: on a
    busy machine, where the UI's files arrive between a press and its release, the panel stayed
    closed.)"""
    context, page, dialogs = _open_page(browser, viewport={"width": 1280, "height": 800})
    held: list[Any] = []
    try:
        context.route(UI, lambda route: held.append(route))  # kept until the button is down
        page.goto(shop_url(demo_server))
        frame = _frame(page)
        launcher = frame.get_by_role("button", name="Open chat")
        launcher.wait_for()
        box = launcher.bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        _wait(page, lambda: len(held) == 2)  # the pointer over it: the core asked for js and css
        page.mouse.down()
        for route in held:
            route.continue_()
        frame.locator(".tw").wait_for(state="attached")  # the UI is drawn, the button still down
        page.mouse.up()
        frame.locator(".panel").wait_for()
        assert frame.get_by_role("button", name="Open chat").count() == 0
        assert dialogs == []
    finally:
        context.close()


def test_a_panel_open_before_the_chat_starts_keeps_the_stored_visitor(
    demo_server: ServerProcess, browser: Any, agent: AgentSide
) -> None:
    """The panel is open while the chat UI arrives, before its Chat has started (it waits for the
    socket's `welcome`): what the UI saves then keeps the stored token and conversation, and the
    next page resumes the same visitor and chat. (The UI's first save wrote a state it had not
    loaded: the token and the conversation dropped out of the frame's storage.)"""
    context, page, dialogs = _open_page(browser, viewport={"width": 1280, "height": 800})
    watch = Watch(context, page)
    held: list[Any] = []
    released = False

    def hold(route: Any) -> None:
        if released:
            route.continue_()
        else:
            held.append(route)

    try:
        page.goto(shop_url(demo_server))
        _open_panel(page)
        first = "keep my chat " + uuid.uuid4().hex[:6]
        _send_from_visitor(page, first)
        msg = agent.wait_message(first)
        conv, visitor = msg["conversation_id"], watch.session["visitor_id"]
        _wait(page, lambda: _stored(page).get("conv") == conv and not _stored(page).get("pending"))
        token = _stored(page)["token"]

        # The next page: the panel was open, so it opens again at once; the UI's files and the
        # socket's frames (its `welcome`) are held, then the files come: the panel is drawn open
        # while the Chat still waits for its session.
        context.route(UI, hold)
        watch.holding = True
        watch.requests.clear()
        page.goto(shop_url(demo_server, "/shop/cart"))
        _wait(page, lambda: len(held) == 2)
        released = True
        for route in held:
            route.continue_()
        _frame(page).locator(".panel").wait_for()
        # The open panel asks who is online right after it marked itself visible (and saved).
        _wait(page, lambda: any("/api/visitor/status" in u for u in watch.requests))
        stored = _stored(page)
        assert (stored.get("token"), stored.get("conv")) == (token, conv)

        # A page opened now (the Chat there never started): the same visitor and its chat.
        watch.holding = False
        page.goto(shop_url(demo_server))
        _wait(page, lambda: watch.session.get("visitor_id") == visitor)
        _frame(page).locator(".panel").wait_for()
        _wait_body(page, first)
        assert _stored(page).get("conv") == conv  # (the token is renewed on each session)
        assert dialogs == []
        _resolve(agent, conv)
    finally:
        context.close()
