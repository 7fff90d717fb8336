"""Invitations from an email into a chat: the agent's invite goes out as a mail with a signed
link; the link opens the site with the widget on that conversation as its visitor (address
verified); expired, used up or forged links get a clear page; the link opens nothing else."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.integration.channels.test_email_outbound import (
    SMTP_PASSWORD,
    SMTP_USER,
    configure_mailbox,
    leave_message,
)
from tests.support.actors import ORIGIN, Scenario, next_frame, raw_socket, running_scenario
from tests.support.mail import MailSink
from tests.support.server import InProcessServer

from tresen.clock import ManualClock
from tresen.scheduler import ManualScheduler

Setup = tuple[InProcessServer, Scenario, MailSink, ManualScheduler]
LINK = re.compile(r"http://127\.0\.0\.1:\d+/invite/[\w.-]+")


@pytest.fixture
async def shop(tmp_path: Path) -> AsyncIterator[Setup]:
    timers = ManualScheduler(ManualClock())
    sink = MailSink(SMTP_USER, SMTP_PASSWORD).start()
    try:
        async with running_scenario(
            tmp_path, clock=timers.clock, scheduler=timers, overflow_wait_seconds=0
        ) as (srv, sc):
            await configure_mailbox(sc, sink.port)
            yield srv, sc, sink, timers
    finally:
        sink.stop()


async def invite(sc: Scenario, conv_id: int, **body: Any) -> httpx.Response:
    return await sc.anna.post(f"/api/conversations/{conv_id}/chat-invite", json=body)


async def session(srv: InProcessServer, sc: Scenario, **body: Any) -> httpx.Response:
    async with httpx.AsyncClient(base_url=srv.url) as http:
        return await http.post(
            "/api/visitor/session",
            json={"site_key": sc.site_key, **body},
            headers={"Origin": ORIGIN},
        )


async def test_invite_mail_link_opens_the_conversation_as_its_visitor(shop: Setup) -> None:
    srv, sc, sink, _ = shop
    conv_id = await leave_message(srv, sc, "kunde@example.com")
    r = await invite(sc, conv_id, page="https://shop.example/products/kettle", max_uses=2)
    assert r.status_code == 201, r.text
    await srv.rt.events.drain()
    [mail] = sink.received
    text = mail.message.get_body(("plain",)).get_content()
    [link] = LINK.findall(text)
    assert link == r.json()["link"]
    token = link.rsplit("/", 1)[1]

    async with httpx.AsyncClient() as http:
        opened = await http.get(link)
    assert opened.status_code == 303
    assert opened.headers["location"] == (
        f"https://shop.example/products/kettle#tresen-invite={token}"
    )

    # A browser that never saw the shop redeems it: it is that conversation's visitor now.
    r = await session(srv, sc, invite=token)
    assert r.status_code == 200, r.text
    assert r.json()["invited_conversation"] == conv_id
    assert conv_id in [c["id"] for c in r.json()["conversations"]]
    ws = await raw_socket(f"{srv.ws_url}/ws/visitor?site={sc.site_key}&token={r.json()['token']}")
    await next_frame(ws, "welcome")
    await ws.send(
        json.dumps(
            {
                "type": "send",
                "client_msg_id": "c1",
                "body": "Here I am!",
                "conversation_id": conv_id,
            }
        )
    )
    assert (await next_frame(ws, "ack"))["conversation_id"] == conv_id
    await ws.close()
    visitor = (await sc.anna.http.get(f"/api/visitors/{r.json()['visitor_id']}")).json()
    assert visitor["attributes"]["email_verified"] == "kunde@example.com"

    # used a second time (the limit), then never again: a clear page with a new-chat button
    assert (await session(srv, sc, invite=token)).status_code == 200
    refused = await session(srv, sc, invite=token)
    assert refused.status_code == 403 and refused.json()["code"] == "invite_unusable"
    async with httpx.AsyncClient() as http:
        page = await http.get(link)
    assert page.status_code == 410 and "used up" in page.text
    assert 'href="https://shop.example/products/kettle#tresen-open"' in page.text


async def test_expired_and_forged_links(shop: Setup) -> None:
    srv, sc, _sink, timers = shop
    conv_id = await leave_message(srv, sc, "kunde@example.com")
    r = await invite(sc, conv_id, hours=1)
    token = r.json()["link"].rsplit("/", 1)[1]
    timers.advance(3601)
    async with httpx.AsyncClient(base_url=srv.url) as http:
        page = await http.get(f"/invite/{token}")
        assert page.status_code == 410 and "expired" in page.text
        assert "https://shop.example/#tresen-open" in page.text
        forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
        page = await http.get(f"/invite/{forged}")
        assert page.status_code == 410 and "not valid" in page.text and "href" not in page.text
    assert (await session(srv, sc, invite=token)).status_code == 403


async def test_the_link_is_a_key_to_nothing_else(shop: Setup) -> None:
    srv, sc, _sink, _ = shop
    conv_id = await leave_message(srv, sc, "kunde@example.com")
    token = (await invite(sc, conv_id)).json()["link"].rsplit("/", 1)[1]
    # not a visitor token
    async with httpx.AsyncClient(base_url=srv.url) as http:
        r = await http.get(
            f"/api/visitor/conversations/{conv_id}/messages",
            params={"site_key": sc.site_key},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert r.status_code == 401
    # not an agent session
    async with httpx.AsyncClient(base_url=srv.url, cookies={"tresen_session": token}) as http:
        assert (await http.get("/api/conversations")).status_code == 401
    # a page outside the site's origins is refused (no open redirect)
    r = await invite(sc, conv_id, page="https://evil.example/phish")
    assert r.status_code == 422 and r.json()["code"] == "bad_page"
