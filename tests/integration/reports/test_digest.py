"""The summary mailed to supervisors (docs/reports.md, "Summary mail"): opted in per supervisor
(daily, weekly, off; time zone, hour, sites, address), mailed through the site's mailbox to a
real SMTP server (aiosmtpd) at the right local hour on the injected clock, once per period even
with two nodes on one database, retried with backoff, skipped after an opt-out; its figures are
the report API's. SQLite and PostgreSQL (``database_url``)."""

from __future__ import annotations

import asyncio
import base64
import html
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select
from tests.integration.channels.test_email_outbound import (
    SMTP_PASSWORD,
    SMTP_USER,
    configure_mailbox,
)
from tests.integration.channels.test_email_transcript import chat
from tests.support.actors import ORIGIN, PASSWORD, Agent, Scenario, running_scenario
from tests.support.mail import MailSink
from tests.support.server import InProcessServer, test_settings

from tresen.agents.actions import check_create_agent
from tresen.clock import ManualClock
from tresen.digest.worker import DigestWorker
from tresen.scheduler import ManualScheduler
from tresen.sites.actions import do_create_site
from tresen.storage.models import DigestMail, ReportDigest, Site

SWEEP = 60
SETTINGS: dict[str, Any] = dict(
    digest_sweep_seconds=SWEEP,
    overflow_wait_seconds=0,
    email_followup_minutes=0,
    outbox_retry_seconds=30,
    outbox_max_attempts=3,
    session_ttl_seconds=40 * 86400,  # the tests move the clock days ahead
)
BOSS = "boss@shop.example"


@pytest.fixture
def sink() -> Iterator[MailSink]:
    server = MailSink(SMTP_USER, SMTP_PASSWORD).start()
    yield server
    server.stop()


def start_timers() -> ManualScheduler:
    # Tuesday 2026-11-24, 09:00 UTC (10:00 in Berlin)
    return ManualScheduler(ManualClock(datetime(2026, 11, 24, 9, 0, tzinfo=UTC)))


@asynccontextmanager
async def node(
    tmp_path: Path, database_url: str, timers: ManualScheduler, name: str
) -> AsyncIterator[InProcessServer]:
    """Another node on the same database and the same injected clock."""
    folder = tmp_path / name
    folder.mkdir()
    conf = test_settings(folder, database_url, node_name=name, **SETTINGS)
    srv = InProcessServer(conf, clock=timers.clock, scheduler=timers)
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()


def worker(srv: InProcessServer) -> DigestWorker:
    w: DigestWorker = srv.app.state.digest
    return w


async def settle(*nodes: InProcessServer) -> None:
    for srv in nodes:
        await srv.rt.events.drain()
        await worker(srv).idle()


async def until(timers: ManualScheduler, at: datetime, *nodes: InProcessServer) -> None:
    """Move the clock to just before ``at``, then let the scheduler fire up to ``at`` (the
    sweeps run on it: one just before, one at ``at``)."""
    gap = (at - timers.clock.now()).total_seconds() - SWEEP
    if gap > 0:
        timers.clock.advance(gap)
    timers.advance(SWEEP / 2)
    await settle(*nodes)
    timers.advance((at - timers.clock.now()).total_seconds())
    await settle(*nodes)


async def opt_in(sc: Scenario, **body: Any) -> Any:
    choice = {"frequency": "daily", "time_zone": "Europe/Berlin", "hour": 7, "email": BOSS}
    r = await sc.anna.http.put(
        "/api/reports/digest", headers={"X-CSRF-Token": sc.anna.csrf}, json={**choice, **body}
    )
    assert r.status_code == 200, r.text
    return r.json()


async def mails(srv: InProcessServer) -> list[DigestMail]:
    async with srv.rt.db.read() as s:
        return list((await s.execute(select(DigestMail).order_by(DigestMail.id))).scalars())


def parts(msg: EmailMessage) -> tuple[str, str]:
    plain = msg.get_body(("plain",))
    markup = msg.get_body(("html",))
    assert plain is not None and markup is not None
    return plain.get_content(), markup.get_content()


async def test_daily_at_the_local_hour_once_across_two_nodes_with_the_api_figures(
    tmp_path: Path, database_url: str, sink: MailSink
) -> None:
    timers = start_timers()
    async with running_scenario(
        tmp_path / "a", database_url, timers.clock, timers, node_name="a", **SETTINGS
    ) as (a, sc):
        await configure_mailbox(sc, sink.port)
        async with a.rt.db.write() as s:
            site = (await s.execute(select(Site))).scalar_one()
            site.name, site_id = "Tea & <Cakes>", site.id
        await chat(a, sc, "Do you ship to Denmark?")  # Tuesday 10:00 in Berlin
        await a.app.state.reports.flush()
        view = await opt_in(sc, site_ids=[site_id])
        assert view["frequency"] == "daily" and view["site_ids"] == [site_id]
        async with node(tmp_path, database_url, timers, "b") as b:
            # Wednesday 06:59 in Berlin: not yet (and Monday's day was due before the opt-in)
            await until(timers, datetime(2026, 11, 25, 5, 59, tzinfo=UTC), a, b)
            assert sink.received == [] and await mails(a) == []
            await until(timers, datetime(2026, 11, 25, 6, 0, tzinfo=UTC), a, b)  # 07:00
            assert len(sink.received) == 1
            await asyncio.gather(worker(a).sweep(), worker(b).sweep())
            timers.advance(3 * 3600)
            await settle(a, b)
        assert len(sink.received) == 1, "one mail for the day, whatever the nodes did"
        got = sink.received[0]
        assert got.rcpt_tos == [BOSS]
        msg = got.message
        assert msg["From"].addresses[0].addr_spec == "support@shop.example"
        assert msg["Subject"] == "Chat summary for 2026-11-24"
        plain, markup = parts(msg)
        assert "Conversations: 1" in plain and "Tea & <Cakes>" in plain
        assert "Tea &amp; &lt;Cakes&gt;" in markup and "<Cakes>" not in markup
        [row] = await mails(a)
        assert (row.period_key, row.status, row.attempts) == ("daily:2026-11-24", "sent", 1)
        assert row.external_id == msg["Message-ID"]

        # the figures are the report API's over the same day (Berlin) and site
        day = {"start": "2026-11-23T23:00:00Z", "end": "2026-11-24T23:00:00Z"}
        r = await sc.anna.http.get("/api/reports/summary", params=day)
        assert r.status_code == 200, r.text
        summary = r.json()
        funnel = (await sc.anna.http.get("/api/reports/funnel", params=day)).json()
        f = row.figures or {}
        assert f["conversations"] == summary["volume"]["total"] == 1
        assert f["service_level"] == summary["service"]["service_level"]
        assert f["abandonment_rate"] == summary["service"]["abandonment_rate"]
        assert f["first_response_avg"] == summary["times"]["first_response_avg"]
        assert f["first_response_avg"] is not None
        assert f["csat_average"] == summary["csat"]["average"]
        assert f["csat_count"] == summary["csat"]["count"]
        assert f["invitations_accepted"] == sum(r["accepted"] for r in funnel)


async def test_opt_out_weekly_and_retries(
    tmp_path: Path, database_url: str, sink: MailSink
) -> None:
    timers = start_timers()
    async with running_scenario(tmp_path, database_url, timers.clock, timers, **SETTINGS) as (
        srv,
        sc,
    ):
        await configure_mailbox(sc, sink.port)
        await opt_in(sc)
        await opt_in(sc, frequency="off")  # off before the first was due: nothing
        await until(timers, datetime(2026, 11, 25, 6, 0, tzinfo=UTC), srv)
        assert sink.received == [] and await mails(srv) == []

        # queued, then turned off before it went: skipped, not sent
        await opt_in(sc)
        timers.clock.advance(86400)  # Thursday 06:00 UTC
        assert await worker(srv).queue_due() == 1
        assert await worker(srv).queue_due() == 0  # the key: once
        await opt_in(sc, frequency="off")
        await worker(srv).sweep()
        assert [m.status for m in await mails(srv)] == ["skipped"] and sink.received == []

        # weekly, on Monday at 08:00 in Copenhagen; the server first refuses for a while
        await opt_in(sc, frequency="weekly", time_zone="Europe/Copenhagen", hour=8)
        sink.refuse("451 4.3.0 try again later")
        await until(timers, datetime(2026, 11, 30, 7, 0, tzinfo=UTC), srv)
        weekly = (await mails(srv))[-1]
        assert (weekly.period_key, weekly.status) == ("weekly:2026-11-23", "pending")
        assert weekly.attempts == 1 and weekly.last_error
        timers.advance(29)  # the retry waits 30 s
        await settle(srv)
        assert (await mails(srv))[-1].attempts == 1
        sink.refuse(None)
        timers.advance(SWEEP)
        await settle(srv)
        weekly = (await mails(srv))[-1]
        assert (weekly.status, weekly.attempts) == ("sent", 2)
        assert len(sink.received) == 1
        assert sink.received[0].message["Subject"] == (
            "Chat summary for the week 2026-11-23 to 2026-11-29"
        )


async def test_a_mail_committed_before_a_crash_is_sent_at_the_next_start(
    tmp_path: Path, database_url: str, sink: MailSink
) -> None:
    timers = start_timers()
    async with running_scenario(
        tmp_path / "a", database_url, timers.clock, timers, node_name="a", **SETTINGS
    ) as (a, sc):
        await configure_mailbox(sc, sink.port)
        await opt_in(sc)
        timers.clock.advance(86400)
        assert await worker(a).queue_due() == 1  # committed; this node "dies" before sending
        async with node(tmp_path, database_url, timers, "b") as b:
            await settle(b)  # b's first sweep at start finds it
            assert len(sink.received) == 1
            assert [m.status for m in await mails(b)] == ["sent"]


async def test_settings_are_checked_and_for_supervisors(tmp_path: Path) -> None:
    timers = start_timers()
    async with running_scenario(tmp_path, None, timers.clock, timers, **SETTINGS) as (srv, sc):
        put = {"X-CSRF-Token": sc.anna.csrf}
        assert (await sc.anna.http.get("/api/reports/digest")).json()["frequency"] == "off"
        for bad in (
            {"frequency": "daily", "time_zone": "Mars/Olympus", "email": BOSS},
            {"frequency": "daily", "email": "not an address"},
            {"frequency": "daily"},  # no address
            {"frequency": "hourly", "email": BOSS},
            {"frequency": "daily", "email": BOSS, "hour": 24},
            {"frequency": "daily", "email": BOSS, "site_ids": [999]},  # no such site
            {"frequency": "daily", "email": BOSS, "site_ids": [2**40]},
        ):
            r = await sc.anna.http.put("/api/reports/digest", headers=put, json=bad)
            assert r.status_code == 422, (bad, r.text)
        r = await sc.anna.http.put("/api/reports/digest", json={"frequency": "off"})
        assert r.status_code == 403  # no CSRF token
        r = await sc.ben.http.get("/api/reports/digest")
        assert r.status_code == 403  # an agent
        r = await sc.anna.http.put(
            "/api/reports/digest", headers=put, json={"frequency": "weekly", "email": BOSS}
        )
        assert r.status_code == 200 and r.json()["frequency"] == "weekly"

        # a supervisor of one site may choose only that site
        other = await do_create_site(srv.rt, "Other shop", [ORIGIN])
        async with srv.rt.db.read() as s:
            first = min((await s.execute(select(Site.id))).scalars())
        await check_create_agent(
            srv.rt, "sue", PASSWORD, display_name="Sue", role="supervisor", site_ids=[first]
        )
        sue = await Agent.login(sc.base_url, "sue")
        try:
            mine = {"X-CSRF-Token": sue.csrf}
            for sites, status in (([other.id], 422), ([first, other.id], 422), ([first], 200)):
                body = {"frequency": "daily", "email": BOSS, "site_ids": sites}
                r = await sue.http.put("/api/reports/digest", headers=mine, json=body)
                assert r.status_code == status, (sites, r.text)
            assert (await sue.http.get("/api/reports/digest")).json()["site_ids"] == [first]
        finally:
            await sue.close()


async def test_in_the_readers_language_or_the_default(
    tmp_path: Path, database_url: str, sink: MailSink
) -> None:
    timers = start_timers()
    settings = {**SETTINGS, "digest_language": "da"}
    async with running_scenario(tmp_path, database_url, timers.clock, timers, **settings) as (
        srv,
        sc,
    ):
        await configure_mailbox(sc, sink.port)
        assert (await opt_in(sc, language="de"))["language"] == "de"
        for bad in ("fr", "EN", ""):
            r = await sc.anna.http.put(
                "/api/reports/digest",
                headers={"X-CSRF-Token": sc.anna.csrf},
                json={"frequency": "daily", "email": BOSS, "language": bad},
            )
            assert r.status_code == 422, bad
        await until(timers, datetime(2026, 11, 25, 6, 0, tzinfo=UTC), srv)
        [got] = [m.message for m in sink.received]
        assert got["Subject"] == "Chat-Zusammenfassung für den 2026-11-24"
        plain, markup = parts(got)
        assert "Gespräche: 0" in plain and "Servicelevel: -" in plain
        assert 'lang="de"' in markup and "Diese E-Mails abbestellen" in markup

        # saved without a language (an older console): the choice stays; none chosen at all:
        # the default (``digest_language``)
        assert (await opt_in(sc))["language"] == "de"
        async with srv.rt.db.write() as s:
            d = await s.get(ReportDigest, sc.anna.id)
            assert d is not None
            d.language = None
        await until(timers, datetime(2026, 11, 26, 6, 0, tzinfo=UTC), srv)
        assert sink.received[-1].message["Subject"] == "Chatopsummering for 2026-11-25"
        assert "Samtaler: 0" in parts(sink.received[-1].message)[0]


def stop_link(msg: EmailMessage) -> str:
    """The opt-out link: the List-Unsubscribe header's, also in both bodies; as a path."""
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    header = str(msg["List-Unsubscribe"])
    assert header.startswith("<http") and header.endswith(">")
    url = header[1:-1]
    plain, markup = parts(msg)
    assert url in plain and html.escape(url, quote=True) in markup
    return url.split("/", 3)[3]


async def test_one_click_opt_out_from_the_mail(
    tmp_path: Path, database_url: str, sink: MailSink
) -> None:
    timers = start_timers()
    async with running_scenario(tmp_path, database_url, timers.clock, timers, **SETTINGS) as (
        srv,
        sc,
    ):
        await configure_mailbox(sc, sink.port)
        await opt_in(sc)
        await check_create_agent(srv.rt, "sue", PASSWORD, display_name="Sue", role="supervisor")
        sue = await Agent.login(sc.base_url, "sue")
        other = {"frequency": "daily", "email": "sue@shop.example", "time_zone": "UTC"}
        r = await sue.http.put(
            "/api/reports/digest", headers={"X-CSRF-Token": sue.csrf}, json=other
        )
        assert r.status_code == 200, r.text
        await until(timers, datetime(2026, 11, 25, 7, 0, tzinfo=UTC), srv)
        mine = next(m.message for m in sink.received if m.rcpt_tos == [BOSS])
        link = "/" + stop_link(mine)
        async with httpx.AsyncClient(base_url=sc.base_url) as web:  # no login, no cookie
            # GET only asks (mail scanners open links)
            page = await web.get(link)
            assert page.status_code == 200 and "<form" in page.text and BOSS in page.text
            assert (await opt_in_state(sc.anna)) == "daily"

            # forged: another supervisor's id under the same signature, a cut token, none
            token = parse_qs(urlsplit(link).query)["t"][0]
            body, _, mac = token.partition(".")
            claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
            forged = base64.urlsafe_b64encode(
                json.dumps({**claims, "a": sue.id}, separators=(",", ":")).encode()
            )
            for bad in (forged.decode().rstrip("=") + "." + mac, token[:-3], ""):
                for method in ("GET", "POST"):
                    r = await web.request(method, "/digest/unsubscribe", params={"t": bad})
                    assert r.status_code == 400 and "nothing was changed" in r.text, bad
            assert await opt_in_state(sc.anna) == await opt_in_state(sue) == "daily"

            # the mail program's one click (RFC 8058): off for this supervisor only
            one_click = {"List-Unsubscribe": "One-Click"}
            r = await web.post(link, data=one_click)
            assert r.status_code == 200 and "are off" in r.text and BOSS in r.text
            assert await opt_in_state(sc.anna) == "off"
            assert await opt_in_state(sue) == "daily"
            r = await web.post(link, data=one_click)  # again: still fine, still off
            assert r.status_code == 200 and await opt_in_state(sc.anna) == "off"

            # opted in again: the old mail's link is stale and changes nothing
            timers.clock.advance(60)
            await opt_in(sc)
            r = await web.post(link, data=one_click)
            assert r.status_code == 400 and await opt_in_state(sc.anna) == "daily"

            # a link is good for ``digest_unsubscribe_days`` (90)
            await until(timers, datetime(2026, 11, 27, 6, 0, tzinfo=UTC), srv)
            last = [m.message for m in sink.received if m.rcpt_tos == [BOSS]][-1]
            fresh = "/" + stop_link(last)
            assert fresh != link
            timers.clock.advance(91 * 86400)
            r = await web.post(fresh, data=one_click)
            assert r.status_code == 400
            async with srv.rt.db.read() as s:
                d = await s.get(ReportDigest, sc.anna.id)
                assert d is not None and d.frequency == "daily"
        await sue.close()


async def opt_in_state(who: Agent) -> str:
    r = await who.http.get("/api/reports/digest")
    assert r.status_code == 200, r.text
    frequency: str = r.json()["frequency"]
    return frequency
