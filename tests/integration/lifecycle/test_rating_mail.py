"""An email conversation resolved by an agent: the customer gets a closing mail from the outbox
with a signed link to the rating page; the rating given there is stored with the agent."""

from __future__ import annotations

import re

from tests.integration.channels.test_email_outbound import (  # noqa: F401  (a fixture)
    configure_mailbox,
    leave_message,
    shop_settings,
)
from tests.support.actors import Scenario
from tests.support.channel_world import shop, sink, timers  # noqa: F401  (fixtures)
from tests.support.mail import MailSink
from tests.support.server import InProcessServer


async def test_closing_mail_carries_a_rating_link(
    shop: tuple[InProcessServer, Scenario],  # noqa: F811
    sink: MailSink,  # noqa: F811
) -> None:
    srv, sc = shop
    await configure_mailbox(sc, sink.port)
    conv_id = await leave_message(srv, sc, "kunde@example.com")
    r = await sc.anna.patch(f"/api/conversations/{conv_id}", json={"assignee_id": sc.anna.id})
    assert r.status_code == 200
    r = await sc.anna.patch(f"/api/conversations/{conv_id}", json={"status": "resolved"})
    assert r.status_code == 200
    await srv.rt.events.drain()
    await srv.rt.events.drain()  # the closing mail's own delivery
    [mail] = sink.received
    assert mail.rcpt_tos == ["kunde@example.com"]
    text = mail.message.get_body(("plain",)).get_content()
    link = re.search(r"(http://\S+/rate/\S+)", text)
    assert link is not None, text
    path = link.group(1).removeprefix(srv.url)
    page = await sc.anna.http.get(path)
    assert page.status_code == 200
    r = await sc.anna.http.post(path, data={"score": "5", "comment": "Danke!"})
    assert r.status_code == 200, r.text
    conv = (await sc.anna.http.get(f"/api/conversations/{conv_id}")).json()
    assert conv["status"] == "resolved"  # the closing mail does not reopen it
    assert conv["meta"]["rating"]["score"] == 5
    srv.rt.clock.advance(1)  # the range ends now (exclusive); the manual clock stood still
    summary = (await sc.anna.http.get("/api/reports/summary?channel=email")).json()
    assert summary["csat"]["by_agent"][str(sc.anna.id)]["count"] == 1
