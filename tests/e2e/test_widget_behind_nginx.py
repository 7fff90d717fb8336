"""The demo shop and its widget in Chromium, through Debian's nginx with TLS.

nginx (127.0.0.2, a self-signed certificate the browser context accepts) forwards to
``tresen demo`` (127.0.0.1), configured as docs/deployment.md says; the widget's socket goes
over wss through nginx, and a message makes the round trip.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.e2e.conftest import DEMO_PASSWORD
from tests.e2e.test_widget import _open_page, _open_panel, _send_from_visitor
from tests.support.nginx import NginxProxy
from tests.support.server import ServerProcess


@pytest.fixture
def proxied_demo(tmp_path: Path) -> Iterator[tuple[ServerProcess, NginxProxy]]:
    server = ServerProcess(
        {
            "TRESEN_VAR_DIR": str(tmp_path / "var"),
            "TRESEN_DEMO_PASSWORD": DEMO_PASSWORD,
            "TRESEN_SECRET_KEY": "e2e-secret",
            "TRESEN_LOG_LEVEL": "warning",
            "TRESEN_TRUSTED_PROXIES": '["127.0.0.3"]',
        },
        command="demo",
    )
    nginx = NginxProxy(
        tmp_path / "nginx", f"127.0.0.1:{server.port}", host="127.0.0.2", proxy_bind="127.0.0.3"
    )
    server.env["TRESEN_PUBLIC_URL"] = nginx.url
    nginx.start()
    try:
        server.start()
        yield server, nginx
    finally:
        server.stop()
        nginx.stop()


def test_widget_chats_over_wss_through_nginx(
    proxied_demo: tuple[ServerProcess, NginxProxy], browser: Any
) -> None:
    _server, nginx = proxied_demo
    context, page, dialogs = _open_page(browser, ignore_https_errors=True)
    sockets: list[str] = []
    received: list[dict[str, Any]] = []

    def on_socket(ws: Any) -> None:
        sockets.append(ws.url)
        ws.on("framereceived", lambda payload: received.append(json.loads(payload)))

    page.on("websocket", on_socket)
    try:
        page.goto(nginx.url + "/shop/")
        _open_panel(page)
        _send_from_visitor(page, "Hallo über nginx")
        for _ in range(150):
            if any(f.get("type") == "ack" for f in received):
                break
            page.wait_for_timeout(100)
        acks = [f for f in received if f.get("type") == "ack"]
        assert acks and acks[0]["seq"] >= 1, received
        assert sockets and all(u.startswith(nginx.ws_url + "/ws/visitor?") for u in sockets)
        assert dialogs == []
    finally:
        context.close()
