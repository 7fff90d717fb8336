"""A site's privacy rules (``site_privacy``): read with defaults, saved by an admin."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from tresen.errors import NotFound
from tresen.principal import Principal
from tresen.runtime import Runtime
from tresen.storage.audit import record_audit
from tresen.storage.models import Site, SitePrivacy

Erasure = Literal["anonymise", "remove"]
ERASED = "[erased]"


@dataclass(frozen=True)
class Rules:
    message_erasure: Erasure = "anonymise"
    page_view_days: int | None = None
    conversation_days: int | None = None


async def rules_of(s: AsyncSession, site_id: int) -> Rules:
    row = await s.get(SitePrivacy, site_id)
    if row is None:
        return Rules()
    erasure: Erasure = "remove" if row.message_erasure == "remove" else "anonymise"
    return Rules(erasure, row.page_view_days, row.conversation_days)


async def check_save_rules(rt: Runtime, who: Principal, site_id: int, rules: Rules) -> Rules:
    now = rt.clock.now()
    async with rt.db.write() as s:
        if await s.get(Site, site_id) is None:
            raise NotFound(f"no site {site_id}", code="no_such_site")
        before = await rules_of(s, site_id)
        row = await s.get(SitePrivacy, site_id)
        if row is None:
            row = SitePrivacy(site_id=site_id, updated_at=now)
            s.add(row)
        row.message_erasure = rules.message_erasure
        row.page_view_days = rules.page_view_days
        row.conversation_days = rules.conversation_days
        row.updated_at = now
        record_audit(
            s,
            who,
            "site.privacy",
            "site",
            site_id,
            now,
            site_id=site_id,
            detail={"before": before.__dict__, "after": rules.__dict__},
        )
    return rules
