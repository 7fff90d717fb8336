"""Queueing and sending the summaries, on the injected scheduler (every
``digest_sweep_seconds``, and once at start, so a crash after the commit still sends).

- Once per period: a sweep writes the mail of each supervisor's latest due period with
  ``INSERT .. ON CONFLICT DO NOTHING`` on the unique (supervisor, period) key, so two nodes
  sweeping at once write one row; the row is then claimed with a lease (``storage/leases.py``),
  which only one worker of any node wins.
- Retries: a failed attempt waits ``outbox_retry_seconds`` doubling (at most an hour) up to
  ``outbox_max_attempts``, as the outbox does; the same Message-ID on every attempt.
- Opt-out: a mail queued before the supervisor turned it off is skipped, not sent.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import cast

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.agents.scope import site_ids_for
from tresen.channels.base import DeliveryError
from tresen.channels.mailbox import check_address, smtp_config
from tresen.channels.smtp_client import send_mail
from tresen.digest.figures import headline
from tresen.digest.links import unsubscribe_url
from tresen.digest.mail import DigestMessage, compose
from tresen.digest.periods import latest_due, zone
from tresen.errors import Invalid
from tresen.leased_queue import LeasedQueue, Skip
from tresen.principal import Principal
from tresen.runtime import Runtime
from tresen.security.secretbox import SecretUnreadable
from tresen.storage.models import Agent, DigestMail, Mailbox, ReportDigest, Site

log = logging.getLogger(__name__)
LEASE_SECONDS = 300.0
READERS = ("supervisor", "admin")


class DigestWorker(LeasedQueue[DigestMail]):
    name, label = "digest", "summary"

    def __init__(self, rt: Runtime) -> None:
        settings = rt.settings
        super().__init__(
            rt.db,
            rt.clock,
            rt.scheduler,
            DigestMail,
            sweep_seconds=settings.digest_sweep_seconds,
            lease_seconds=LEASE_SECONDS,
            max_attempts=settings.outbox_max_attempts,
            retry_seconds=settings.outbox_retry_seconds,
        )
        self.rt = rt
        self.sent = 0

    async def before_sweep(self) -> None:
        await self.queue_due()

    async def queue_due(self) -> int:
        """Write the mail of each opted-in supervisor's latest due period (once: the key)."""
        now = self.rt.clock.now()
        written = 0
        async with self.rt.db.write() as s:
            rows = (
                await s.execute(select(ReportDigest).where(ReportDigest.frequency != "off"))
            ).scalars()
            for d in list(rows):
                period = latest_due(d.frequency, d.time_zone, d.hour, now)
                if period is None or period.send_at < d.since:
                    continue  # opted in after it was due: from the next one on
                values = dict(
                    agent_id=d.agent_id,
                    period_key=period.key,
                    period_start=period.start,
                    period_end=period.end,
                    status="pending",
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                )
                written += await _insert_once(s, values)
        return written

    async def send(self, row: DigestMail) -> tuple[str, dict[str, object]]:
        return await self._send(row)

    async def _send(self, row: DigestMail) -> tuple[str, dict[str, object]]:
        now = self.rt.clock.now()
        async with self.rt.db.read() as s:
            d = await s.get(ReportDigest, row.agent_id)
            agent = await s.get(Agent, row.agent_id)
            if d is None or agent is None or d.frequency == "off" or not agent.is_active:
                raise _Skip
            if agent.role not in READERS or not d.email:
                raise _Skip
            who = Principal(kind="agent", id=agent.id, name=agent.display_name, role=agent.role)
            visible = await site_ids_for(s, who)
            sites = chosen_sites(visible, d.site_ids)
            box = await _mailbox(s, sites)
            if box is None:
                raise DeliveryError("no mailbox on the summary's sites", permanent=True)
            figures = await headline(s, row.period_start, row.period_end, sites, now)
            names = await _site_names(s, sites)
            language = d.language or self.rt.settings.digest_language
            stop_url = unsubscribe_url(self.rt, d)
        try:
            to = check_address(d.email)
        except Invalid:
            raise DeliveryError("not an email address", permanent=True) from None
        tz = zone(d.time_zone)
        domain = box.from_address.rpartition("@")[2]
        message = DigestMessage(
            from_address=box.from_address,
            from_name=box.from_name or "Tresen",
            to=to,
            message_id=f"<digest.{row.id}.{row.agent_id}@{domain}>",
            frequency=row.period_key.split(":", 1)[0],
            first_day=row.period_start.astimezone(tz).date().isoformat(),
            last_day=(row.period_end.astimezone(tz) - timedelta(days=1)).date().isoformat(),
            time_zone=d.time_zone,
            sites=names,
            figures=figures,
            language=language,
            unsubscribe_url=stop_url,
        )
        try:
            conf = smtp_config(self.rt, box)
        except SecretUnreadable as exc:
            raise DeliveryError(f"SMTP password: {exc}", permanent=True) from None
        settings = self.rt.settings
        await send_mail(
            conf, compose(message, date=now), settings.smtp_timeout_seconds, settings.mail_ca_file
        )
        return message.message_id, figures

    async def settled(self, s: AsyncSession, row: DigestMail, state: str, result: object) -> None:
        if state in ("sent", "skipped"):
            row.last_error = None
        if state == "sent":
            external_id, figures = cast(tuple[str, dict[str, object]], result)
            row.sent_at, row.external_id, row.figures = self.rt.clock.now(), external_id, figures
            self.sent += 1


class _Skip(Skip):
    """Nothing to send any more (opted out, no longer a supervisor, no address)."""


def chosen_sites(visible: frozenset[int] | None, chosen: list[int]) -> frozenset[int] | None:
    """The sites of the summary: the chosen ones the supervisor still sees (none chosen: all
    they see; ``None``: every site, for an admin)."""
    if not chosen:
        return visible
    picked = frozenset(chosen)
    return picked if visible is None else picked & visible


async def _mailbox(s: AsyncSession, sites: frozenset[int] | None) -> Mailbox | None:
    """The mailbox of the first of the sites (by id) that has one."""
    stmt = select(Mailbox).order_by(Mailbox.site_id).limit(1)
    if sites is not None:
        if not sites:
            return None
        stmt = stmt.where(Mailbox.site_id.in_(sorted(sites)))
    return (await s.execute(stmt)).scalar_one_or_none()


async def _site_names(s: AsyncSession, sites: frozenset[int] | None) -> list[str]:
    if sites is None:
        return []
    stmt = select(Site.name).where(Site.id.in_(sorted(sites))).order_by(Site.id)
    return [str(n) for n in (await s.execute(stmt)).scalars()]


async def _insert_once(s: AsyncSession, values: dict[str, object]) -> int:
    """``INSERT .. ON CONFLICT (agent_id, period_key) DO NOTHING``; 1 if written."""
    dialect = s.get_bind().dialect.name
    make = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = (
        make(DigestMail)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["agent_id", "period_key"])
    )
    result = await s.execute(stmt)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
