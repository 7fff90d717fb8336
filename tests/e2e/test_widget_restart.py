"""The widget in Chromium when its node restarts: a 1012 close brings it back within the
restart spread (a random moment in 5 s, so a node's visitors do not all reconnect at once),
well before the backoff other closes wait for.

The visitor socket is routed through Playwright (``route_web_socket``) so the test can close it
from the server's side with a chosen code, and the page's clock is paused: a reconnect happens
only when the test moves the clock past its timer.
"""

from __future__ import annotations

import re
from typing import Any

from tests.e2e.test_widget import TIMEOUT, _open_page, _open_panel, shop_url
from tests.support.server import ServerProcess

VISITOR_SOCKET = re.compile(r"/ws/visitor\?")


RESTART_SPREAD_MS = 5000  # frontend/src/widget/wire.ts


def test_widget_reconnects_within_the_spread_after_a_restart_close(
    demo_server: ServerProcess, browser: Any
) -> None:
    context, page, _dialogs = _open_page(browser, viewport={"width": 1280, "height": 800})
    sockets: list[Any] = []

    def through(ws: Any) -> None:
        ws.connect_to_server()  # a pass-through: frames flow both ways untouched
        sockets.append(ws)

    context.route_web_socket(VISITOR_SOCKET, through)
    context.clock.install()
    try:
        page.goto(shop_url(demo_server))
        _open_panel(page)
        _wait(page, lambda: len(sockets) == 1)
        page.clock.pause_at(page.evaluate("Date.now()") + 1000)  # timers stand still now

        # The node is restarting: a new socket within the spread.
        sockets[0].close(code=1012, reason="server restarting")
        page.clock.run_for(RESTART_SPREAD_MS)
        _wait(page, lambda: len(sockets) == 2)

        # Any other close waits for its backoff, which only the clock can bring.
        sockets[1].close(code=4008, reason="slow consumer")
        page.wait_for_timeout(1500)  # real time passes; the page's timers do not
        assert len(sockets) == 2
        page.clock.run_for(20_000)  # past the longest first backoff (500 ms + jitter)
        _wait(page, lambda: len(sockets) == 3)
    finally:
        context.close()


def _wait(page: Any, predicate: Any) -> None:
    """Poll a Python-side condition while Playwright delivers its events."""
    for _ in range(TIMEOUT // 100):
        if predicate():
            return
        page.wait_for_timeout(100)
    raise AssertionError("condition not reached")
