"""The frames a socket gets in one turn of the event loop go out in one write to its transport:
complete, in order, and an ack together with the frames its commit delivered."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.support.actors import next_frame, raw_socket, running_scenario

from tresen.gateway.connection import Connection
from tresen.realtime.protocol import Author, TypingOut
from tresen.realtime.topics import agent_topic

FRAMES = 200


def _connection(srv: Any, kind: str, principal_id: int) -> Connection:
    conns = [
        c
        for c in srv.app.state.gateway.connections
        if (c.who.kind, c.who.id) == (kind, principal_id)
    ]
    assert len(conns) == 1
    return conns[0]


def _count_writes(conn: Connection) -> list[int]:
    """Frames per write to the connection's transport, from now on."""
    protocol: Any = conn._protocol
    assert protocol is not None, "the default protocol writes frames in batches"
    writes: list[int] = []
    write_texts = protocol.write_texts

    def counting(texts: list[str]) -> None:
        writes.append(len(texts))
        write_texts(texts)

    protocol.write_texts = counting
    return writes


async def test_frames_of_one_turn_arrive_complete_and_in_order_in_one_write(
    tmp_path: Path,
) -> None:
    async with running_scenario(tmp_path) as (srv, sc):
        ws = await raw_socket(await sc.ben.ws_url(), origin=None)
        await next_frame(ws, "welcome")
        writes = _count_writes(_connection(srv, "agent", sc.ben.id))
        for i in range(FRAMES):  # one turn: no await between them
            name = f"{i:04d}" + "é" * (i * 37 % 3000)  # small and large frames, not ASCII
            frame = TypingOut(
                conversation_id=1, author=Author(kind="bot", name=name), is_typing=True
            )
            srv.rt.bus.publish_nowait(agent_topic(sc.ben.id), frame.frame())
        names = []
        while len(names) < FRAMES:
            got = json.loads(await ws.recv())
            if got["type"] == "typing":
                names.append(got["author"]["name"])
        assert names == [f"{i:04d}" + "é" * (i * 37 % 3000) for i in range(FRAMES)]
        assert writes == [FRAMES]
        await ws.close()


async def test_an_ack_goes_out_with_the_message_frame_of_its_commit(tmp_path: Path) -> None:
    async with running_scenario(tmp_path) as (srv, sc):
        v = await sc.visitor()
        ws = await raw_socket(v.ws_url())
        await next_frame(ws, "welcome")
        await ws.send(json.dumps({"type": "resume", "conversations": {}}))
        await ws.send(json.dumps({"type": "send", "client_msg_id": "a", "body": "hi"}))
        ack = await next_frame(ws, "ack")
        conv_id = ack["conversation_id"]
        writes = _count_writes(_connection(srv, "visitor", v.id))
        body = {"type": "send", "client_msg_id": "b", "body": "again", "conversation_id": conv_id}
        await ws.send(json.dumps(body))
        seen = [json.loads(await ws.recv()) for _ in range(2)]
        assert [(f["type"], f.get("seq")) for f in seen] == [("message", 2), ("ack", 2)]
        assert writes == [2]  # the message frame and the ack, one write
        await ws.close()
