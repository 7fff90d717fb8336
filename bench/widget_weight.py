"""What the widget costs a visitor who never clicks: requests and bytes on the wire.

Starts ``tresen demo`` on a free port, opens the demo shop's home page in headless Chromium
(Debian's ``/usr/bin/chromium`` through Playwright) with a cold cache, waits until the network
is idle, and counts every request the widget made (the loader, the chat frame with its inlined
core, the WebSocket that opens the session, with the frames it carried; an older server's core
script and session request) with its encoded (on-the-wire) size,
headers included, from the DevTools protocol. The shop's own page is not counted. Then it loads
a second page of the shop (warm cache) and counts again, and last clicks the launcher there and
counts what the first open fetches (the chat UI, docs/widget.md). The target before any click
(issue #17): at most 3 requests and 10 KB.

    .venv/bin/python -m bench.widget_weight
    PYTHONPATH=../base/src .venv/bin/python -m bench.widget_weight   # another checkout's server
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from playwright.sync_api import sync_playwright

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WIDGET_PATHS = ("/widget.js", "/widget/", "/static/build/", "/api/visitor/", "/ws/visitor")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Traffic:
    rows: dict[str, list[Any]] = field(default_factory=dict)  # request id -> [url, bytes, cached]

    def widget(self) -> list[list[Any]]:
        return [r for r in self.rows.values() if any(p in r[0] for p in WIDGET_PATHS)]


def serve(var: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "TRESEN_VAR_DIR": var,
        "TRESEN_PORT": str(port),
        "TRESEN_HOST": "127.0.0.1",
        "TRESEN_SECRET_KEY": "bench-widget-weight-secret-0123456789",
        "TRESEN_DEMO_PASSWORD": "bench-password-1",
        "TRESEN_LOG_LEVEL": "warning",
    }
    url = f"http://127.0.0.1:{port}"
    env["TRESEN_PUBLIC_URL"] = url
    proc = subprocess.Popen(
        [sys.executable, "-m", "tresen", "demo"], env=env, stdout=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the demo server did not start")


def visit(page: Any, cdp: Any, url: str | None, settle: float) -> Traffic:
    traffic = Traffic()

    def sent(e: dict[str, Any]) -> None:
        traffic.rows[e["requestId"]] = [e["request"]["url"], 0, False]

    def served_from_cache(e: dict[str, Any]) -> None:
        if e["requestId"] in traffic.rows:
            traffic.rows[e["requestId"]][2] = True

    def finished(e: dict[str, Any]) -> None:
        if e["requestId"] in traffic.rows:
            traffic.rows[e["requestId"]][1] = int(e["encodedDataLength"])

    def ws(e: dict[str, Any]) -> None:
        traffic.rows[e["requestId"]] = [e["url"], 0, False]

    def ws_frame(e: dict[str, Any]) -> None:
        row = traffic.rows.get(e["requestId"])
        if row is not None:
            row[1] += len(e["response"]["payloadData"])

    handlers = {
        "Network.requestWillBeSent": sent,
        "Network.requestServedFromCache": served_from_cache,
        "Network.loadingFinished": finished,
        "Network.webSocketCreated": ws,
        "Network.webSocketFrameReceived": ws_frame,
        "Network.webSocketFrameSent": ws_frame,
    }
    for name, fn in handlers.items():
        cdp.on(name, fn)
    if url is not None:
        page.goto(url, wait_until="load")
    else:  # the first open: a click on the launcher
        frame = page.frame_locator("iframe[data-tresen='frame']")
        frame.get_by_role("button", name="Open chat").click()
        frame.locator(".panel").wait_for()
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(settle * 1000)
    for name, fn in handlers.items():
        cdp.remove_listener(name, fn)
    return traffic


def report(title: str, traffic: Traffic) -> None:
    rows = traffic.widget()
    print(f"\n{title}")
    print(f"{'request':<60} {'bytes':>8}")
    for url, size, cached in rows:
        short = url.split("://", 1)[1].split("/", 1)[1][:58]
        print(f"/{short:<59} {size:>8}{'  (cache)' if cached else ''}")
    fetched = [r for r in rows if not r[2]]
    total = sum(r[1] for r in fetched)
    print(f"{'widget total: ' + str(len(fetched)) + ' requests on the wire':<60} {total:>8}")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--settle", type=float, default=3.0, help="seconds after network idle")
    args = parser.parse_args()
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with tempfile.TemporaryDirectory() as var:
        proc, url = serve(var)
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=chromium, headless=True, args=ARGS)
                page = browser.new_context().new_page()
                cdp = page.context.new_cdp_session(page)
                cdp.send("Network.enable")
                report(
                    "cold cache, first page, no click",
                    visit(page, cdp, url + "/shop/", args.settle),
                )
                report(
                    "warm cache, second page, no click",
                    visit(page, cdp, url + "/shop/cart", args.settle),
                )
                report("then the first open (a click on the launcher)", visit(page, cdp, None, 1.0))
                browser.close()
        finally:
            proc.terminate()
            proc.wait(10)


if __name__ == "__main__":
    main()
