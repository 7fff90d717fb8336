"""Outgoing webhooks end to end over real sockets: a visitor writes, the change commits with its
webhook deliveries, and a real local HTTP receiver gets them signed; failures are retried at
the exact backoff times on the injected clock for 24 h; 410 switches the subscription off;
targets on loopback, link-local or private addresses are refused unless allowed."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from tests.support.actors import Scenario, next_frame, raw_socket, running_scenario
from tests.support.server import InProcessServer
from tests.support.webhook_receiver import Receiver

from tresen.clock import ManualClock
from tresen.scheduler import ManualScheduler
from tresen.storage.models import WebhookAttempt, WebhookDelivery
from tresen.webhooks.send import Sender
from tresen.webhooks.ssrf import IP


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def timers() -> ManualScheduler:
    return ManualScheduler(ManualClock())


@pytest.fixture
async def shop(
    tmp_path: Path, database_url: str, timers: ManualScheduler
) -> AsyncIterator[tuple[InProcessServer, Scenario]]:
    async with running_scenario(
        tmp_path,
        database_url,
        clock=timers.clock,
        scheduler=timers,
        webhooks_retry_seconds=30,
        session_ttl_seconds=7 * 24 * 3600,  # the clock is moved on by more than a day
    ) as setup:
        yield setup


async def subscribe(sc: Scenario, url: str, types: list[str], **extra: Any) -> dict[str, Any]:
    body = {"url": url, "event_types": types, "name": "CRM", "allow_private": True, **extra}
    r = await sc.anna.post("/api/webhooks", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def visitor_writes(sc: Scenario, text: str = "Hallo, where is my order?") -> int:
    v = await sc.visitor()
    ws = await raw_socket(v.ws_url())
    await next_frame(ws, "welcome")
    await ws.send(json.dumps({"type": "send", "client_msg_id": "m1", "body": text}))
    conv_id = int((await next_frame(ws, "ack"))["conversation_id"])
    await ws.close()
    return conv_id


async def settle(srv: InProcessServer) -> None:
    await srv.rt.events.drain()
    await srv.app.state.webhooks.idle()


async def log_of(sc: Scenario, sub_id: int) -> list[dict[str, Any]]:
    r = await sc.anna.http.get(f"/api/webhooks/{sub_id}/deliveries")
    assert r.status_code == 200, r.text
    return list(r.json()["deliveries"])


async def test_receiver_verifies_signed_deliveries_of_committed_events(
    shop: tuple[InProcessServer, Scenario], receiver: Receiver, timers: ManualScheduler
) -> None:
    srv, sc = shop
    sub = await subscribe(sc, receiver.url, ["conversation.opened", "message.created"])
    secret = sub.pop("secret")
    assert secret.startswith("whsec_") and len(secret) > 40
    r = await sc.anna.http.get(f"/api/webhooks/{sub['id']}")
    assert "secret" not in r.json() and r.json()["secret_set"] is True

    conv_id = await visitor_writes(sc)
    await settle(srv)

    now = timers.clock.now().timestamp()
    assert sorted(r.headers["tresen-event"] for r in receiver.received) == [
        "conversation.opened",
        "message.created",
    ]
    for got in receiver.received:
        assert got.verified(secret, now), got.headers
        assert not got.verified("whsec_wrong", now)
        assert not got.verified(secret, now + 301)  # an old request is refused: no replay
        body = got.json
        assert body["id"] == got.headers["tresen-delivery"]
        assert body["type"] == got.headers["tresen-event"]
        assert got.headers["content-type"] == "application/json"
        assert body["data"]["conversation"]["id"] == conv_id
        assert body["site_id"] == body["data"]["conversation"]["site_id"]
    message = next(r.json for r in receiver.received if r.json["type"] == "message.created")
    assert message["data"]["body"] == "Hallo, where is my order?"
    assert message["data"]["author_kind"] == "visitor"
    # the signature covers the exact bytes: a changed body no longer verifies
    tampered = receiver.received[0]
    tampered.body = tampered.body.replace(b"Hallo", b"Hello")
    assert not tampered.verified(secret, now) or b"Hallo" not in receiver.received[0].body

    log = await log_of(sc, sub["id"])
    assert [d["status"] for d in log] == ["delivered", "delivered"]
    assert all(d["log"][0]["status_code"] == 200 for d in log)
    assert all('"ok": true' in d["log"][0]["response"] for d in log)

    # an event type not subscribed to is not sent; a rotated secret signs from then on
    r = await sc.anna.post(f"/api/webhooks/{sub['id']}/rotate-secret")
    new_secret = r.json()["secret"]
    assert new_secret != secret
    await visitor_writes(sc, "second visitor")
    await settle(srv)
    assert len(receiver.received) == 4
    assert all(r.verified(new_secret, now) for r in receiver.received[2:])


async def test_failed_deliveries_are_retried_at_the_backoff_times_for_24_hours(
    shop: tuple[InProcessServer, Scenario], receiver: Receiver, timers: ManualScheduler
) -> None:
    srv, sc = shop
    sub = await subscribe(sc, receiver.url, ["conversation.opened"])
    receiver.statuses = [500] * 1000  # never succeeds
    start = timers.clock.now()
    await visitor_writes(sc)
    await settle(srv)
    assert len(receiver.received) == 1

    # 30 s, 60 s, 120 s, ... doubling, at most an hour apart, for 24 hours after the event
    expected, at, wait = [0.0], 0.0, 30.0
    while at + wait <= 24 * 3600:
        at += wait
        expected.append(at)
        wait = min(wait * 2, 3600.0)
    for due in expected[1:]:
        elapsed = (timers.clock.now() - start).total_seconds()
        timers.advance(due - elapsed - 1)
        await settle(srv)
        count = len(receiver.received)
        timers.advance(1)
        await settle(srv)
        assert len(receiver.received) == count + 1, f"attempt due at {due} s"
    timers.advance(3 * 3600)
    await settle(srv)
    assert len(receiver.received) == len(expected)
    assert len(set(receiver.ids())) == 1  # one delivery id on every attempt

    async with srv.rt.db.read() as s:
        attempts = (await s.execute(select(WebhookAttempt).order_by(WebhookAttempt.id))).scalars()
        times = [(a.started_at - start).total_seconds() for a in attempts]
        row = (await s.execute(select(WebhookDelivery))).scalar_one()
    assert times == expected
    assert row.status == "failed" and row.last_status == 500
    [entry] = await log_of(sc, sub["id"])
    assert entry["attempts"] == len(expected) and entry["next_attempt_at"] is None

    # resend: same delivery id, sent at once, delivered when the receiver is back
    receiver.statuses = []
    r = await sc.anna.post(f"/api/webhooks/deliveries/{entry['id']}/resend")
    assert r.status_code == 200, r.text
    await settle(srv)
    assert receiver.ids()[-1] == entry["delivery_id"]
    [entry] = await log_of(sc, sub["id"])
    assert entry["status"] == "delivered" and entry["log"][-1]["status_code"] == 200


async def test_recovers_after_errors_and_410_switches_the_subscription_off(
    shop: tuple[InProcessServer, Scenario], receiver: Receiver, timers: ManualScheduler
) -> None:
    srv, sc = shop
    sub = await subscribe(sc, receiver.url, ["message.created"])
    receiver.statuses = [503, 302]  # a redirect is not followed: it is a failure
    await visitor_writes(sc)
    await settle(srv)
    timers.advance(30)
    await settle(srv)
    timers.advance(60)
    await settle(srv)
    [entry] = await log_of(sc, sub["id"])
    assert [a["status_code"] for a in entry["log"]] == [503, 302, 200]
    assert entry["status"] == "delivered"

    receiver.statuses = [410]
    await visitor_writes(sc, "again")
    await settle(srv)
    r = await sc.anna.http.get(f"/api/webhooks/{sub['id']}")
    assert r.json()["active"] is False and "410" in r.json()["disabled_reason"]
    count = len(receiver.received)
    await visitor_writes(sc, "nobody listens")
    await settle(srv)
    timers.advance(24 * 3600)
    await settle(srv)
    assert len(receiver.received) == count
    r = await sc.anna.post(f"/api/webhooks/deliveries/{entry['id']}/resend")
    assert r.status_code == 409 and r.json()["code"] == "subscription_off"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/hook",
        "http://[::1]:{port}/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.1.2.3/hook",
        "http://[::ffff:127.0.0.1]:{port}/hook",
        "http://localhost:{port}/hook",  # a name that resolves to loopback
    ],
)
async def test_refuses_internal_targets_unless_allowed(
    shop: tuple[InProcessServer, Scenario], receiver: Receiver, url: str
) -> None:
    _srv, sc = shop
    target = url.format(port=receiver.port)
    body = {"url": target, "event_types": ["message.created"]}
    r = await sc.anna.post("/api/webhooks", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "target_not_allowed"
    r = await sc.anna.post("/api/webhooks", json={**body, "allow_private": True})
    assert r.status_code == 201, r.text
    r = await sc.anna.patch(f"/api/webhooks/{r.json()['id']}", json={"allow_private": False})
    assert r.status_code == 422 and r.json()["code"] == "target_not_allowed"


async def test_a_name_rebound_to_loopback_is_refused_at_delivery_and_the_address_pinned(
    shop: tuple[InProcessServer, Scenario], receiver: Receiver
) -> None:
    srv, sc = shop
    # at subscription time the name does not resolve (.invalid never does): it is accepted,
    # and checked again at the delivery, where it now points at loopback
    url = f"http://hooks.rebind.invalid:{receiver.port}/hook"
    sub = await subscribe(sc, url, ["message.created"], allow_private=False)

    async def rebound(host: str, port: int) -> list[IP]:
        import ipaddress

        assert host == "hooks.rebind.invalid"
        return [ipaddress.ip_address("127.0.0.1")]

    worker = srv.app.state.webhooks
    await worker.sender.close()
    worker.sender = Sender(5, resolver=rebound)
    await visitor_writes(sc)
    await settle(srv)
    assert receiver.received == []
    [entry] = await log_of(sc, sub["id"])
    assert entry["status"] == "failed"
    assert "127.0.0.1, a loopback address" in entry["last_error"]

    # allowed for this subscription: sent to the checked address, with the name as Host
    r = await sc.anna.patch(f"/api/webhooks/{sub['id']}", json={"allow_private": True})
    assert r.status_code == 200, r.text
    r = await sc.anna.post(f"/api/webhooks/deliveries/{entry['id']}/resend")
    assert r.status_code == 200, r.text
    await settle(srv)
    [got] = receiver.received
    assert got.headers["host"] == f"hooks.rebind.invalid:{receiver.port}"
    assert got.headers["tresen-delivery"] == entry["delivery_id"]


async def test_admins_only_csrf_and_clear_errors(shop: tuple[InProcessServer, Scenario]) -> None:
    _srv, sc = shop
    body = {"url": "https://hooks.example.com/x", "event_types": ["message.created"]}
    r = await sc.ben.post("/api/webhooks", json=body)
    assert r.status_code == 403
    r = await sc.ben.http.get("/api/webhooks")
    assert r.status_code == 403
    r = await sc.anna.http.post("/api/webhooks", json=body)  # no CSRF token
    assert r.status_code == 403 and r.json()["code"] == "csrf"
    r = await sc.anna.post("/api/webhooks", json={**body, "event_types": ["nope.happened"]})
    assert r.status_code == 422 and r.json()["code"] == "bad_event_type"
    r = await sc.anna.post("/api/webhooks", json={**body, "url": "ftp://files.example.com/"})
    assert r.status_code == 422 and r.json()["code"] == "bad_url"
    r = await sc.anna.post("/api/webhooks", json={**body, "site_id": 999})
    assert r.status_code == 404
    r = await sc.anna.http.get("/api/webhooks/event-types")
    assert {"conversation.opened", "contact.created", "rating.given"} <= set(r.json())
    r = await sc.anna.http.get("/api/webhooks/4242/deliveries")
    assert r.status_code == 404


async def test_site_filter_and_a_rolled_back_change_sends_nothing(
    shop: tuple[InProcessServer, Scenario], receiver: Receiver, timers: ManualScheduler
) -> None:
    srv, sc = shop
    r = await sc.anna.http.get("/api/sites")
    site_id = r.json()[0]["id"]
    r = await sc.anna.post("/api/sites", json={"name": "Other", "allowed_origins": []})
    assert r.status_code == 201, r.text
    other = await subscribe(sc, receiver.url, ["message.created"], site_id=r.json()["id"])
    mine = await subscribe(sc, receiver.url, ["message.created"], site_id=site_id)
    await visitor_writes(sc)
    await settle(srv)
    assert await log_of(sc, other["id"]) == []
    assert len(await log_of(sc, mine["id"])) == 1

    from tresen.events import record
    from tresen.storage.models import Conversation

    async def failing_change() -> None:
        async with srv.rt.db.write() as s:
            conv = (await s.execute(select(Conversation))).scalars().first()
            assert conv is not None
            from tresen.events import ConversationResolved, ConversationState

            record(s, ConversationResolved(ConversationState.of(conv), by_agent_id=None))
            raise RuntimeError("the change fails")

    await subscribe(sc, receiver.url, ["conversation.resolved"])
    with pytest.raises(RuntimeError):
        await failing_change()
    await settle(srv)
    async with srv.rt.db.read() as s:
        types = (await s.execute(select(WebhookDelivery.event_type))).scalars().all()
    assert "conversation.resolved" not in types


async def test_a_fact_from_memory_is_sent_too(
    shop: tuple[InProcessServer, Scenario], receiver: Receiver
) -> None:
    srv, sc = shop
    await subscribe(sc, receiver.url, ["visitor.arrived"])
    v = await sc.visitor()
    ws = await raw_socket(v.ws_url())
    await next_frame(ws, "welcome")
    await settle(srv)
    await ws.close()
    [got] = receiver.received
    assert got.json["type"] == "visitor.arrived"
    assert got.json["data"]["visitor_id"] == v.id and got.json["data"]["returning"] is False


async def test_finished_deliveries_are_forgotten_after_the_keep_days(
    shop: tuple[InProcessServer, Scenario], receiver: Receiver, timers: ManualScheduler
) -> None:
    srv, sc = shop
    await subscribe(sc, receiver.url, ["message.created"])
    receiver.statuses = [200, 500]  # the second delivery is still being retried
    await visitor_writes(sc)
    await visitor_writes(sc, "another")
    await settle(srv)
    worker = srv.app.state.webhooks
    timers.clock.advance(29 * 86400)
    assert await worker.prune() == 0
    timers.clock.advance(2 * 86400)
    async with srv.rt.db.read() as s:
        before = (await s.execute(select(WebhookDelivery.status))).scalars().all()
    assert sorted(before) == ["delivered", "pending"]
    assert await worker.prune() == 1  # the delivered one; the pending one stays
    async with srv.rt.db.read() as s:
        assert (await s.execute(select(WebhookDelivery.status))).scalars().all() == ["pending"]
        attempts = (await s.execute(select(WebhookAttempt))).scalars().all()
    assert len(attempts) == 1 and attempts[0].status_code == 500
