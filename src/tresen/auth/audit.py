"""The admin audit log: who did what to what, when, with the state before and after.

Every admin write path calls ``record_audit`` inside its own transaction, so an entry exists
exactly when the change committed. Secrets (password hashes, identity secrets, token hashes)
are never written: ``snapshot`` leaves them out.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.principal import Principal
from tresen.storage.models import AuditEntry

SECRET_FIELDS = frozenset(
    {
        "password_hash",
        "password",
        "identity_secret",
        "token_hash",
        "token",
        "secret",
        "password_enc",
    }
)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return str(value)


def snapshot(row: Any, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """A model row (or a dict) as JSON, without secrets."""
    if isinstance(row, dict):
        data = dict(row)
    else:
        state = inspect(row)
        # columns not loaded (deferred, such as an agent's picture) are not read for the log
        names = fields or [c.key for c in state.mapper.column_attrs if c.key not in state.unloaded]
        data = {name: getattr(row, name) for name in names}
    return {
        k: _plain(v)
        for k, v in data.items()
        if k not in SECRET_FIELDS and not k.endswith(("_secret", "_enc", "_hash"))
    }


def record_audit(
    session: AsyncSession,
    actor: Principal | None,
    action: str,
    target: str,
    before: Any = None,
    after: Any = None,
    *,
    at: datetime | None = None,
) -> AuditEntry:
    """Add one audit entry to ``session``'s transaction. ``actor`` None: the system (the CLI,
    a migration). ``before`` / ``after``: rows or dicts, snapshotted without secrets; ``at``:
    the runtime clock's now (tests run on a manual clock)."""
    entry = AuditEntry(
        actor_kind="system" if actor is None else ("token" if actor.token_id else actor.kind),
        actor_id=None if actor is None else actor.id,
        actor_name=None if actor is None else actor.name,
        token_id=None if actor is None else actor.token_id,
        action=action,
        target=target,
        before=None if before is None else snapshot(before),
        after=None if after is None else snapshot(after),
        created_at=at or datetime.now(UTC),
    )
    session.add(entry)
    return entry


def audit_view(e: AuditEntry) -> dict[str, Any]:
    return {
        "id": e.id,
        "actor": {"kind": e.actor_kind, "id": e.actor_id, "name": e.actor_name},
        "token_id": e.token_id,
        "action": e.action,
        "target": e.target,
        "before": e.before,
        "after": e.after,
        "created_at": e.created_at.isoformat(),
    }


async def audit_rows(
    s: AsyncSession,
    *,
    limit: int,
    before_id: int | None = None,
    actor_id: int | None = None,
    action: str | None = None,
    target: str | None = None,
) -> list[AuditEntry]:
    """Newest first; ``action`` matches exactly or, ending in ``.``/``*``, as a prefix."""
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if before_id is not None:
        stmt = stmt.where(AuditEntry.id < before_id)
    if actor_id is not None:
        stmt = stmt.where(AuditEntry.actor_id == actor_id)
    if action:
        if action.endswith(("*", ".")):
            stmt = stmt.where(AuditEntry.action.startswith(action.rstrip("*"), autoescape=True))
        else:
            stmt = stmt.where(AuditEntry.action == action)
    if target:
        stmt = stmt.where(AuditEntry.target == target)
    return list((await s.execute(stmt)).scalars())
