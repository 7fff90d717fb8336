"""A reconnecting client's resume races with live events: still each seq once, in order."""

from __future__ import annotations

import json

from tests.support.actors import Scenario, next_frame, raw_socket


async def test_message_published_before_resume_is_handled_is_not_sent_twice(
    scenario: Scenario,
) -> None:
    """The socket has joined its topics but the client's ``resume`` is not read yet when a new
    message is published. It must not reach the client ahead of the gap it resumes into, nor a
    second time with the fill from the store."""
    visitor = await scenario.visitor()
    v = visitor.client()
    await v.start()
    try:
        conv = (await v.wait_ack(await v.send("eins")))["conversation_id"]
        for body in ("zwei", "drei"):
            await v.wait_ack(await v.send(body, conv))

        # The agent had seen seq 1 when its connection dropped; it reconnects.
        ws = await raw_socket(await scenario.anna.ws_url(), origin=None)
        try:
            assert (await next_frame(ws, "welcome"))["type"] == "welcome"
            await v.wait_ack(await v.send("vier", conv))  # lands before the resume is read
            await ws.send(json.dumps({"type": "resume", "conversations": {conv: 1}}))
            seqs: list[int] = []
            while True:
                frame = await next_frame(ws)
                if frame["type"] == "resumed":
                    break
                if frame["type"] == "message":
                    seqs.append(frame["seq"])
            assert frame["conversations"] == {str(conv): 4}
            await v.wait_ack(await v.send("fünf", conv))
            seqs.append((await next_frame(ws, "message"))["seq"])
            assert seqs == [2, 3, 4, 5]
        finally:
            await ws.close()
    finally:
        await v.stop()
