"""The audit log: every admin write (agents, sites, teams, tokens, rules, policies, mailboxes)
is recorded with who, what, when, before and after, never a secret; admins read it page by
page and filter it."""

from __future__ import annotations

from typing import Any

from tests.integration.api.helpers import assert_error
from tests.support.actors import Scenario


async def audit(sc: Scenario, **params: Any) -> dict[str, Any]:
    r = await sc.anna.http.get("/api/audit", params=params)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_admin_writes_are_audited_with_before_and_after(scenario: Scenario) -> None:
    anna, ben = scenario.anna, scenario.ben
    site = (await anna.post("/api/sites", json={"name": "Second", "allowed_origins": []})).json()
    await anna.patch(f"/api/sites/{site['id']}", json={"name": "Second shop"})
    await anna.patch(f"/api/sites/{site['id']}", json={"rotate_identity_secret": True})
    team = (await anna.post("/api/teams", json={"name": "Nights", "member_ids": [ben.id]})).json()
    await anna.patch(f"/api/agents/{ben.id}", json={"site_ids": [site["id"]], "max_chats": 2})
    r = await anna.post("/api/tokens", json={"name": "BI", "scopes": ["reports:read"]})
    rule = {
        "name": "x",
        "when": {"url": {"glob": "/x"}},
        "action": {"type": "message", "text": {"en": "hi"}},
    }
    made = await anna.post("/api/radar/rules", json={"site_id": None, "rule": rule})
    await anna.patch(f"/api/radar/policy/{site['id']}", json={"max_per_day": 2})
    await anna.http.delete(
        f"/api/radar/rules/{made.json()['id']}", headers={"X-CSRF-Token": anna.csrf}
    )
    await ben.patch(f"/api/agents/{ben.id}", json={"status": "online"})  # routine: not audited

    everything = (await audit(scenario))["items"]
    # the test's seed (a site, anna and ben, made through the actions as the CLI does) first
    seed = [(e["action"], e["actor"]["kind"]) for e in everything[-3:]]
    assert seed == [
        ("agent.create", "system"),
        ("agent.create", "system"),
        ("site.create", "system"),
    ]
    items = everything[:-3]
    actions = [e["action"] for e in items]
    assert actions == [
        "rule.delete",
        "policy.update",
        "rule.create",
        "token.create",
        "agent.update",
        "team.create",
        "site.update",
        "site.update",
        "site.create",
    ]
    by = {e["action"]: e for e in items}
    assert all(e["actor"] == {"kind": "agent", "id": anna.id, "name": "Anna"} for e in items)
    change = by["agent.update"]
    assert change["target"] == f"agent:{ben.id}"
    assert change["before"]["max_chats"] == 4 and change["after"]["max_chats"] == 2
    assert change["before"]["site_ids"] == [1] and change["after"]["site_ids"] == [site["id"]]
    assert by["team.create"]["after"] == {
        "id": team["id"],
        "name": "Nights",
        "member_ids": [ben.id],
    }
    assert by["policy.update"]["after"]["max_per_day"] == 2
    assert by["token.create"]["after"]["scopes"] == ["reports:read"]
    rotated = items[actions.index("site.update")]
    assert rotated["after"]["identity_secret_rotated"] is True
    token = r.json()["token"]
    text = str(items)
    assert "password_hash" not in text and "identity_secret'" not in text and token not in text
    assert site["identity_secret"] not in text
    assert all(e["created_at"] for e in items)


async def test_audit_pages_and_filters(scenario: Scenario) -> None:
    anna = scenario.anna
    for i in range(5):
        await anna.post("/api/teams", json={"name": f"Team {i}"})
    await anna.patch(f"/api/agents/{scenario.ben.id}", json={"max_chats": 3})
    seen: list[int] = []
    cursor = None
    while True:
        page = await audit(scenario, limit=2, **({"cursor": cursor} if cursor else {}))
        assert len(page["items"]) <= 2
        seen += [e["id"] for e in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 6 + 3 and seen == sorted(seen, reverse=True)  # + the seed's 3
    teams = await audit(scenario, action="team.create")
    assert len(teams["items"]) == 5
    assert len((await audit(scenario, action="team.*"))["items"]) == 5
    mine = await audit(scenario, target=f"agent:{scenario.ben.id}")
    assert [e["action"] for e in mine["items"]] == ["agent.update", "agent.create"]
    assert (await audit(scenario, actor_id=scenario.ben.id))["items"] == []
    r = await anna.http.get("/api/audit", params={"cursor": "!!not-a-cursor"})
    assert_error(r, 422, "bad_cursor")


async def test_only_admins_read_the_audit_log(scenario: Scenario) -> None:
    assert_error(await scenario.ben.http.get("/api/audit"), 403, "forbidden")


async def test_webhooks_lifecycle_and_channel_accounts_are_audited(scenario: Scenario) -> None:
    """The admin writes added with webhooks, the lifecycle timers and messaging accounts are in
    the same log, and their secrets never are."""
    anna = scenario.anna
    site = (await anna.http.get("/api/sites")).json()[0]["id"]
    hook = {
        "url": "http://127.0.0.1:9/h",
        "event_types": ["message.created"],
        "name": "CRM",
        "allow_private": True,
    }
    made = await anna.post("/api/webhooks", json=hook)
    assert made.status_code == 201, made.text
    sub, secret = made.json()["id"], made.json()["secret"]
    await anna.patch(f"/api/webhooks/{sub}", json={"name": "CRM 2"})
    r = await anna.post(f"/api/webhooks/{sub}/rotate-secret")
    assert r.status_code == 200, r.text
    rotated = r.json()["secret"]
    r = await anna.http.delete(f"/api/webhooks/{sub}", headers={"X-CSRF-Token": anna.csrf})
    assert r.status_code == 204, r.text
    r = await anna.http.put(
        f"/api/sites/{site}/lifecycle",
        json={"close_after_minutes": 0},
        headers={"X-CSRF-Token": anna.csrf},
    )
    assert r.status_code == 200, r.text
    account = {
        "kind": "whatsapp",
        "name": "Shop WA",
        "external_id": "1234567890",
        "access_token": "EAAG-very-secret-token",
        "app_secret": "app-secret-42",
        "verify_token": "verify-42",
    }
    r = await anna.post(f"/api/sites/{site}/channel-accounts", json=account)
    assert r.status_code in (200, 201), r.text

    items = (await audit(scenario, limit=200))["items"]
    actions = [(i["action"], i["target"]) for i in items]
    for expected in (
        ("webhook.create", f"webhook:{sub}"),
        ("webhook.update", f"webhook:{sub}"),
        ("webhook.rotate_secret", f"webhook:{sub}"),
        ("webhook.delete", f"webhook:{sub}"),
        ("lifecycle.save", f"lifecycle:{site}"),
    ):
        assert expected in actions, expected
    assert any(a == "channel_account.create" for a, _ in actions)
    assert all(i["actor"]["id"] == anna.id for i in items if i["action"].startswith("webhook."))
    text = str(items)
    for secret_value in (secret, rotated, "EAAG-very-secret-token", "app-secret-42", "verify-42"):
        assert secret_value not in text
