"""Each node keeps the active webhook subscriptions in memory instead of reading them in every
transaction: a new subscription still gets the very next event (on this node at once, on another
node once the change reached it over the bus), a commit with nothing to send reads nothing, and a
stale copy never writes a row for a subscription that is gone."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select
from tests.support.actors import Scenario, Visitor, next_frame, raw_socket, running_scenario
from tests.support.server import InProcessServer, test_settings
from tests.support.services import RedisServer
from tests.support.webhook_receiver import Receiver

from tresen.events import WebhookSubscriptionsChanged
from tresen.storage.models import WebhookDelivery, WebhookSubscription
from tresen.webhooks.outbox import WebhookOutbox


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
async def shop(
    tmp_path: Path, database_url: str
) -> AsyncIterator[tuple[InProcessServer, Scenario]]:
    async with running_scenario(tmp_path, database_url) as setup:
        yield setup


def outbox_of(srv: InProcessServer) -> WebhookOutbox:
    outbox: WebhookOutbox = srv.app.state.webhooks.outbox
    return outbox


async def subscribe(sc: Scenario, url: str) -> int:
    body = {"url": url, "event_types": ["message.created"], "allow_private": True}
    r = await sc.anna.post("/api/webhooks", json=body)
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


class Chat:
    """A visitor's socket on one node, writing into one conversation."""

    def __init__(self, ws: Any) -> None:
        self.ws, self.conversation_id, self.n = ws, None, 0

    @classmethod
    async def open(cls, visitor: Visitor, ws_base: str | None = None) -> Chat:
        ws = await raw_socket(visitor.ws_url(ws_base))
        await next_frame(ws, "welcome")
        return cls(ws)

    async def write(self, body: str) -> int:
        """Sends ``body``; returns the stored message's id once acknowledged."""
        self.n += 1
        frame = {"type": "send", "client_msg_id": f"m{self.n}", "body": body}
        if self.conversation_id is not None:
            frame["conversation_id"] = self.conversation_id
        await self.ws.send(json.dumps(frame))
        ack = await next_frame(self.ws, "ack")
        self.conversation_id = ack["conversation_id"]
        return int(ack["id"])


async def staged_for(srv: InProcessServer, message_id: int) -> list[int]:
    """Subscriptions that got a ``message.created`` delivery of this message."""
    async with srv.rt.db.read() as s:
        rows = await s.execute(
            select(WebhookDelivery.subscription_id, WebhookDelivery.body).where(
                WebhookDelivery.event_type == "message.created"
            )
        )
        return [sub for sub, body in rows if json.loads(body)["data"]["message_id"] == message_id]


async def test_a_new_subscription_gets_the_next_message_and_is_read_once(
    shop: tuple[InProcessServer, Scenario], receiver: Receiver
) -> None:
    srv, sc = shop
    outbox = outbox_of(srv)
    chat = await Chat.open(await sc.visitor())
    await chat.write("opens the chat")
    await chat.write("nobody listens yet")
    reads = outbox.reads
    for i in range(3):  # the copy in memory is used: no read per commit
        await chat.write(f"still nobody {i}")
    assert outbox.reads == reads

    sub_id = await subscribe(sc, receiver.url)
    first = await chat.write("right after the subscription")
    assert await staged_for(srv, first) == [sub_id]
    reads = outbox.reads
    later = [await chat.write(f"and again {i}") for i in range(3)]
    assert outbox.reads == reads
    for message_id in later:
        assert await staged_for(srv, message_id) == [sub_id]

    r = await sc.anna.patch(f"/api/webhooks/{sub_id}", json={"active": False})
    assert r.status_code == 200, r.text
    off = await chat.write("after it was switched off")
    assert await staged_for(srv, off) == []
    await chat.ws.close()


async def test_a_stale_copy_writes_nothing_for_a_subscription_that_is_gone(
    shop: tuple[InProcessServer, Scenario], receiver: Receiver
) -> None:
    srv, sc = shop
    sub_id = await subscribe(sc, receiver.url)
    chat = await Chat.open(await sc.visitor())
    assert await staged_for(srv, await chat.write("hello")) == [sub_id]
    # Gone behind the node's back (no event): its copy still names the subscription.
    async with srv.rt.db.write() as s:
        await s.execute(delete(WebhookDelivery))
        await s.execute(delete(WebhookSubscription).where(WebhookSubscription.id == sub_id))
    assert [t.id for t in outbox_of(srv).targets_cached()] == [sub_id]
    message_id = await chat.write("the send still works")
    assert await staged_for(srv, message_id) == []
    await chat.ws.close()


@pytest.mark.postgres
@pytest.mark.redis
async def test_a_subscription_made_on_one_node_reaches_the_other(
    tmp_path: Path, pg_url: str, redis_server: RedisServer, receiver: Receiver
) -> None:
    # the login limit lives in the Redis every test shares: the suite logs in more than it allows
    async with running_scenario(
        tmp_path / "a", pg_url, redis_url=redis_server.url, login_attempts_per_minute=1_000_000
    ) as (_a, sc):
        (tmp_path / "b").mkdir()
        b = InProcessServer(test_settings(tmp_path / "b", pg_url, redis_url=redis_server.url))
        await b.start()
        try:
            chat = await Chat.open(await sc.visitor(), b.ws_url)  # the visitor writes on node B
            await chat.write("opens the chat on B")
            on_b = outbox_of(b)
            assert on_b.targets_cached() == []  # B knows there is no subscription
            heard = asyncio.Event()  # after B's own listener (registered first) forgot its copy
            b.rt.events.on(
                WebhookSubscriptionsChanged, do=lambda _e: heard.set(), mode="now", everywhere=True
            )
            sub_id = await subscribe(sc, receiver.url)  # made on node A
            async with asyncio.timeout(30):  # the change travels over Redis to B
                await heard.wait()
            assert on_b.targets_cached() is None
            message_id = await chat.write("on B, after the subscription was made on A")
            assert await staged_for(b, message_id) == [sub_id]
            await chat.ws.close()
        finally:
            await b.stop()
