"""The one function that writes the audit log (who did what to what, when)."""

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
    """Add an entry in the caller's transaction (``actor`` None: the system, e.g. retention)."""
    s.add(
        AuditEntry(
            at=now,
            actor_kind=actor.kind if actor else "system",
            actor_id=actor.id if actor else None,
            action=action,
            target_kind=target_kind,
            target_id=target_id,
            site_id=site_id,
            detail=detail or {},
        )
    )
