"""Audit entries written by the domains below the auth layer's ``record_audit``
(``tresen.auth.audit``: admin writes with before/after snapshots): privacy actions (GDPR export,
erasure, retention runs) record what they did as the entry's ``after``. One table, one shape."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tresen.principal import Principal
from tresen.storage.models import AuditEntry


def record_audit(
    s: AsyncSession,
    actor: Principal | None,
    action: str,
    target_kind: str,
    target_id: int | None,
    now: datetime,
    *,
    site_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Add an entry in the caller's transaction (``actor`` None: the system, e.g. retention);
    ``target`` is ``"<kind>:<id>"`` as in every other entry."""
    del site_id  # the target names it (a site's retention run) or the row holds it
    after = dict(detail or {})
    s.add(
        AuditEntry(
            created_at=now,
            actor_kind="system" if actor is None else ("token" if actor.token_id else actor.kind),
            actor_id=None if actor is None else actor.id,
            actor_name=None if actor is None else actor.name,
            token_id=None if actor is None else actor.token_id,
            action=action,
            target=f"{target_kind}:{target_id}" if target_id is not None else target_kind,
            after=after,
        )
    )
