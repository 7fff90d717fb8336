"""IMAP against a real Dovecot started from the installed binary: mails in the support mailbox
become conversations, each once; what arrived while Tresen was stopped is read at start; a mail
is marked read only once stored; IDLE brings a new mail without waiting for the poll; a
connection cut mid-fetch loses and doubles nothing; a rebuilt mailbox (new UIDVALIDITY) does
not double either."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from tests.support.actors import Scenario, next_frame, raw_socket, running_scenario
from tests.support.dovecot import PASSWORD, USER, DovecotServer
from tests.support.eml import eml
from tests.support.server import InProcessServer, test_settings
from tests.support.services import free_port

from tresen.clock import ManualClock
from tresen.scheduler import ManualScheduler
from tresen.storage.models import InboundMail, Mailbox, Message


@pytest.fixture
def dovecot() -> Iterator[DovecotServer]:
    server = DovecotServer().start()
    yield server
    server.stop()


def mails(n: int, start: int = 0) -> list[bytes]:
    return [
        eml("german_latin1", FROM=f"kunde{i}@example.de").replace(
            b"latin1-0001", f"imap-{i}".encode()
        )
        for i in range(start, start + n)
    ]


async def connect_mailbox(sc: Scenario, port: int, **extra: Any) -> None:
    site_id = (await sc.anna.http.get("/api/sites")).json()[0]["id"]
    r = await sc.anna.http.put(
        f"/api/sites/{site_id}/mailbox",
        headers={"X-CSRF-Token": sc.anna.csrf},
        json={
            "from_address": "support@shop.example",
            "imap_host": "127.0.0.1",
            "imap_port": port,
            "imap_security": "none",
            "imap_user": USER,
            "imap_password": PASSWORD,
            **extra,
        },
    )
    assert r.status_code == 200, r.text


async def counts(srv: InProcessServer) -> tuple[int, int]:
    """(inbound mails recorded, customer messages stored)."""
    async with srv.rt.db.read() as s:
        mails_n = (await s.execute(select(func.count()).select_from(InboundMail))).scalar_one()
        msgs = await s.execute(
            select(func.count()).select_from(Message).where(Message.author_kind == "visitor")
        )
        return int(mails_n), int(msgs.scalar_one())


async def synced(srv: InProcessServer) -> None:
    srv.app.state.imap.kick()
    await srv.app.state.imap.idle()
    await srv.rt.events.drain()


@pytest.fixture
async def shop(tmp_path: Path) -> AsyncIterator[tuple[InProcessServer, Scenario, ManualScheduler]]:
    timers = ManualScheduler(ManualClock())
    async with running_scenario(
        tmp_path, clock=timers.clock, scheduler=timers, imap_idle=False, imap_poll_seconds=60
    ) as (srv, sc):
        yield srv, sc, timers


async def test_mails_become_conversations_once_and_are_marked_read(
    shop: tuple[InProcessServer, Scenario, ManualScheduler], dovecot: DovecotServer
) -> None:
    srv, sc, timers = shop
    dovecot.deliver(*mails(3))
    await connect_mailbox(sc, dovecot.port)  # saving the mailbox reads it at once
    await srv.app.state.imap.idle()
    await srv.rt.events.drain()
    assert await counts(srv) == (3, 3)
    assert dovecot.seen() == [1, 2, 3]
    dovecot.deliver(*mails(1, start=3))
    timers.advance(59)
    await srv.app.state.imap.idle()
    assert await counts(srv) == (3, 3)
    timers.advance(1)  # the poll
    await srv.app.state.imap.idle()
    await srv.rt.events.drain()
    assert await counts(srv) == (4, 4)
    await synced(srv)  # nothing new: nothing doubled
    assert await counts(srv) == (4, 4)
    r = await sc.anna.http.get("/api/channels")
    [box] = r.json()["email"]["mailboxes"]
    assert box["imap"] is True and box["imap_last_uid"] == 4


async def test_downtime_backfill_then_rebuilt_mailbox(
    tmp_path: Path, dovecot: DovecotServer
) -> None:
    timers = ManualScheduler(ManualClock())
    kw = dict(clock=timers.clock, scheduler=timers, imap_idle=False)
    async with running_scenario(tmp_path, **kw) as (srv, sc):  # type: ignore[arg-type]
        await connect_mailbox(sc, dovecot.port)
        dovecot.deliver(*mails(2))
        await synced(srv)
        assert await counts(srv) == (2, 2)
    # Tresen is stopped: five mails arrive meanwhile
    dovecot.deliver(*mails(5, start=2))
    conf = test_settings(tmp_path / "again", srv.settings.database_url, imap_idle=False)
    (tmp_path / "again").mkdir(exist_ok=True)
    srv2 = InProcessServer(conf, clock=timers.clock, scheduler=timers)
    await srv2.start()  # its start sync reads them
    try:
        await srv2.app.state.imap.idle()
        await srv2.rt.events.drain()
        assert await counts(srv2) == (7, 7)
        assert dovecot.seen() == list(range(1, 8))
        # the mailbox is rebuilt (another UIDVALIDITY): everything is read again, nothing doubled
        async with srv2.rt.db.write() as s:
            box = (await s.execute(select(Mailbox))).scalar_one()
            box.imap_uidvalidity = 1
        await synced(srv2)
        assert await counts(srv2) == (7, 7)
    finally:
        await srv2.stop()


async def test_idle_brings_new_mail_without_the_poll(
    tmp_path: Path, dovecot: DovecotServer
) -> None:
    timers = ManualScheduler(ManualClock())
    async with running_scenario(tmp_path, clock=timers.clock, scheduler=timers, imap_idle=True) as (
        srv,
        sc,
    ):
        await connect_mailbox(sc, dovecot.port)
        console = await raw_socket(await sc.anna.ws_url(), origin=sc.base_url)
        await next_frame(console, "welcome")
        await synced(srv)  # the first sync starts the IDLE watcher
        await asyncio.wait_for(srv.app.state.imap.idling.wait(), 10)  # the server said "idling"
        dovecot.deliver(*mails(1))
        # no clock advanced, no poll: the server's push brings the mail to the console
        created = await next_frame(console, "conversation", timeout=10)
        assert created["conversation"]["channel"] == "email"
        await srv.app.state.imap.idle()
        await srv.rt.events.drain()
        assert await counts(srv) == (1, 1)
        await console.close()


class CuttingProxy:
    """A TCP proxy in front of Dovecot that cuts its first connection in the middle of the
    server's answer where ``marker`` appears: an IMAP server dropping the line mid-fetch."""

    def __init__(self, target: int, marker: bytes) -> None:
        self.target, self.marker, self.port = target, marker, free_port()
        self.connections = 0
        self.server: asyncio.base_events.Server | None = None

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        marker = self.marker if self.connections == 1 else None
        up_r, up_w = await asyncio.open_connection("127.0.0.1", self.target)

        async def pipe(
            src: asyncio.StreamReader, dst: asyncio.StreamWriter, cut: bytes | None
        ) -> None:
            try:
                while data := await src.read(65536):
                    if cut is not None and cut in data:
                        dst.write(data[: data.index(cut)])
                        await dst.drain()
                        break
                    dst.write(data)
                    await dst.drain()
            except ConnectionError:
                pass
            finally:
                for w in (writer, up_w):
                    w.close()

        await asyncio.gather(pipe(reader, up_w, None), pipe(up_r, writer, marker))

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


async def test_connection_cut_mid_fetch_loses_and_doubles_nothing(
    shop: tuple[InProcessServer, Scenario, ManualScheduler], dovecot: DovecotServer
) -> None:
    srv, sc, _timers = shop
    dovecot.deliver(*mails(3))
    proxy = CuttingProxy(dovecot.port, marker=b"imap-1@")  # inside the second mail
    await proxy.start()
    try:
        await connect_mailbox(sc, proxy.port)  # saving the mailbox starts a sync
        await srv.app.state.imap.idle()
        await srv.rt.events.drain()
        first = await counts(srv)
        assert first == (1, 1)  # the cut stopped it after the first mail
        # read flags only for stored mails (the batch's flags were not written before the
        # cut); the next sync fetches the stored one again and recognises it
        assert set(dovecot.seen()) <= {1}
        await synced(srv)
        assert await counts(srv) == (3, 3)
        assert dovecot.seen() == [1, 2, 3]
    finally:
        await proxy.stop()


async def test_too_large_is_recorded_left_unread_and_passed(
    tmp_path: Path, dovecot: DovecotServer
) -> None:
    timers = ManualScheduler(ManualClock())
    async with running_scenario(
        tmp_path, clock=timers.clock, scheduler=timers, imap_idle=False, email_max_bytes=50_000
    ) as (srv, sc):
        huge = mails(1)[0].replace(b"Guten Tag", b"Guten Tag " + b"x" * 60_000)
        dovecot.deliver(mails(1)[0], huge, *mails(1, start=5))
        await connect_mailbox(sc, dovecot.port)
        await srv.app.state.imap.idle()
        await srv.rt.events.drain()
        async with srv.rt.db.read() as s:
            rows = list((await s.execute(select(InboundMail).order_by(InboundMail.id))).scalars())
        assert [r.outcome for r in rows] == ["stored", "rejected", "stored"]
        assert rows[1].size > 50_000 and rows[1].raw == b""
        assert dovecot.seen() == [1, 3]  # the refused one stays unread for a person


async def test_wrong_password_is_shown_and_nothing_is_read(
    shop: tuple[InProcessServer, Scenario, ManualScheduler], dovecot: DovecotServer
) -> None:
    srv, sc, _timers = shop
    dovecot.deliver(*mails(1))
    await connect_mailbox(sc, dovecot.port, imap_password="wrong")
    await srv.app.state.imap.idle()
    [box] = (await sc.anna.http.get("/api/channels")).json()["email"]["mailboxes"]
    assert "login" in box["imap_error"] and box["imap_last_uid"] == 0
    assert dovecot.seen() == [] and await counts(srv) == (0, 0)


@pytest.mark.slow
async def test_a_thousand_mails_in_one_sync(
    shop: tuple[InProcessServer, Scenario, ManualScheduler], dovecot: DovecotServer
) -> None:
    """More mails than one IMAP response of aioimaplib can take (it recursed per line)."""
    srv, sc, _timers = shop
    dovecot.fill_maildir(1100, ("german_latin1", "gmail_reply"))
    await connect_mailbox(sc, dovecot.port)
    await srv.app.state.imap.idle()
    await srv.rt.events.drain()
    assert await counts(srv) == (1100, 1100)
    assert len(dovecot.seen()) == 1100
