"""The visitor is told who has the chat, of a transfer ("Anna takes over") and of the end, and
rates the chat; the previous agent's view is read-only; ratings reach the reports; the rating
page of a mail link; agents' pictures are type-checked."""

from __future__ import annotations

import json
from typing import Any

from tests.support.actors import Scenario, next_frame, raw_socket

from tresen.lifecycle.rating import rating_link

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


SEEN: dict[int, list[dict[str, Any]]] = {}


async def frame_where(ws: Any, kind: str, test: Any) -> dict[str, Any]:
    """The first frame of ``kind`` passing ``test``, also among those read before (a message
    held for a gap fill may arrive after a later conversation frame)."""
    seen = SEEN.setdefault(id(ws), [])
    for i, frame in enumerate(seen):
        if frame["type"] == kind and test(frame):
            return seen.pop(i)
    while True:
        frame = await next_frame(ws)
        if frame["type"] == kind and test(frame):
            return frame
        seen.append(frame)


async def test_transfer_end_and_rating(scenario: Scenario, server: Any) -> None:
    sc = scenario
    r = await sc.ben.http.put(
        f"/api/agents/{sc.ben.id}/avatar",
        content=PNG,
        headers={"X-CSRF-Token": sc.ben.csrf, "Content-Type": "image/png"},
    )
    assert r.status_code == 200, r.text
    ben_avatar = r.json()["avatar_url"]
    v = await sc.visitor()
    ws = await raw_socket(v.ws_url())
    await next_frame(ws, "welcome")
    await ws.send(json.dumps({"type": "send", "client_msg_id": "m1", "body": "Hello there"}))
    conv_id = int((await next_frame(ws, "ack"))["conversation_id"])
    r = await sc.anna.patch(f"/api/conversations/{conv_id}", json={"assignee_id": sc.ben.id})
    assert r.status_code == 200
    header = await frame_where(ws, "conversation", lambda f: f["conversation"]["agent"])
    assert header["conversation"]["agent"] == {"id": sc.ben.id, "name": "Ben", "avatar": ben_avatar}

    # Ben hands the chat to Anna: the visitor reads it, the header changes.
    r = await sc.anna.patch(f"/api/agents/{sc.anna.id}", json={"status": "online"})
    assert r.status_code == 200
    r = await sc.ben.post(f"/api/conversations/{conv_id}/transfer", json={"agent_id": sc.anna.id})
    assert r.status_code == 200, r.text
    told = await frame_where(ws, "message", lambda f: f["author"]["kind"] == "system")
    assert told["body"] == "Anna takes over the chat."
    header = await frame_where(
        ws, "conversation", lambda f: (f["conversation"]["agent"] or {}).get("id") == sc.anna.id
    )
    assert header["conversation"]["agent"]["name"] == "Anna"
    # Ben's view is read-only now (an internal note is still allowed).
    r = await sc.ben.post(f"/api/conversations/{conv_id}/messages", json={"body": "still me"})
    assert r.status_code == 403 and r.json()["code"] == "read_only"
    r = await sc.ben.post(
        f"/api/conversations/{conv_id}/messages", json={"body": "fyi", "internal": True}
    )
    assert r.status_code == 201

    # Rating before the end: refused.
    await ws.send(json.dumps({"type": "rate", "conversation_id": conv_id, "score": 5}))
    assert (await frame_where(ws, "error", bool))["code"] == "not_ended"

    r = await sc.anna.patch(f"/api/conversations/{conv_id}", json={"status": "resolved"})
    assert r.status_code == 200
    end = await frame_where(ws, "message", lambda f: "ended" in f["body"])
    assert end["author"]["kind"] == "system"
    ended = await frame_where(ws, "conversation", lambda f: f["conversation"]["ended"])
    assert ended["conversation"]["ended"]["scale"] == "stars"

    bad = {"type": "rate", "conversation_id": conv_id, "score": 9}
    await ws.send(json.dumps(bad))
    assert (await frame_where(ws, "error", bool))["code"] == "invalid_frame"
    rate = {"type": "rate", "conversation_id": conv_id, "score": 4, "comment": "<b>Quick</b>"}
    await ws.send(json.dumps(rate))
    rated = await frame_where(ws, "conversation", lambda f: f["conversation"]["rated"])
    assert rated["conversation"]["id"] == conv_id
    await ws.send(json.dumps(rate))
    assert (await frame_where(ws, "error", bool))["code"] == "already_rated"
    conv = (await sc.anna.http.get(f"/api/conversations/{conv_id}")).json()
    assert conv["meta"]["rating"]["score"] == 4
    assert conv["meta"]["rating"]["comment"] == "<b>Quick</b>"  # stored as text

    summary = (await sc.anna.http.get("/api/reports/summary")).json()
    assert summary["csat"]["count"] == 1 and summary["csat"]["average"] == 4.0
    assert summary["csat"]["satisfied_ratio"] == 1.0
    # the team filter narrows ratings by the agent who was rated too (docs/reports.md, "Teams")
    for name, members, count in (("Ben's", [sc.ben.id], 0), ("Anna's", [sc.anna.id], 1)):
        team = await sc.anna.post("/api/teams", json={"name": name, "member_ids": members})
        got = await sc.anna.http.get("/api/reports/summary", params={"team_id": team.json()["id"]})
        assert got.json()["csat"]["count"] == count
    await server.rt.events.drain()
    await server.app.state.reports.flush()  # the facts behind the agents table
    agents = (await sc.anna.http.get("/api/reports/agents")).json()
    anna = next(a for a in agents if a["agent_id"] == sc.anna.id)
    assert (anna["csat_average"], anna["csat_count"]) == (4.0, 1)
    await ws.close()


async def test_rating_page_of_a_mail_link(scenario: Scenario, server: Any) -> None:
    sc = scenario
    v = await sc.visitor()
    ws = await raw_socket(v.ws_url())
    await next_frame(ws, "welcome")
    await ws.send(json.dumps({"type": "send", "client_msg_id": "m1", "body": "Hi"}))
    conv_id = int((await next_frame(ws, "ack"))["conversation_id"])
    await ws.close()
    link = rating_link(server.rt, conv_id)
    path = link.removeprefix(server.url)
    page = await sc.anna.http.get(path)
    assert page.status_code == 200 and 'name="score"' in page.text
    assert (await sc.anna.http.get(path + "x")).status_code == 400
    r = await sc.anna.http.post(path, data={"score": "2", "comment": "slow"})
    assert r.status_code == 200 and "Thank you" in r.text
    again = await sc.anna.http.post(path, data={"score": "5"})
    assert again.status_code == 409
    conv = (await sc.anna.http.get(f"/api/conversations/{conv_id}")).json()
    assert conv["meta"]["rating"]["score"] == 2


async def test_avatar_checked_and_served_with_nosniff(scenario: Scenario) -> None:
    sc = scenario
    url = f"/api/agents/{sc.ben.id}/avatar"
    csrf = {"X-CSRF-Token": sc.ben.csrf}
    r = await sc.ben.http.put(
        url, content=b"<svg onload=alert(1)>", headers={**csrf, "Content-Type": "image/png"}
    )
    assert r.status_code == 422 and r.json()["code"] == "bad_image"
    r = await sc.ben.http.put(url, content=PNG, headers={**csrf, "Content-Type": "image/gif"})
    assert r.status_code == 422
    big = PNG + b"\x00" * (300 * 1024)
    r = await sc.ben.http.put(url, content=big, headers={**csrf, "Content-Type": "image/png"})
    assert r.status_code == 422 and r.json()["code"] == "image_too_large"
    r = await sc.ben.http.put(
        f"/api/agents/{sc.anna.id}/avatar",
        content=PNG,
        headers={**csrf, "Content-Type": "image/png"},
    )
    assert r.status_code == 403
    assert (await sc.ben.http.get(url)).status_code == 404
    r = await sc.ben.http.put(url, content=PNG, headers={**csrf, "Content-Type": "image/png"})
    assert r.status_code == 200
    got = await sc.ben.http.get(url)
    assert got.status_code == 200 and got.content == PNG
    assert got.headers["content-type"] == "image/png"
    assert got.headers["x-content-type-options"] == "nosniff"
