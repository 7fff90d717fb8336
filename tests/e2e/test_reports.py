"""Reports in the console: a supervisor opens the dashboard, changes the range, drills down from a
number to its conversation and exports a table as CSV."""

from __future__ import annotations

import asyncio
import csv
import io
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.e2e.conftest import api_login
from tests.support.actors import Visitor
from tests.support.server import ServerProcess

WAIT_MS = 20_000


@pytest.fixture(scope="module")
def anna(demo_server: ServerProcess) -> Any:
    http = api_login(demo_server.url, "anna")
    yield http
    http.close()


def _conversation(server: ServerProcess, key: str, body: str) -> int:
    async def go() -> int:
        v = await Visitor.arrive(server.url, key, origin=server.url)
        client = v.client()
        await client.start()
        try:
            ack = await client.wait_ack(await client.send(body, None))
        finally:
            await client.stop()
        return int(ack["conversation_id"])

    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API may own this thread's loop
        return pool.submit(asyncio.run, go()).result(60)


def _in_reports(anna: httpx.Client, conv: int) -> bool:
    rows = anna.get("/api/reports/conversations", params={"which": "all", "limit": 5000}).json()
    return any(r["conversation_id"] == conv for r in rows)


def test_supervisor_dashboard_range_drill_down_and_csv(
    demo_server: ServerProcess, browser: Any, anna: httpx.Client, screenshot_dir: Path
) -> None:
    site = anna.get("/api/sites").json()[0]
    conv = _conversation(demo_server, site["widget_key"], "Where is my parcel?")
    me = anna.get("/api/auth/me").json()["agent"]["id"]
    assert anna.patch(f"/api/conversations/{conv}", json={"assignee_id": me}).status_code == 200
    anna.post(f"/api/conversations/{conv}/messages", json={"body": "On its way."})
    anna.patch(f"/api/conversations/{conv}", json={"status": "resolved"})
    deadline = time.monotonic() + 30  # the report store is rebuilt every 2 s
    while not _in_reports(anna, conv):
        assert time.monotonic() < deadline, "the conversation never reached the report store"
        time.sleep(0.2)

    context = browser.new_context(
        base_url=demo_server.url, viewport={"width": 1400, "height": 1000}
    )
    context.add_cookies(
        [{"name": k, "value": v, "url": demo_server.url} for k, v in anna.cookies.items()]
    )
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto("/console/reports")
    page.locator("[data-testid='figure-Conversations'] .figure-value").wait_for()
    page.locator("[data-testid=report-chart] canvas").first.wait_for()
    page.screenshot(path=str(screenshot_dir / "reports-7-days.png"))

    # Another range: the last 30 days, web chat only.
    with page.expect_response(lambda r: "/api/reports/summary" in r.url) as resp:
        page.get_by_role("button", name="30 days").click()
    assert resp.value.ok
    with page.expect_response(lambda r: "channel=web" in r.url and "/summary" in r.url):
        page.select_option("select[name=report-channel]", "web")
    total = int(page.locator("[data-testid='figure-Conversations'] .figure-value").inner_text())
    assert total >= 1

    # Drill down from the number to its conversations, and open ours.
    page.locator("[data-testid='figure-Conversations'] .figure-value").click()
    drill = page.locator("section.drill")
    drill.wait_for()
    page.screenshot(path=str(screenshot_dir / "reports-drill-down.png"))
    drill.get_by_role("button", name=f"#{conv}", exact=True).click()
    page.locator(f".pane[data-pane='{conv}']").wait_for()
    assert page.url.endswith("/console")
    pane = page.locator(f".pane[data-pane='{conv}']")
    pane.locator(".msg-body", has_text="Where is my parcel?").wait_for()  # (not the suggestion)

    # Back in the reports: the agents table exports as CSV.
    page.goto("/console/reports")
    agents = page.locator("section.report-table", has_text="Agents")
    agents.locator("table").wait_for()
    with page.expect_download() as download:
        agents.get_by_role("link", name="CSV").click()
    body = Path(download.value.path()).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(body)))
    assert rows and {"agent", "conversations", "occupancy"} <= set(rows[0])
    assert any(r["agent"] == "Anna" for r in rows)
    page.screenshot(path=str(screenshot_dir / "reports-agents.png"))
    assert errors == []
    context.close()


def test_team_filter_and_the_funnel_to_the_goal(
    demo_server: ServerProcess, browser: Any, anna: httpx.Client, screenshot_dir: Path
) -> None:
    me = anna.get("/api/auth/me").json()["agent"]["id"]
    made = anna.post("/api/teams", json={"name": "Front desk", "member_ids": [me]})
    assert made.status_code in (200, 201), made.text
    team = made.json()["id"]
    context = browser.new_context(
        base_url=demo_server.url, viewport={"width": 1400, "height": 1000}
    )
    context.add_cookies(
        [{"name": k, "value": v, "url": demo_server.url} for k, v in anna.cookies.items()]
    )
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto("/console/reports")
    teams = page.locator("section.report-table", has_text="Teams")
    teams.get_by_role("cell", name="Front desk").wait_for()
    with page.expect_response(lambda r: f"team_id={team}" in r.url and "/summary" in r.url) as r:
        page.select_option("select[name=report-team]", str(team))
    assert r.value.ok
    funnel = page.locator("section.report-table", has_text="Invitations")
    funnel.wait_for()
    assert "Goals" in funnel.inner_text() or "Nothing in this range" in funnel.inner_text()
    page.screenshot(path=str(screenshot_dir / "reports-team-filter.png"))
    assert errors == []
    context.close()


def test_supervisor_opts_in_to_the_summary_mail(
    demo_server: ServerProcess, browser: Any, anna: httpx.Client, screenshot_dir: Path
) -> None:
    context = browser.new_context(
        base_url=demo_server.url, viewport={"width": 1400, "height": 1000}
    )
    context.add_cookies(
        [{"name": k, "value": v, "url": demo_server.url} for k, v in anna.cookies.items()]
    )
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto("/console/reports")
    digest = page.locator("section.digest")
    digest.wait_for()
    digest.locator("select[name=digest-frequency]").select_option("weekly")
    digest.get_by_label("Send to").fill("lead@shop.example")
    digest.get_by_label("Time zone").fill("Europe/Copenhagen")
    digest.get_by_label("At (hour)").fill("8")
    with page.expect_response(
        lambda r: "/api/reports/digest" in r.url and r.request.method == "PUT"
    ) as r:
        digest.get_by_role("button", name="Save").click()
    assert r.value.ok
    digest.get_by_text("Saved.").wait_for()
    page.screenshot(path=str(screenshot_dir / "reports-summary-mail.png"))
    saved = anna.get("/api/reports/digest").json()
    assert (saved["frequency"], saved["time_zone"], saved["hour"], saved["email"]) == (
        "weekly",
        "Europe/Copenhagen",
        8,
        "lead@shop.example",
    )
    assert saved["language"] == "en"  # the console's, for the mail
    # a time zone that does not exist is refused, with the server's reason shown
    digest.get_by_label("Time zone").fill("Mars/Olympus")
    digest.get_by_role("button", name="Save").click()
    digest.get_by_text("time zone", exact=False).first.wait_for()
    assert anna.get("/api/reports/digest").json()["time_zone"] == "Europe/Copenhagen"
    assert errors == []
    context.close()
