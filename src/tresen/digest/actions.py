"""The one write path of the summary settings: a supervisor's own choice, checked."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field
from sqlalchemy import select

from tresen.agents.scope import site_ids_for
from tresen.channels.mailbox import check_address
from tresen.digest.periods import zone
from tresen.errors import Forbidden, Invalid
from tresen.principal import Principal
from tresen.runtime import Runtime
from tresen.storage.models import ReportDigest, Site


class DigestIn(BaseModel):
    frequency: Literal["off", "daily", "weekly"]
    time_zone: str = Field(default="UTC", max_length=64)
    hour: int = Field(default=7, ge=0, le=23)
    site_ids: list[Annotated[int, Field(ge=1, le=2**31 - 1)]] = Field(
        default_factory=list, max_length=200
    )
    email: str = Field(default="", max_length=320)
    language: Literal["en", "de", "da"] | None = None  # of the mail (None: the default)


async def check_save_digest(rt: Runtime, who: Principal, body: DigestIn) -> None:
    """Checks and stores ``who``'s choice (the one write path of digest settings)."""
    if who.token_id is not None:
        raise Forbidden("not with an API token; log in", code="scope")
    try:
        zone(body.time_zone)
    except ValueError:
        raise Invalid("time_zone: not a known time zone (e.g. Europe/Berlin)") from None
    email = check_address(body.email) if body.email.strip() else ""
    if body.frequency != "off" and not email:
        raise Invalid("email: where should the summary go?", code="no_address")
    now = rt.clock.now()
    async with rt.db.write() as s:
        visible = await site_ids_for(s, who)
        sites = sorted(set(body.site_ids))
        known = set((await s.execute(select(Site.id).where(Site.id.in_(sites)))).scalars())
        if set(sites) - known or (visible is not None and not set(sites) <= visible):
            raise Invalid("site_ids: only sites you see", code="site")
        d = await s.get(ReportDigest, who.id)
        if d is None:
            d = ReportDigest(agent_id=who.id, since=now, updated_at=now)
            s.add(d)
        elif d.frequency == "off" and body.frequency != "off":
            d.since = now  # opted in again: from the next period due
        d.frequency, d.time_zone, d.hour = body.frequency, body.time_zone, body.hour
        d.site_ids, d.email, d.updated_at = sites, email, now
        if body.language is not None:
            d.language = body.language


async def do_unsubscribe(rt: Runtime, agent_id: int, since: float) -> str | None:
    """Turns the summary off for the supervisor a mail's opt-out link was made for, if that
    link is of their current choice (``since``: when they opted in; an older link is stale).
    The address it went to, or None (stale: nothing changed)."""
    now = rt.clock.now()
    async with rt.db.write() as s:
        d = await s.get(ReportDigest, agent_id)
        if d is None or d.since.timestamp() != since:
            return None
        if d.frequency != "off":
            d.frequency, d.updated_at = "off", now
        return d.email
