"""Files in a web chat, in headless Chromium: an agent attaches an image in the console (the
file picker), the visitor sees it in the widget and downloads it (docs/attachments.md)."""

from __future__ import annotations

import struct
import uuid
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.e2e.conftest import api_login
from tests.e2e.test_console import _context, login
from tests.e2e.test_widget import _open_page, _open_panel, _send_from_visitor, shop_url
from tests.support.server import ServerProcess


def tiny_png(width: int = 8, height: int = 8) -> bytes:
    """A real PNG (red square) the browser renders."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def anna(demo_server: ServerProcess) -> Iterator[httpx.Client]:
    http = api_login(demo_server.url, "anna")
    yield http
    http.close()


def test_an_agents_image_is_seen_and_downloaded_in_the_widget(
    demo_server: ServerProcess, browser: Any, anna: httpx.Client, tmp_path: Path
) -> None:
    png = tiny_png()
    hello = f"Do you have it in red? {uuid.uuid4().hex[:6]}"
    console_ctx, console = _context(browser, demo_server.url, dict(anna.cookies.items()))
    shop_ctx, shop, dialogs = _open_page(
        browser, viewport={"width": 1280, "height": 800}, accept_downloads=True
    )
    try:
        login(console)
        shop.goto(shop_url(demo_server))
        frame = _open_panel(shop)
        _send_from_visitor(shop, hello)

        item = console.locator(".conv-item", has_text=hello)
        item.wait_for()
        item.click()
        pane = console.locator(".pane", has=console.locator(".msg.from-visitor", has_text=hello))
        pane.wait_for()
        console.set_input_files(
            "input[name=attachment]",
            files=[{"name": "red kettle.png", "mimeType": "image/png", "buffer": png}],
        )
        console.locator(".pending-files .file-chip", has_text="red kettle.png").wait_for()
        box = console.locator("textarea[name=reply]")
        box.fill("Here it is in red")
        box.press("Enter")
        sent = pane.locator(".msg.from-agent", has_text="Here it is in red")
        sent.locator(".attachment img").wait_for()  # the agent sees the preview too

        image = frame.locator(".files img[alt='red kettle.png']")
        image.wait_for()
        assert frame.locator(".msg.theirs .body", has_text="Here it is in red").count() == 1
        assert image.evaluate("img => img.complete && img.naturalWidth") == 8
        with shop.expect_download() as got:
            frame.get_by_role("link", name="Download red kettle.png").click()
        download = got.value
        assert download.suggested_filename == "red kettle.png"
        target = tmp_path / "downloaded.png"
        download.save_as(str(target))
        assert target.read_bytes() == png
        assert not [d for d in dialogs if "Content Security Policy" in d], dialogs
    finally:
        shop_ctx.close()
        console_ctx.close()


def test_a_visitor_attaches_a_file_where_the_site_allows_it(
    demo_server: ServerProcess, browser: Any, anna: httpx.Client
) -> None:
    site = anna.get("/api/sites").json()[0]
    csrf = {"X-CSRF-Token": anna.headers.get("X-CSRF-Token", "")}
    hello = f"The receipt is attached {uuid.uuid4().hex[:6]}"
    console_ctx, console = _context(browser, demo_server.url, dict(anna.cookies.items()))
    shop_ctx, shop, _ = _open_page(browser, viewport={"width": 1280, "height": 800})
    r = anna.patch(f"/api/sites/{site['id']}", json={"visitor_uploads": True}, headers=csrf)
    assert r.status_code == 200, r.text
    try:
        login(console)
        shop.goto(shop_url(demo_server))
        frame = _open_panel(shop)
        _send_from_visitor(shop, hello)
        frame.locator(".msg.mine .body", has_text=hello).wait_for()
        console.locator(".conv-item", has_text=hello).click()
        console.locator(".msg.from-visitor", has_text=hello).wait_for()
        attach = frame.get_by_role("button", name="Attach a file")
        attach.wait_for()
        pdf = b"%PDF-1.4\n%%EOF\n"
        with shop.expect_file_chooser() as chooser:
            attach.click()
        chooser.value.set_files(
            files=[{"name": "receipt.pdf", "mimeType": "application/pdf", "buffer": pdf}]
        )
        frame.locator(".files.pending", has_text="receipt.pdf").wait_for()
        frame.locator("#tw-input").press("Enter")
        frame.get_by_role("link", name="Download receipt.pdf").wait_for()

        link = console.locator(".msg.from-visitor .attachment a", has_text="receipt.pdf")
        link.wait_for()
        got = anna.get(link.get_attribute("href") or "")
        assert got.content == pdf
        assert got.headers["content-disposition"] == 'attachment; filename="receipt.pdf"'
    finally:
        anna.patch(f"/api/sites/{site['id']}", json={"visitor_uploads": False}, headers=csrf)
        shop_ctx.close()
        console_ctx.close()
