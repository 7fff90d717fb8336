"""Retention per site, once a day on the injected scheduler: page views (and the visits they
belong to) after ``page_view_days``, conversations (with messages, email originals and every
other row hanging on them) after ``conversation_days`` without activity."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select

from tresen.aio import cancel_task, spawn
from tresen.events import ConversationsPurged, record
from tresen.runtime import Runtime
from tresen.scheduler import Repeating
from tresen.storage.audit import record_audit
from tresen.storage.models import (
    Conversation,
    InboundMail,
    PageView,
    ReportConversation,
    SitePrivacy,
    Visit,
)

log = logging.getLogger(__name__)
DAY = 86_400.0


class RetentionService:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self._timer: Repeating | None = None
        self._run: asyncio.Task[Any] | None = None

    def start(self) -> None:
        self._timer = Repeating(self.rt.scheduler, self.rt.clock, DAY, self.kick)

    async def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        await cancel_task(self._run)

    def kick(self) -> None:
        if self._run is None or self._run.done():
            self._run = spawn(self._safe(), name="retention")

    async def idle(self) -> None:
        """Wait until no run is going on (tests)."""
        while self._run is not None and not self._run.done():
            await asyncio.gather(self._run, return_exceptions=True)

    async def _safe(self) -> None:
        try:
            await run_retention(self.rt)
        except Exception:
            log.exception("retention run failed")


async def run_retention(rt: Runtime) -> dict[int, dict[str, int]]:
    """One pass over every site with rules; returns what was deleted per site."""
    now = rt.clock.now()
    async with rt.db.read() as s:
        rules = list((await s.execute(select(SitePrivacy))).scalars())
    done: dict[int, dict[str, int]] = {}
    for r in rules:
        counts = {"page_views": 0, "visits": 0, "conversations": 0}
        async with rt.db.write() as s:
            if r.page_view_days is not None:
                cutoff = now - timedelta(days=r.page_view_days)
                res: Any = await s.execute(
                    delete(PageView).where(PageView.site_id == r.site_id, PageView.at < cutoff)
                )
                counts["page_views"] = res.rowcount
                res = await s.execute(
                    delete(Visit).where(Visit.site_id == r.site_id, Visit.last_seen_at < cutoff)
                )
                counts["visits"] = res.rowcount
            if r.conversation_days is not None:
                cutoff = now - timedelta(days=r.conversation_days)
                old = select(Conversation.id).where(
                    Conversation.site_id == r.site_id, Conversation.updated_at < cutoff
                )
                await s.execute(delete(InboundMail).where(InboundMail.conversation_id.in_(old)))
                facts = ReportConversation
                hours = select(facts.created_hour).where(facts.conversation_id.in_(old))
                created = tuple(sorted(set((await s.execute(hours.distinct())).scalars())))
                res = await s.execute(delete(Conversation).where(Conversation.id.in_(old)))
                counts["conversations"] = res.rowcount
                if res.rowcount:
                    record(s, ConversationsPurged(r.site_id, res.rowcount, created))
            if any(counts.values()):
                record_audit(
                    s, None, "retention.run", "site", r.site_id, now, site_id=r.site_id,
                    detail=counts,
                )  # fmt: skip
        done[r.site_id] = counts
    return done
