"""Channel routes: a site's mailbox (admins), a conversation's deliveries and the channels'
state (agents)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import func, select

from tresen.agents.scope import scoped, site_ids_for
from tresen.auth.deps import RT, AdminDep, AgentDep
from tresen.channels.mailbox import (
    MailboxIn,
    access_mailbox_by_site,
    check_save_mailbox,
    mailbox_view,
)
from tresen.conversations.queries import access_conversation_by_id
from tresen.errors import NotFound
from tresen.storage.models import Mailbox, Message, Outbox

router = APIRouter(tags=["channels"])


@router.get("/api/sites/{site_id}/mailbox")
async def get_mailbox(site_id: int, rt: RT, who: AdminDep) -> dict[str, Any]:
    if who.site_limit is not None and site_id not in who.site_limit:
        raise NotFound(f"site {site_id} has no mailbox", code="no_mailbox")
    async with rt.db.read() as s:
        return mailbox_view(await access_mailbox_by_site(s, site_id))


@router.put("/api/sites/{site_id}/mailbox")
async def put_mailbox(site_id: int, body: MailboxIn, rt: RT, who: AdminDep) -> dict[str, Any]:
    return mailbox_view(await check_save_mailbox(rt, site_id, body, actor=who))


def delivery_view(row: Outbox, seq: int) -> dict[str, Any]:
    return {
        "message_id": row.message_id,
        "seq": seq,
        "channel": row.channel,
        "status": row.status,
        "attempts": row.attempts,
        "error": row.last_error,
        "external_id": row.external_id,
        "next_attempt_at": row.next_attempt_at.isoformat() if row.status == "pending" else None,
        "sent_at": row.sent_at.isoformat() if row.sent_at else None,
        "receipt": row.receipt,  # delivered | read, where the platform reports it
        "kind": str((row.payload or {}).get("kind") or "reply"),  # reply | transcript | ...
    }


@router.get("/api/conversations/{conversation_id}/deliveries")
async def get_deliveries(conversation_id: int, rt: RT, who: AgentDep) -> list[dict[str, Any]]:
    """How each agent reply of the conversation fared on its channel, in message order."""
    async with rt.db.read() as s:
        await access_conversation_by_id(s, who, conversation_id)
        rows = await s.execute(
            select(Outbox, Message.seq)
            .join(Message, Message.id == Outbox.message_id)
            .where(Outbox.conversation_id == conversation_id)
            .order_by(Message.seq)
        )
        return [delivery_view(row, seq) for row, seq in rows.all()]


@router.get("/api/channels")
async def get_channels(request: Request, rt: RT, who: AgentDep) -> dict[str, Any]:
    """The channels' state: mailboxes (per site, with the last IMAP failure), the outbox by
    status, the SMTP listener."""
    imap = getattr(request.app.state, "imap", None)
    errors: dict[int, str] = imap.errors if imap is not None else {}
    async with rt.db.read() as s:
        sites = await site_ids_for(s, who)
        stmt = scoped(select(Mailbox).order_by(Mailbox.site_id), Mailbox.site_id, sites)
        boxes = (await s.execute(stmt)).scalars()
        counts = await s.execute(
            select(Outbox.channel, Outbox.status, func.count()).group_by(
                Outbox.channel, Outbox.status
            )
        )
        outbox: dict[str, dict[str, int]] = {}
        for channel, status, n in counts.all():
            outbox.setdefault(channel, {})[status] = n
        return {
            "email": {
                "mailboxes": [
                    {
                        "site_id": b.site_id,
                        "from_address": b.from_address,
                        "smtp": bool(b.smtp_host),
                        "imap": bool(b.imap_host),
                        "imap_last_uid": b.imap_last_uid,
                        "imap_reader": b.imap_reader,  # the node that reads it (a lease)
                        "imap_error": errors.get(b.site_id),  # known on the reading node
                    }
                    for b in boxes
                ],
                "outbox": outbox.get("email", {}),
                "smtp_listener": {
                    "enabled": rt.settings.smtp_enabled,
                    "port": rt.settings.smtp_port if rt.settings.smtp_enabled else None,
                },
            }
        }
