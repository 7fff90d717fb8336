"""A webhook's delivery survives a SIGKILL between the commit and the delivery: the node
commits the change with its delivery rows, is killed before any reaches the receiver, and after
the restart the receiver (a real local HTTP server) gets every delivery, each id once, each
signature valid."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.support.actors import Agent, Visitor, next_frame, raw_socket
from tests.support.cluster import Node, prepare_database
from tests.support.webhook_receiver import Receiver

from tresen.storage.db import Database
from tresen.storage.models import WebhookDelivery

MESSAGES = 5


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def rows(database_url: str) -> list[WebhookDelivery]:
    db = Database(database_url)
    try:
        async with db.read() as s:
            return list((await s.execute(select(WebhookDelivery))).scalars())
    finally:
        await db.dispose()


async def until(predicate: object, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not await predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError("the expected state was not reached")
        await asyncio.sleep(0.1)


@pytest.mark.slow
async def test_sigkill_between_commit_and_delivery_still_delivers_each_id_once(
    database_url: str, tmp_path: Path, nodes: list[Node]
) -> None:
    site_key = await prepare_database(database_url, tmp_path)
    receiver = Receiver(port=free_port())  # not listening yet: nothing can be delivered
    node = Node("solo", tmp_path, database_url)
    node.env.update(
        TRESEN_WEBHOOKS_RETRY_SECONDS="1",
        TRESEN_WEBHOOKS_TIMEOUT_SECONDS="2",
        TRESEN_WEBHOOKS_SWEEP_SECONDS="1",
    )
    nodes.append(node)
    await node.astart()
    anna = await Agent.login(node.url, "anna")
    try:
        r = await anna.post(
            "/api/webhooks",
            json={
                "url": receiver.url,
                "event_types": ["conversation.opened", "message.created"],
                "allow_private": True,
            },
        )
        assert r.status_code == 201, r.text
        secret = r.json()["secret"]
    finally:
        await anna.close()

    visitor = await Visitor.arrive(node.url, site_key)
    ws = await raw_socket(visitor.ws_url())
    await next_frame(ws, "welcome")
    conv: int | None = None
    for i in range(MESSAGES):
        frame = {"type": "send", "client_msg_id": f"m{i}", "body": f"message {i}"}
        if conv is not None:
            frame["conversation_id"] = conv
        await ws.send(json.dumps(frame))
        conv = int((await next_frame(ws, "ack"))["conversation_id"])
    await ws.close()

    async def all_written_and_tried() -> bool:
        found = await rows(database_url)
        return len(found) == MESSAGES + 1 and all(r.attempts >= 1 for r in found)

    await until(all_written_and_tried)
    await node.akill()
    committed = {r.delivery_id for r in await rows(database_url)}
    assert all(r.status != "delivered" for r in await rows(database_url))

    receiver.start()
    try:
        await node.astart()

        async def all_delivered() -> bool:
            return all(r.status == "delivered" for r in await rows(database_url))

        try:
            await until(all_delivered)
        except TimeoutError:
            print(node.log_tail())
            raise
        await asyncio.sleep(0)  # the receiver thread recorded every request it answered
        ids = receiver.ids()
        assert sorted(ids) == sorted(committed)  # each delivery id exactly once
        assert node.starts == 2
        now = time.time()
        assert all(got.verified(secret, now) for got in receiver.received)
        kinds = sorted(got.json["type"] for got in receiver.received)
        assert kinds == ["conversation.opened"] + ["message.created"] * MESSAGES
    finally:
        receiver.stop()
