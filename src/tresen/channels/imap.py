"""Reading the sites' mailboxes over IMAP.

A sync of one mailbox logs in, selects the folder and reads every UID above its cursor (UID +
UIDVALIDITY, stored with the mailbox): each mail is fetched without marking it read, stored
(``check_receive_mail``: once per Message-ID), and only then marked read and the cursor moved.
A connection that breaks mid-way leaves the rest unread and the cursor where it was; the next
sync continues there, and the Message-ID dedupe absorbs a mail stored just before the break.
A new UIDVALIDITY (the mailbox was rebuilt) starts from UID 1 again, the dedupe keeping it
single. What arrived while Tresen was stopped is read by the sync at start (backfill).

Syncs run at start, every ``imap_poll_seconds`` on the injected scheduler, and whenever a
mailbox in IDLE (where the server offers it) announces new mail.

One node reads each mailbox: the reader holds a lease on the mailbox row (``imap_reader``,
``imap_lease_until``, ``storage/leases.hold``) for ``imap_lease_seconds``, renewed at every
sync and before every batch; the other nodes skip that mailbox (no fetching, no IDLE). When the
reader dies its lease runs out and the next node to poll takes over from the stored cursor; a
clean stop gives the lease up at once. A reader that lost its lease mid-sync stops before the
next batch and its cursor is not written (the new reader's counts); a mail it stored in the
meantime is recognised by its Message-ID.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import select

from tresen.aio import cancel_task, spawn
from tresen.channels.email_in import MailRejected
from tresen.channels.email_receive import check_receive_mail, do_record_rejected
from tresen.channels.imap_client import ImapSession
from tresen.channels.mailbox import do_save_imap_cursor, imap_config
from tresen.events import MailboxChanged
from tresen.runtime import Runtime
from tresen.scheduler import Repeating
from tresen.storage.leases import hold, let_go
from tresen.storage.models import Mailbox

log = logging.getLogger(__name__)
SYNC_BATCH = 50  # mails between writing read flags and the cursor
LEASE = {"holder_column": "imap_reader", "until_column": "imap_lease_until"}
IDLE_SECONDS = 25 * 60  # re-IDLE before servers drop an idle client (RFC 2177: 29 minutes)


class ImapService:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self._poll: Repeating | None = None
        self._sync: asyncio.Task[None] | None = None
        self._again = False
        self._watchers: dict[int, asyncio.Task[None]] = {}
        self.errors: dict[int, str] = {}  # site -> the last sync's failure (console)
        self.idling = asyncio.Event()  # set whenever a mailbox is in IDLE (tests, state)
        self.stored = 0
        self.node = rt.settings.node_name
        self.held: set[int] = set()  # sites whose mailbox this node reads

    async def start(self) -> None:
        seconds = self.rt.settings.imap_poll_seconds
        self._poll = Repeating(self.rt.scheduler, self.rt.clock, seconds, self.kick)
        self.kick()  # backfill: what arrived while we were stopped

    async def stop(self) -> None:
        if self._poll is not None:
            self._poll.cancel()
        for task in list(self._watchers.values()):
            await cancel_task(task)
        if self._sync is not None:  # a sync is short: let it finish its mail and cursor
            self._again = False
            try:
                await asyncio.wait_for(asyncio.shield(self._sync), 30)
            except (TimeoutError, Exception):
                await cancel_task(self._sync)
        for site_id in list(self.held):  # another node may read them at once
            try:
                await let_go(self.rt.db, Mailbox, Mailbox.site_id == site_id, self.node, **LEASE)
            except Exception as exc:
                log.warning("IMAP lease of site %s not given up: %s", site_id, exc)
        self.held.clear()

    def on_mailbox_changed(self, event: MailboxChanged) -> None:
        """New settings: the IDLE connection of that site starts again with them, and a sync
        runs now (a newly connected mailbox is read at once)."""
        watcher = self._watchers.pop(event.site_id, None)
        if watcher is not None:
            watcher.cancel()
        self.kick()

    def kick(self) -> None:
        """Sync every mailbox now (once more after the running sync, if one runs)."""
        if self._sync is not None and not self._sync.done():
            self._again = True
            return
        self._sync = spawn(self._sync_loop(), name="imap-sync")

    async def idle(self) -> None:
        """Wait until no sync runs (tests)."""
        while self._sync is not None and not self._sync.done():
            await asyncio.gather(self._sync, return_exceptions=True)

    async def _sync_loop(self) -> None:
        self._again = True
        while self._again:
            self._again = False
            await self.sync_all()

    async def sync_all(self) -> None:
        async with self.rt.db.read() as s:
            boxes = list(
                (await s.execute(select(Mailbox).where(Mailbox.imap_host != ""))).scalars()
            )
        for box in boxes:
            try:
                if not await self._hold(box.site_id):
                    continue  # another node reads it
                await self.sync_mailbox(box)
                self.errors.pop(box.site_id, None)
            except Exception as exc:
                self.errors[box.site_id] = f"{type(exc).__name__}: {exc}"
                log.warning("IMAP sync of site %s failed: %s", box.site_id, exc)
            if self.rt.settings.imap_idle and box.site_id not in self._watchers:
                self._watchers[box.site_id] = spawn(self._watch(box), name="imap-idle")

    async def sync_mailbox(self, box: Mailbox) -> int:
        """Store every new mail of ``box``; returns how many were read. Read flags and the
        cursor are written per batch of stored mails (never for a mail not stored; after a
        crash, at most a batch is fetched again and recognised by its Message-ID)."""
        if box.site_id not in self.held and not await self._hold(box.site_id):
            return 0  # another node reads it
        session = ImapSession(imap_config(self.rt, box))
        try:
            uidvalidity = await session.open(box.imap_folder)
            last = box.imap_last_uid if box.imap_uidvalidity == uidvalidity else 0
            news = await session.new_uids(last)
            done = 0
            for start in range(0, len(news), SYNC_BATCH):
                if start and not await self._hold(box.site_id):
                    break  # taken over: the new reader goes on from the stored cursor
                batch = news[start : start + SYNC_BATCH]
                sizes = await session.sizes(batch)
                stored = [u for u in batch if await self._take(session, box, u, sizes.get(u, 0))]
                await session.mark_seen(stored)
                done += len(batch)
                ours = await do_save_imap_cursor(
                    self.rt, box.site_id, uidvalidity, batch[-1], reader=self.node
                )
                if not ours:
                    self._lost(box.site_id)
                    break
                box.imap_uidvalidity, box.imap_last_uid = uidvalidity, batch[-1]
            return done
        finally:
            await session.close()

    async def _hold(self, site_id: int) -> bool:
        """Take or renew this node's lease on the site's mailbox; False: another node reads it."""
        seconds = self.rt.settings.imap_lease_seconds
        now = self.rt.clock.now()
        won = await hold(
            self.rt.db, Mailbox, Mailbox.site_id == site_id, self.node, now, seconds, **LEASE
        )
        if won:
            if site_id not in self.held:
                log.info("IMAP: node %s reads the mailbox of site %s", self.node, site_id)
            self.held.add(site_id)
        else:
            self._lost(site_id)
        return won

    def _lost(self, site_id: int) -> None:
        """Another node reads this mailbox now: stop IDLE on it here."""
        if site_id in self.held:
            log.info("IMAP: node %s no longer reads the mailbox of site %s", self.node, site_id)
        self.held.discard(site_id)
        watcher = self._watchers.pop(site_id, None)
        if watcher is not None:
            watcher.cancel()

    async def _take(self, session: ImapSession, box: Mailbox, uid: int, size: int) -> bool:
        """Store one mail; False when it was refused (recorded, left unread)."""
        if size > self.rt.settings.email_max_bytes:  # never downloaded
            ref = f"{box.site_id}.{box.imap_folder}.{uid}"
            await do_record_rejected(self.rt, box.site_id, ref, size)
            log.warning("IMAP mail UID %s of site %s: %d bytes, too large", uid, box.site_id, size)
            return False
        raw = await session.fetch(uid)
        try:
            await check_receive_mail(self.rt, box.site_id, raw)
        except MailRejected as exc:
            log.warning("IMAP mail UID %s of site %s refused: %s", uid, box.site_id, exc.message)
            await do_record_rejected(self.rt, box.site_id, f"{box.site_id}.{uid}", size)
            return False
        self.stored += 1
        return True

    async def _watch(self, box: Mailbox) -> None:
        """IDLE on a connection of its own; each announcement starts a sync."""
        session = ImapSession(imap_config(self.rt, box))
        try:
            await session.open(box.imap_folder)
            if not session.idle_offered:
                return  # polling only
            while True:
                if await session.wait_for_news(IDLE_SECONDS, entered=self.idling.set):
                    self.kick()
        except Exception as exc:
            log.info("IMAP IDLE of site %s ended (%s); polling continues", box.site_id, exc)
        finally:
            session.abort()  # no logout: it may be in IDLE, and we may be shutting down
            self._watchers.pop(box.site_id, None)
