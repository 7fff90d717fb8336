"""Conversations for agents: list, get, change status and assignee, page history, reply."""

from __future__ import annotations

import httpx
import pytest
from tests.integration.api.helpers import assert_error, start_conversation
from tests.support.actors import Scenario, next_frame, raw_socket


async def test_list_newest_first_with_status_filter_and_paging(scenario: Scenario) -> None:
    ids = [await start_conversation(await scenario.visitor(), f"hello {i}") for i in range(3)]
    http = scenario.ben.http
    listed = (await http.get("/api/conversations")).json()
    assert [c["id"] for c in listed] == ids[::-1]
    assert all(c["status"] == "open" and c["last_seq"] == 1 for c in listed)
    assert {"visitor_id", "site_id", "visitor_read_seq", "agent_read_seq"} <= set(listed[0])

    page = (await http.get("/api/conversations", params={"limit": 2})).json()
    assert [c["id"] for c in page] == [ids[2], ids[1]]
    rest = (await http.get("/api/conversations", params={"before_id": ids[1]})).json()
    assert [c["id"] for c in rest] == [ids[0]]

    r = await scenario.ben.patch(f"/api/conversations/{ids[1]}", json={"status": "resolved"})
    assert r.status_code == 200
    resolved = (await http.get("/api/conversations", params={"status": "resolved"})).json()
    assert [c["id"] for c in resolved] == [ids[1]]
    still_open = (await http.get("/api/conversations", params={"status": "open"})).json()
    assert [c["id"] for c in still_open] == [ids[2], ids[0]]


async def test_get_one_and_unknown_is_404(scenario: Scenario) -> None:
    visitor = await scenario.visitor()
    conv = await start_conversation(visitor, "hi")
    r = await scenario.ben.http.get(f"/api/conversations/{conv}")
    assert r.status_code == 200
    assert r.json()["id"] == conv and r.json()["visitor_id"] == visitor.id
    assert_error(
        await scenario.ben.http.get("/api/conversations/9999"), 404, "no_such_conversation"
    )
    r = await scenario.ben.patch("/api/conversations/9999", json={"status": "resolved"})
    assert_error(r, 404, "no_such_conversation")


async def test_patch_status_and_assignee_reaches_the_visitor(scenario: Scenario) -> None:
    visitor = await scenario.visitor()
    conv = await start_conversation(visitor, "hi")
    ws = await raw_socket(visitor.ws_url())
    try:
        await next_frame(ws, "welcome")
        r = await scenario.ben.patch(f"/api/conversations/{conv}", json={"status": "pending"})
        assert r.status_code == 200 and r.json()["status"] == "pending"
        seen = (await next_frame(ws, "conversation"))["conversation"]
        assert seen["id"] == conv and seen["status"] == "pending"
        assert "visitor_id" not in seen and "agent_read_seq" not in seen  # visitor view

        r = await scenario.ben.patch(
            f"/api/conversations/{conv}", json={"assignee_id": scenario.ben.id}
        )
        assert r.status_code == 200 and r.json()["assignee_id"] == scenario.ben.id
        assert (await next_frame(ws, "conversation"))["conversation"]["assignee_id"] == (
            scenario.ben.id
        )
        r = await scenario.ben.patch(f"/api/conversations/{conv}", json={"unassign": True})
        assert r.status_code == 200 and r.json()["assignee_id"] is None
    finally:
        await ws.close()
    got = (await scenario.ben.http.get(f"/api/conversations/{conv}")).json()
    assert got["status"] == "pending" and got["assignee_id"] is None


async def test_patch_rejects_bad_status_and_unknown_assignee(scenario: Scenario) -> None:
    conv = await start_conversation(await scenario.visitor(), "hi")
    r = await scenario.ben.patch(f"/api/conversations/{conv}", json={"status": "archived"})
    body = assert_error(r, 422, "invalid")
    assert "open" in body["message"] and "resolved" in body["message"]
    r = await scenario.ben.patch(f"/api/conversations/{conv}", json={"assignee_id": 999})
    assert_error(r, 404, "not_found")
    got = (await scenario.ben.http.get(f"/api/conversations/{conv}")).json()
    assert got["status"] == "open" and got["assignee_id"] is None


async def _seqs(http: httpx.AsyncClient, conv: int, **params: int) -> list[int]:
    r = await http.get(f"/api/conversations/{conv}/messages", params=params)
    assert r.status_code == 200, r.text
    return [m["seq"] for m in r.json()]


async def test_history_paging(scenario: Scenario) -> None:
    conv = await start_conversation(await scenario.visitor(), "first")
    for i in range(2, 26):
        r = await scenario.ben.post(f"/api/conversations/{conv}/messages", json={"body": f"m{i}"})
        assert r.status_code == 201 and r.json()["seq"] == i
    http = scenario.ben.http
    assert await _seqs(http, conv) == list(range(1, 26))
    assert await _seqs(http, conv, limit=10) == list(range(16, 26))  # newest page
    assert await _seqs(http, conv, limit=10, before_seq=16) == list(range(6, 16))
    assert await _seqs(http, conv, limit=10, before_seq=6) == list(range(1, 6))
    assert await _seqs(http, conv, limit=10, before_seq=1) == []
    assert await _seqs(http, conv, after_seq=20) == [21, 22, 23, 24, 25]
    assert await _seqs(http, conv, after_seq=0, limit=3) == [1, 2, 3]
    assert await _seqs(http, conv, after_seq=25) == []
    assert await _seqs(http, conv, limit=0) == [25]  # limits are clamped to 1..200
    first = (await http.get(f"/api/conversations/{conv}/messages", params={"limit": 1})).json()[0]
    assert first["body"] == "m25" and first["author"]["kind"] == "agent"
    r = await http.get("/api/conversations/9999/messages")
    assert_error(r, 404, "no_such_conversation")


async def test_page_limit_is_capped(scenario: Scenario) -> None:
    conv = await start_conversation(await scenario.visitor(), "first")
    for i in range(205):
        await scenario.ben.post(f"/api/conversations/{conv}/messages", json={"body": f"m{i}"})
    assert len(await _seqs(scenario.ben.http, conv, limit=10_000)) == 200


async def test_reply_is_stored_once_and_reaches_the_visitor(scenario: Scenario) -> None:
    visitor = await scenario.visitor()
    conv = await start_conversation(visitor, "hi")
    ws = await raw_socket(visitor.ws_url())
    try:
        await next_frame(ws, "welcome")
        payload = {"body": "Gern geschehen", "client_msg_id": "reply-1"}
        r = await scenario.anna.post(f"/api/conversations/{conv}/messages", json=payload)
        assert r.status_code == 201
        msg = r.json()
        assert msg["seq"] == 2 and msg["duplicate"] is False and msg["type"] == "message"
        assert msg["author"] == {"kind": "agent", "id": scenario.anna.id, "name": "Anna"}
        pushed = await next_frame(ws, "message")
        assert pushed["seq"] == 2 and pushed["body"] == "Gern geschehen"

        again = await scenario.anna.post(f"/api/conversations/{conv}/messages", json=payload)
        assert again.status_code == 201
        assert again.json()["duplicate"] is True and again.json()["id"] == msg["id"]
    finally:
        await ws.close()
    assert await _seqs(scenario.anna.http, conv) == [1, 2]


@pytest.mark.parametrize(
    ("body", "code"),
    [("", "empty_message"), ("   \n", "empty_message"), ("x" * 8193, "message_too_long")],
)
async def test_reply_validation(scenario: Scenario, body: str, code: str) -> None:
    conv = await start_conversation(await scenario.visitor(), "hi")
    r = await scenario.anna.post(f"/api/conversations/{conv}/messages", json={"body": body})
    assert_error(r, 422, code)
    assert await _seqs(scenario.anna.http, conv) == [1]


async def test_internal_note_is_hidden_from_visitor_history(scenario: Scenario) -> None:
    visitor = await scenario.visitor()
    conv = await start_conversation(visitor, "hi")
    r = await scenario.anna.post(
        f"/api/conversations/{conv}/messages", json={"body": "VIP customer", "internal": True}
    )
    assert r.status_code == 201 and r.json()["internal"] is True
    await scenario.anna.post(f"/api/conversations/{conv}/messages", json={"body": "Hello!"})
    assert await _seqs(scenario.anna.http, conv) == [1, 2, 3]
    async with httpx.AsyncClient(base_url=scenario.base_url) as http:
        r = await http.get(
            f"/api/visitor/conversations/{conv}/messages",
            params={"site_key": scenario.site_key},
            headers={"Authorization": f"Bearer {visitor.token}", "Origin": visitor.origin},
        )
    assert r.status_code == 200
    assert [(m["seq"], m["body"]) for m in r.json()] == [(1, "hi"), (3, "Hello!")]
    assert "VIP" not in r.text
