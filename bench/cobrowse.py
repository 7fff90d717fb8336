"""Co-browsing: mutation-to-mirror latency and bytes per minute, in headless Chromium.

Starts ``tresen demo`` (a subprocess), opens the demo shop's checkout as a visitor and the
console as anna, starts co-browsing, then:

- **latency**: the visitor's page changes a text node every ``--interval`` ms (``--samples``
  times); the console's mirror document is watched by a MutationObserver. Latency is the time
  from the change (``Date.now()`` in the visitor's page) to the mirror showing it (``Date.now()``
  in the console's page; one machine, one clock). Prints p50/p95/max.
- **idle bytes/min**: the visitor's page stays idle for ``--idle`` seconds; the bytes of the
  ``cobrowse_events`` frames the visitor's socket sends are counted and scaled to a minute.
  Also the size of the first full snapshot.

    .venv/bin/python -m bench.cobrowse [--samples 200] [--interval 100] [--idle 20]

Targets: p95 <= 150 ms on loopback; idle page <= 50 KB/min.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.server import ServerProcess  # noqa: E402

PASSWORD = "bench-demo-password"
MIRROR = "[data-testid=cobrowse-mirror] iframe"
FRAME = "iframe[data-tresen='frame']"
WATCH = (
    """() => {
  window.__seen = {};
  const doc = document.querySelector('MIRROR').contentDocument;
  const look = () => {
    const el = doc.getElementById('bench-tick');
    if (el && !(el.textContent in window.__seen)) window.__seen[el.textContent] = Date.now();
  };
  new MutationObserver(look).observe(doc, {subtree: true, childList: true, characterData: true});
}""".replace("MIRROR", MIRROR)
)


def _start(server: ServerProcess, browser: Any) -> tuple[Any, Any, list[int]]:
    import httpx

    http = httpx.Client(base_url=server.url, timeout=15)
    http.post("/api/auth/login", json={"username": "anna", "password": PASSWORD}).raise_for_status()
    visitor = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sent: list[int] = []

    def on_socket(ws: Any) -> None:
        def frame(payload: Any) -> None:
            if str(payload).startswith('{"type":"cobrowse_events"'):
                sent.append(len(str(payload).encode()))

        ws.on("framesent", frame)

    visitor.on("websocket", on_socket)
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, base_url=server.url)
    ctx.add_cookies([{"name": k, "value": v, "url": server.url} for k, v in http.cookies.items()])
    console = ctx.new_page()
    console.goto("/console")
    console.wait_for_selector("[data-testid=connection]:has-text('online')")
    visitor.goto(f"http://localhost:{server.port}/shop/checkout")
    frame = visitor.frame_locator(FRAME)
    frame.locator("button[aria-label*='Open chat'], button:has-text('Chat')").first.click()
    frame.locator("#tw-input").fill("bench co-browse")
    frame.locator("#tw-input").press("Enter")
    console.locator(".conv-item", has_text="bench co-browse").click()
    console.locator("[data-action=cobrowse]").click()
    frame.locator("[data-testid=cobrowse-accept]").click()
    console.frame_locator(MIRROR).locator("h1", has_text="Checkout").wait_for()
    visitor.evaluate(
        "() => { const p = document.createElement('p'); p.id = 'bench-tick';"
        " p.textContent = 'start'; document.querySelector('main').append(p); }"
    )
    console.frame_locator(MIRROR).locator("#bench-tick").wait_for()
    return visitor, console, sent


def measure_latency(visitor: Any, console: Any, samples: int, interval_ms: int) -> list[float]:
    console.evaluate(WATCH)
    stamps: dict[str, int] = {}
    for i in range(samples):
        label = f"tick-{i}"
        stamps[label] = visitor.evaluate(
            "(t) => { document.getElementById('bench-tick').textContent = t; return Date.now(); }",
            label,
        )
        time.sleep(interval_ms / 1000)
    time.sleep(0.5)
    seen: dict[str, int] = console.evaluate("() => window.__seen")
    return [float(seen[k] - v) for k, v in stamps.items() if k in seen]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--interval", type=int, default=100, help="ms between changes")
    ap.add_argument("--idle", type=float, default=20.0, help="seconds of idle page measured")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    var = tempfile.mkdtemp(prefix="tresen-bench-cb-")
    server = ServerProcess(
        {
            "TRESEN_VAR_DIR": var,
            "TRESEN_DEMO_PASSWORD": PASSWORD,
            "TRESEN_SECRET_KEY": "bench-cobrowse-secret",
            "TRESEN_LOG_LEVEL": "warning",
        },
        command="demo",
    )
    server.env["TRESEN_PUBLIC_URL"] = server.url
    server.start()
    try:
        with sync_playwright() as pw:
            chromium = shutil.which("chromium") or "/usr/bin/chromium"
            browser = pw.chromium.launch(
                executable_path=chromium, headless=True, args=["--no-sandbox", "--disable-gpu"]
            )
            visitor, console, sent = _start(server, browser)
            snapshot = max(sent) if sent else 0
            lat = measure_latency(visitor, console, args.samples, args.interval)
            print(f"mutation -> mirror latency over {len(lat)}/{args.samples} changes:")
            print(
                f"  p50 {statistics.median(lat):.1f} ms   p95 {pct(lat, 95):.1f} ms   "
                f"max {max(lat):.1f} ms   (target p95 <= 150 ms)"
            )
            visitor.mouse.move(5, 5)
            time.sleep(1.0)
            before = sum(sent)
            time.sleep(args.idle)
            idle = sum(sent) - before
            per_min = idle * 60 / args.idle / 1024
            print(f"first full snapshot frame: {snapshot / 1024:.1f} KB (cap 2048 KB)")
            print(
                f"idle page: {idle} bytes in {args.idle:.0f} s = {per_min:.2f} KB/min "
                "(target <= 50 KB/min)"
            )
            browser.close()
    finally:
        server.stop()
        shutil.rmtree(var, ignore_errors=True)
        os.environ.pop("TRESEN_VAR_DIR", None)


if __name__ == "__main__":
    main()
