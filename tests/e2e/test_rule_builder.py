"""The rules admin in Chromium: the seed's rule ("form X longer than Y minutes OR product P,
AND a Sales agent free") built without typing JSON equals its JSON form; the per-rule figures
after scripted visits with purchases."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.e2e.conftest import api_login
from tests.e2e.test_console import Guest, Loop, _context, login
from tests.support.server import ServerProcess

from tresen.radar.holdout import held_out

SEED_WHEN = {
    "all": [
        {
            "any": [
                {"form_dwell": {"form": "contract", "gte": 180}},
                {"url": {"glob": "/shop/product/phone-x*"}},
            ]
        },
        {"agent_free": {"skill": "Sales"}},
    ]
}


@pytest.fixture(scope="module")
def admin(demo_server: ServerProcess) -> Iterator[httpx.Client]:
    http = api_login(demo_server.url, "anna")
    yield http
    http.close()


def test_the_seed_rule_is_built_without_json_and_equals_its_json_form(
    browser: Any, demo_server: ServerProcess, admin: httpx.Client, screenshot_dir: Path
) -> None:
    tag = uuid.uuid4().hex[:6]
    made: list[int] = []
    context, page = _context(browser, demo_server.url, dict(admin.cookies.items()))
    try:
        login(page)
        page.click(".views button[data-view=rules]")
        page.click("button:has-text('New rule')")
        editor = page.locator("form.rule-editor")
        editor.locator("input[name=rule-name]").fill(f"Seed rule {tag}")
        editor.locator("input[name=rule-priority]").fill("990")
        editor.locator("input[name=rule-enabled]").uncheck()
        root = editor.locator(".rule-builder > .cond-group")
        root.locator(":scope > .row select[name=add-condition]").select_option("group")
        either = root.locator(".cond-group")
        assert either.locator(":scope > .row select[name=group-op]").input_value() == "any"
        either.locator(":scope > .row select[name=add-condition]").select_option("form_dwell")
        either.locator("input[name=form_dwell-form]").fill("contract")
        minutes = either.locator("input[name=form_dwell-minutes]")
        minutes.fill("-3")  # a fault is shown at its field
        either.locator("[data-field-error=minutes]").wait_for()
        minutes.fill("3")
        either.locator("[data-field-error=minutes]").wait_for(state="detached")
        either.locator(":scope > .row select[name=add-condition]").select_option("url")
        either.locator("select[name=url-mode]").select_option("glob")
        either.locator("input[name=url-pattern]").fill("/shop/product/phone-x*")
        root.locator(":scope > .row select[name=add-condition]").select_option("agent_free")
        root.locator(":scope > ul > li > .cond-leaf input[name=agent_free-skill]").fill("Sales")

        editor.locator("input[name=rule-skill]").fill("Sales")
        editor.locator("input[name=rule-text-en]").fill("Can I help you choose?")
        editor.locator("input[name=rule-text-de]").fill("Kann ich Ihnen bei der Wahl helfen?")
        editor.locator("input[name=rule-text-da]").fill("")
        preview = editor.locator("[data-testid=invite-preview]")
        assert "Can I help you choose?" in preview.inner_text()
        editor.locator("select[name=rule-preview-lang]").select_option("de")
        assert "Kann ich Ihnen bei der Wahl helfen?" in preview.inner_text()
        editor.locator("input[name=rule-control]").fill("10")
        page.screenshot(path=str(screenshot_dir / "console-rule-builder.png"), full_page=True)
        editor.locator("button[type=submit]").click()
        editor.wait_for(state="detached")

        built = next(
            r for r in admin.get("/api/radar/rules").json() if r["name"] == f"Seed rule {tag}"
        )
        made.append(built["id"])
        assert built["when"] == SEED_WHEN
        typed = {
            "name": f"Seed rule {tag} (JSON)",
            "priority": 990,
            "enabled": False,
            "when": SEED_WHEN,
            "action": {
                "type": "invite",
                "skill": "Sales",
                "auto_open": False,
                "text": {
                    "en": "Can I help you choose?",
                    "de": "Kann ich Ihnen bei der Wahl helfen?",
                },
            },
            "control": 0.1,
            "goal": {"event": "purchase"},
        }
        r = admin.post("/api/radar/rules", json={"rule": typed})
        r.raise_for_status()
        made.append(r.json()["id"])
        same = {k: v for k, v in r.json().items() if k not in ("id", "name")}
        assert {k: v for k, v in built.items() if k not in ("id", "name")} == same

        # Opened again, the builder shows the stored rule.
        page.locator(f"tr[data-rule='{built['id']}'] button:has-text('Edit')").click()
        again = page.locator("form.rule-editor")
        assert again.locator("input[name=form_dwell-minutes]").input_value() == "3"
        assert again.locator("input[name=url-pattern]").input_value() == "/shop/product/phone-x*"
        again.locator("button:has-text('Cancel')").click()
    finally:
        for rule_id in made:
            admin.delete(f"/api/radar/rules/{rule_id}")
        context.close()


PROMO = {
    "priority": 1,
    "enabled": True,
    "when": {"url": {"glob": "/e2e-figures-{tag}/*"}},
    "action": {"type": "message", "text": {"en": "Use WINTER15 for 15 % off."}},
    "control": 0.5,
    "goal": {"event": "purchase"},
}


def test_rule_figures_after_scripted_visits_with_purchases(
    browser: Any, demo_server: ServerProcess, admin: httpx.Client, screenshot_dir: Path
) -> None:
    tag = uuid.uuid4().hex[:6]
    spec = {**PROMO, "name": f"Figures {tag}", "when": {"url": {"glob": f"/e2e-figures-{tag}/*"}}}
    rule_id = int(admin.post("/api/radar/rules", json={"rule": spec}).json()["id"])
    loop = Loop()
    site = admin.get("/api/sites").json()[0]
    guests = [Guest(loop, demo_server, site["widget_key"]) for _ in range(10)]
    context, page = _context(browser, demo_server.url, dict(admin.cookies.items()))
    try:
        control = [g for g in guests if held_out(rule_id, g.visitor.id, 0.5)]
        invited = [g for g in guests if g not in control]
        for g in guests:
            g.raw(
                {
                    "type": "track",
                    "kind": "page",
                    "url": f"{demo_server.url}/e2e-figures-{tag}/cart",
                    "title": "Cart",
                    "language": "en",
                }
            )
        for g in invited:
            g.wait(lambda g=g: any(f["type"] == "offer" for f in g.frames))
        buyers = invited[:2] + control[:1]  # two invited visitors and one held out buy
        for g in buyers:
            g.raw({"type": "track", "kind": "event", "name": "purchase", "props": {"value": 50}})
        expected_matched = len(guests)

        def figures() -> dict[str, Any]:
            return dict(admin.get(f"/api/radar/rules/{rule_id}/figures").json())

        for _ in range(100):  # held-out records are written right after the page view
            f = figures()
            if f["matched"] == expected_matched and f["invited_group"]["converted"] == min(
                2, len(invited)
            ):
                break
            page.wait_for_timeout(200)  # the visits are written through about every second
        assert (f["shown"], f["held_out"]) == (len(invited), len(control))
        login(page)
        page.click(".views button[data-view=rules]")
        page.locator(f"tr[data-rule='{rule_id}'] button:has-text('Figures')").click()
        panel = page.locator("[data-testid=rule-figures]")
        assert panel.locator("[data-field=matched]").inner_text() == str(expected_matched)
        assert (
            panel.locator("[data-field=invited]")
            .inner_text()
            .startswith(f"{len(invited)} visitors, goal ")
        )
        if control:
            assert (
                panel.locator("[data-field=held-out]")
                .inner_text()
                .startswith(f"{len(control)} visitors")
            )
            assert "95 %" in panel.locator("[data-field=lift]").inner_text()
        page.screenshot(path=str(screenshot_dir / "console-rule-figures.png"), full_page=True)
    finally:
        for g in guests:
            g.stop()
        loop.close()
        admin.delete(f"/api/radar/rules/{rule_id}")
        context.close()
