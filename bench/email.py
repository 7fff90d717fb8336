"""Ingesting mail from IMAP: N mails put into a real Dovecot mailbox (Maildir files, as an MDA
would write them), then read by Tresen's IMAP sync (fetch without marking read, parse, quote
stripping, threading lookups, store as inbound mail + conversation + message, mark read, move
the cursor) into a fresh SQLite database (or ``--database-url``). Prints mails/s, peak RSS
and what the database holds afterwards (every mail once).

    .venv/bin/python -m bench.email [--mails 10000] [--database-url postgresql://...]

The mails cycle through the fixtures of the tests (Gmail, Outlook, Apple Mail, Thunderbird,
ISO-8859-1, HTML with scripts), each with its own Message-ID and sender. Listeners are not
wired (no routing passes), so this measures the channel's own path.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import threading
import time
from pathlib import Path

import psutil
from sqlalchemy import func, select
from tests.support.dovecot import PASSWORD, USER, DovecotServer

from tresen.channels.imap import ImapService
from tresen.channels.mailbox import MailboxIn, check_save_mailbox, find_mailbox
from tresen.runtime import build_runtime
from tresen.settings import Settings
from tresen.sites.actions import do_create_site
from tresen.storage.migrate import upgrade_async
from tresen.storage.models import InboundMail, Message

SHAPES = (
    "gmail_reply",
    "outlook_reply",
    "apple_reply",
    "thunderbird_reply",
    "german_latin1",
    "html_script",
)


class PeakRss:
    def __init__(self) -> None:
        self.proc, self.peak, self._stop = psutil.Process(), 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.proc.memory_info().rss)
            time.sleep(0.05)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


async def run(n: int, database_url: str | None) -> None:
    var = Path(tempfile.mkdtemp(prefix="tresen-bench-email-"))
    settings = Settings(
        var_dir=var,
        database_url=database_url or f"sqlite+aiosqlite:///{var / 'tresen.db'}",
        secret_key="bench-secret",
        email_per_sender_per_hour=1_000_000,
        imap_idle=False,
    ).resolved()
    await upgrade_async(settings.database_url)
    dovecot = DovecotServer().start()
    rt = build_runtime(settings)
    try:
        t0 = time.perf_counter()
        size = dovecot.fill_maildir(n, SHAPES)
        print(
            f"{n} mails ({size / 1e6:.1f} MB) written to the Maildir in "
            f"{time.perf_counter() - t0:.1f} s"
        )
        site = await do_create_site(rt, "Bench", ["https://shop.example"])
        await check_save_mailbox(
            rt,
            site.id,
            MailboxIn(
                from_address=USER,
                imap_host="127.0.0.1",
                imap_port=dovecot.port,
                imap_security="none",
                imap_user=USER,
                imap_password=PASSWORD,
            ),
        )
        async with rt.db.read() as s:
            box = await find_mailbox(s, site.id)
        assert box is not None
        imap = ImapService(rt)
        before = psutil.Process().memory_info().rss
        with PeakRss() as peak:
            t0 = time.perf_counter()
            read = await imap.sync_mailbox(box)
            elapsed = time.perf_counter() - t0
        async with rt.db.read() as s:
            mails = (await s.execute(select(func.count()).select_from(InboundMail))).scalar_one()
            msgs = (await s.execute(select(func.count()).select_from(Message))).scalar_one()
        print(f"ingested {read} mails in {elapsed:.1f} s: {read / elapsed:.0f} mails/s")
        print(
            f"RSS before {before / 2**20:.0f} MiB, peak during ingest {peak.peak / 2**20:.0f} MiB"
        )
        print(
            f"database: {mails} inbound mails, {msgs} messages; "
            f"read flags set: {len(dovecot.seen())}"
        )
        assert mails == msgs == n, "every mail once"
    finally:
        await rt.close()
        dovecot.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mails", type=int, default=10_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    asyncio.run(run(args.mails, args.database_url))


if __name__ == "__main__":
    main()
