"""Agents: anyone lists, admins create and change, agents change only their own status."""

from __future__ import annotations

import httpx
import pytest
from tests.integration.api.helpers import assert_error
from tests.support.actors import Agent, Scenario


async def test_any_agent_lists_agents_without_secrets(scenario: Scenario) -> None:
    r = await scenario.ben.http.get("/api/agents")
    assert r.status_code == 200
    agents = r.json()
    assert [a["username"] for a in agents] == ["anna", "ben"]
    assert agents[0]["skills"] == ["Sales"] and agents[1]["role"] == "agent"
    assert all("password" not in k for a in agents for k in a)


async def test_admin_creates_agent_who_can_log_in(scenario: Scenario) -> None:
    r = await scenario.anna.post(
        "/api/agents",
        json={
            "username": "carl",
            "password": "long enough pw",
            "display_name": "  Carl C.  ",
            "skills": [" Billing "],
            "max_chats": 6,
        },
    )
    assert r.status_code == 201, r.text
    carl = r.json()
    assert carl["username"] == "carl" and carl["display_name"] == "Carl C."
    assert carl["role"] == "agent" and carl["skills"] == ["Billing"] and carl["max_chats"] == 6
    assert carl["is_active"] is True
    logged_in = await Agent.login(scenario.base_url, "carl", "long enough pw")
    assert logged_in.id == carl["id"]
    await logged_in.close()


async def test_non_admin_cannot_create_or_change_others(scenario: Scenario) -> None:
    r = await scenario.ben.post("/api/agents", json={"username": "eve", "password": "12345678x"})
    assert_error(r, 403, "forbidden")
    r = await scenario.ben.patch(f"/api/agents/{scenario.anna.id}", json={"status": "away"})
    assert_error(r, 403, "forbidden")
    r = await scenario.ben.patch(f"/api/agents/{scenario.ben.id}", json={"role": "admin"})
    assert_error(r, 403, "forbidden")
    agents = (await scenario.ben.http.get("/api/agents")).json()
    assert [(a["username"], a["role"], a["status"]) for a in agents] == [
        ("anna", "admin", "offline"),
        ("ben", "agent", "offline"),
    ]


async def test_agent_changes_own_status_and_name(scenario: Scenario) -> None:
    r = await scenario.ben.patch(
        f"/api/agents/{scenario.ben.id}", json={"status": "online", "display_name": "Benny"}
    )
    assert r.status_code == 200
    assert r.json()["status"] == "online" and r.json()["display_name"] == "Benny"
    r = await scenario.ben.patch(f"/api/agents/{scenario.ben.id}", json={"status": "asleep"})
    body = assert_error(r, 422, "invalid")
    assert "status" in body["message"] and "online" in body["message"]


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ({"username": "Carl!", "password": "long enough pw"}, "username"),
        ({"username": "c", "password": "long enough pw"}, "username"),
        ({"username": "carl", "password": "short"}, "password: at least 8"),
        ({"username": "carl", "password": "long enough pw", "role": "god"}, "role: one of"),
        ({"username": "carl", "password": "long enough pw", "max_chats": 0}, "max_chats"),
        ({"username": "carl", "password": "long enough pw", "skills": [" "]}, "skills"),
        ({"username": "carl"}, "body.password: Field required"),
        ({"username": "carl", "password": 12345678}, "body.password"),
    ],
)
async def test_create_validation_is_422_with_a_clear_message(
    scenario: Scenario, payload: dict[str, object], fragment: str
) -> None:
    r = await scenario.anna.post("/api/agents", json=payload)
    body = assert_error(r, 422, "invalid")
    assert fragment in body["message"]
    agents = (await scenario.anna.http.get("/api/agents")).json()
    assert len(agents) == 2


async def test_duplicate_username_is_409(scenario: Scenario) -> None:
    r = await scenario.anna.post("/api/agents", json={"username": "ben", "password": "12345678x"})
    assert_error(r, 409, "conflict")


async def test_admin_changes_role_and_deactivation_ends_access(scenario: Scenario) -> None:
    anna, ben = scenario.anna, scenario.ben
    r = await anna.patch(
        f"/api/agents/{ben.id}", json={"role": "admin", "skills": ["Support", "DE"]}
    )
    assert r.status_code == 200
    assert r.json()["role"] == "admin" and r.json()["skills"] == ["Support", "DE"]
    r = await anna.patch(f"/api/agents/{ben.id}", json={"is_active": False})
    assert r.status_code == 200 and r.json()["is_active"] is False
    assert_error(await ben.http.get("/api/auth/me"), 401, "not_logged_in")
    async with httpx.AsyncClient(base_url=scenario.base_url) as http:
        r = await http.post(
            "/api/auth/login", json={"username": "ben", "password": "correct horse battery"}
        )
        assert_error(r, 401, "bad_credentials")


async def test_admin_resets_password(scenario: Scenario) -> None:
    r = await scenario.anna.patch(
        f"/api/agents/{scenario.ben.id}", json={"password": "new pass 99"}
    )
    assert r.status_code == 200
    relogged = await Agent.login(scenario.base_url, "ben", "new pass 99")
    await relogged.close()
    assert relogged.id == scenario.ben.id
    r = await scenario.anna.patch(f"/api/agents/{scenario.ben.id}", json={"password": "short"})
    assert_error(r, 422, "invalid")


async def test_unknown_agent_is_404(scenario: Scenario) -> None:
    assert_error(
        await scenario.anna.patch("/api/agents/999", json={"status": "away"}), 404, "not_found"
    )
