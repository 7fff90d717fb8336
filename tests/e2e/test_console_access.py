"""Access in the console, in headless Chromium: an admin creates an API token (shown once) and
gives an agent a site; that agent's console then shows that site's conversations only, also the
ones arriving live. A demo server of its own: the test adds a site and changes who serves it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.e2e.conftest import DEMO_PASSWORD, api_login
from tests.e2e.test_console import Guest, Loop, _context, login
from tests.support.server import ServerProcess

CORA_PASSWORD = "cora-password-123"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    var = tmp_path_factory.mktemp("access-var")
    srv = ServerProcess(
        {
            "TRESEN_VAR_DIR": str(var),
            "TRESEN_DEMO_PASSWORD": DEMO_PASSWORD,
            "TRESEN_SECRET_KEY": "e2e-access-secret",
            "TRESEN_LOG_LEVEL": "warning",
        },
        command="demo",
    )
    srv.env["TRESEN_PUBLIC_URL"] = srv.url
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def loop() -> Iterator[Loop]:
    lp = Loop()
    yield lp
    lp.close()


def test_admin_makes_a_token_and_gives_an_agent_one_site(
    browser: Any, server: ServerProcess, loop: Loop, screenshot_dir: Path
) -> None:
    anna = api_login(server.url, "anna")
    shop = anna.get("/api/sites").json()[0]
    r = anna.post("/api/sites", json={"name": "Second shop", "allowed_origins": [server.url]})
    second = r.json()
    r = anna.post(
        "/api/agents",
        json={"username": "cora", "password": CORA_PASSWORD, "display_name": "Cora"},
    )
    assert r.status_code == 201 and r.json()["site_ids"] == []  # two sites: none until assigned
    guests = [Guest(loop, server, shop["widget_key"]), Guest(loop, server, second["widget_key"])]
    guests[0].say("Hello from the shop")
    guests[1].say("Hello from the second shop")
    shop_conv, second_conv = guests[0].conversation_id, guests[1].conversation_id

    context, page = _context(browser, server.url, dict(anna.cookies.items()))
    page.on("dialog", lambda d: d.accept())
    login(page)
    # an API token: shown once
    page.click(".views button:has-text('API tokens')")
    page.fill("form[aria-label='Create token'] input[name=token_name]", "CRM sync")
    page.check("tr[data-resource=conversations] input[aria-label='conversations read']")
    page.click("button:has-text('Create token')")
    token = page.locator("input.token-value").input_value()
    assert token.startswith("trs_")
    page.locator("tr[data-token='CRM sync']").wait_for()
    page.screenshot(path=str(screenshot_dir / "console-api-token.png"), full_page=True)
    page.click(".token-shown button:has-text('Done')")
    assert page.locator("input.token-value").count() == 0
    assert token not in page.content()
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}) as api:
        ids = {c["id"] for c in api.get("/api/conversations").json()}
        assert {shop_conv, second_conv} <= ids
    page.reload()
    page.wait_for_selector(".topbar")
    page.locator("tr[data-token='CRM sync']").wait_for()
    assert token not in page.content()

    # cora serves the second shop
    page.click(".views button:has-text('Agents')")
    row = page.locator("tr[data-agent=cora]")
    row.wait_for()
    row.locator("fieldset[aria-label=Sites] label", has_text="Second shop").locator("input").check()
    row.locator("button:has-text('Save')").click()
    row.locator("text=Saved.").wait_for()
    page.screenshot(path=str(screenshot_dir / "console-agent-sites.png"), full_page=True)
    cora = {a["username"]: a for a in anna.get("/api/agents").json()}["cora"]
    assert cora["site_ids"] == [second["id"]]
    assert page.errors == []
    context.close()

    # cora logs in: the second shop's conversation, never the shop's
    context, page = _context(browser, server.url, {})
    page.goto("/console")
    page.fill("input[name=username]", "cora")
    page.fill("input[name=password]", CORA_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=connection]:has-text('online')")
    page.locator(f".conv-item[data-conv='{second_conv}']").wait_for()
    assert page.locator(f".conv-item[data-conv='{shop_conv}']").count() == 0
    # live: a new chat on each site; only the second shop's reaches cora's inbox
    guests[0].say("Another one from the shop", new=True)
    guests[1].say("Another one from the second shop", new=True)
    page.locator(f".conv-item[data-conv='{guests[1].conversation_id}']").wait_for()
    assert page.locator(f".conv-item[data-conv='{guests[0].conversation_id}']").count() == 0
    assert "Hello from the shop" not in page.content()
    page.screenshot(path=str(screenshot_dir / "console-agent-one-site.png"), full_page=True)
    assert page.errors == []
    context.close()
    for g in guests:
        g.stop()
    anna.close()
