"""The visitor ends the chat (the widget's `end_chat` frame): resolved through the one write path,
recorded as ended by the visitor, the agent reads it and is free for the next chat, the visitor
is asked for a rating; someone else's conversation is refused like a missing one; the address
the transcript form is prefilled with. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

import httpx
from tests.integration.lifecycle.test_told_and_rating import frame_where
from tests.support.actors import Scenario, next_frame, raw_socket, running_scenario

from tresen.events import ConversationEnded, ConversationResolved, Event
from tresen.security.identity import identity_hash as sign_identity

ORIGIN = {"Origin": "https://shop.example"}


async def _visitor_chat(sc: Scenario, body: str, **arrive: Any) -> tuple[Any, Any, int]:
    v = await sc.visitor(**arrive)
    ws = await raw_socket(v.ws_url())
    await next_frame(ws, "welcome")
    frame = {"type": "send", "client_msg_id": "m1", "body": body, "skill": "Sales"}
    await ws.send(json.dumps(frame))
    return v, ws, int((await next_frame(ws, "ack"))["conversation_id"])


async def _load(sc: Scenario, agent_id: int) -> int:
    view = (await sc.anna.http.get("/api/routing/overview")).json()
    return int(next(a for a in view["agents"] if a["id"] == agent_id)["load"])


async def test_the_visitor_ends_the_chat(tmp_path: Any, database_url: str) -> None:
    async with running_scenario(tmp_path, database_url) as (server, sc):
        seen: list[Event] = []
        server.rt.events.on(ConversationResolved, ConversationEnded, do=seen.append, mode="now")
        r = await sc.anna.patch(f"/api/agents/{sc.anna.id}", json={"max_chats": 1})
        assert r.status_code == 200, r.text
        r = await sc.anna.patch(f"/api/agents/{sc.anna.id}", json={"status": "online"})
        assert r.status_code == 200, r.text
        agent = await raw_socket(await sc.anna.ws_url(), origin=sc.base_url)
        await next_frame(agent, "welcome")

        # Anna has the first chat (her only slot); the second visitor waits in the queue.
        _v1, ws1, first = await _visitor_chat(sc, "Hello, a question about my order")
        await frame_where(ws1, "conversation", lambda f: f["conversation"]["assignee_id"])
        _v2, ws2, second = await _visitor_chat(sc, "Anyone there?")
        assert (await next_frame(ws2, "queue"))["conversation_id"] == second
        assert await _load(sc, sc.anna.id) == 1

        # Someone else's conversation: the same error as one that does not exist.
        await ws2.send(json.dumps({"type": "end_chat", "conversation_id": first}))
        assert (await frame_where(ws2, "error", bool))["code"] == "no_such_conversation"
        await ws2.send(json.dumps({"type": "end_chat", "conversation_id": 999_999}))
        assert (await frame_where(ws2, "error", bool))["code"] == "no_such_conversation"
        await ws2.send(json.dumps({"type": "end_chat"}))
        assert (await frame_where(ws2, "error", bool))["code"] == "invalid_frame"
        assert (await sc.anna.http.get(f"/api/conversations/{first}")).json()["status"] == "open"

        # The first visitor ends their chat.
        await ws1.send(json.dumps({"type": "end_chat", "conversation_id": first}))
        ended = await frame_where(ws1, "conversation", lambda f: f["conversation"]["ended"])
        assert ended["conversation"]["status"] == "resolved"
        assert ended["conversation"]["ended"]["by"] == "visitor"
        assert ended["conversation"]["ended"]["scale"] == "stars"
        # The agent reads it as a line of the chat (internal: the visitor does not get it).
        line = await frame_where(agent, "message", lambda f: f["author"]["kind"] == "system")
        assert (line["conversation_id"], line["internal"]) == (first, True)
        assert line["body"] == "The visitor ended the chat."
        # Anna's slot is free: routing gives her the waiting chat.
        taken = await frame_where(
            ws2, "conversation", lambda f: f["conversation"]["assignee_id"] == sc.anna.id
        )
        assert taken["conversation"]["id"] == second
        assert await _load(sc, sc.anna.id) == 1  # the second chat, not the first

        # Recorded once, as by the visitor (a second end, e.g. from another tab, is a no-op).
        await ws1.send(json.dumps({"type": "end_chat", "conversation_id": first}))
        await server.rt.events.drain()
        resolved = [e for e in seen if isinstance(e, ConversationResolved)]
        assert [(e.conversation.id, e.by, e.by_agent_id) for e in resolved] == [
            (first, "visitor", None)
        ]
        assert [(e.conversation.id, e.by) for e in seen if isinstance(e, ConversationEnded)] == [
            (first, "visitor")
        ]
        conv = (await sc.anna.http.get(f"/api/conversations/{first}")).json()
        assert conv["status"] == "resolved" and conv["meta"]["ended"]["by"] == "visitor"
        assert conv["meta"]["ended"]["agent_id"] == sc.anna.id
        messages = (await sc.anna.http.get(f"/api/conversations/{first}/messages")).json()
        assert sum(m["body"] == "The visitor ended the chat." for m in messages) == 1

        # The rating follows as after an agent's end, and counts for Anna.
        await ws1.send(json.dumps({"type": "rate", "conversation_id": first, "score": 5}))
        await frame_where(ws1, "conversation", lambda f: f["conversation"]["rated"])
        conv = (await sc.anna.http.get(f"/api/conversations/{first}")).json()
        assert conv["meta"]["rating"]["score"] == 5

        # An agent cannot use the visitor's frame.
        await agent.send(json.dumps({"type": "end_chat", "conversation_id": second}))
        assert (await frame_where(agent, "error", bool))["code"] == "forbidden"
        for ws in (ws1, ws2, agent):
            await ws.close()


async def test_the_transcript_form_is_prefilled_with_the_known_address(
    tmp_path: Any, database_url: str
) -> None:
    async with running_scenario(tmp_path, database_url) as (_server, sc):
        identity = {
            "id": "cust-7",
            "email": "kim@example.com",
            "hash": sign_identity(sc.identity_secret, "cust-7"),
        }
        v1, ws1, first = await _visitor_chat(sc, "Hi", identity=identity)
        v2, ws2, second = await _visitor_chat(sc, "Hello")
        async with httpx.AsyncClient(base_url=sc.base_url, timeout=30) as http:

            async def ask(v: Any, conv: int) -> httpx.Response:
                params = {"site_key": sc.site_key, "conversation_id": conv}
                auth = {**ORIGIN, "Authorization": f"Bearer {v.token}"}
                return await http.get("/api/visitor/transcript-mail", params=params, headers=auth)

            # an identified contact's address
            got = await ask(v1, first)
            assert got.status_code == 200 and got.json() == {"email": "kim@example.com"}
            # nothing known yet for an anonymous visitor
            assert (await ask(v2, second)).json() == {"email": None}
            # another visitor's conversation, or none: refused alike
            for conv in (first, 999_999):
                got = await ask(v2, conv)
                assert got.status_code == 404 and got.json()["code"] == "no_such_conversation"
            params = {"site_key": sc.site_key, "conversation_id": second}
            got = await http.get("/api/visitor/transcript-mail", params=params, headers=ORIGIN)
            assert got.status_code == 401
            # an address given earlier: nobody online, the visitor leaves a message by email
            await ws2.send(
                json.dumps(
                    {
                        "type": "queue_choice",
                        "conversation_id": second,
                        "choice": "message",
                        "email": "lee@example.org",
                    }
                )
            )
            turned = await frame_where(
                ws2, "conversation", lambda f: f["conversation"]["id"] == second
            )
            assert turned["conversation"]["channel"] == "email"  # the widget offers no "End chat"
            assert (await ask(v2, second)).json() == {"email": "lee@example.org"}
            # a message left for an answer by email is no chat to end
            await ws2.send(json.dumps({"type": "end_chat", "conversation_id": second}))
            assert (await frame_where(ws2, "error", bool))["code"] == "not_a_chat"
        for ws in (ws1, ws2):
            await ws.close()
