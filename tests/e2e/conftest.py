"""End-to-end fixtures: ``tresen demo`` in a subprocess and Debian's headless Chromium."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.support.server import ServerProcess
from tests.support.services import missing

DEMO_PASSWORD = "demo-password-e2e"
OUTPUT = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


def api_login(url: str, username: str, password: str = DEMO_PASSWORD) -> httpx.Client:
    """An HTTP session for an agent of the demo, with its CSRF header set. Logins are rate
    limited (10 a minute), so test modules log in once and share the session."""
    http = httpx.Client(base_url=url, timeout=15)
    r = http.post("/api/auth/login", json={"username": username, "password": password})
    r.raise_for_status()
    http.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    return http


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """The demo (shop + console + agents anna/ben) on a free port, fresh database."""
    var = tmp_path_factory.mktemp("demo-var")
    server = ServerProcess(
        {
            "TRESEN_VAR_DIR": str(var),
            "TRESEN_DEMO_PASSWORD": DEMO_PASSWORD,
            "TRESEN_SECRET_KEY": "e2e-secret",
            "TRESEN_LOG_LEVEL": "warning",
            # A visitor with no tab left leaves the live list after this (a page load is back
            # well within it); shorter than the default so tests see visitors leave quickly.
            "TRESEN_VISIT_GRACE_SECONDS": "3",
        },
        command="demo",
    )
    server.env["TRESEN_PUBLIC_URL"] = server.url
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(chromium):
        missing("chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def screenshot_dir() -> Path:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    return OUTPUT
