"""Invitations from an email into a live chat: a signed, expiring link naming one conversation.
Redeemed by the widget's session request, it makes the browser that conversation's visitor
(the address the mail went to is thereby verified), at most ``max_uses`` times. It is a key to
that one chat and nothing else: purpose-bound signature, checked against its stored row."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.errors import Forbidden
from tresen.runtime import Runtime
from tresen.security.tokens import BadToken, Signer
from tresen.storage.models import ChatInvite, Conversation, Site, Visitor
from tresen.storage.outbox import LIVE_DELAY

PURPOSE = "chat-invite"


class InviteUnusable(Forbidden):
    code = "invite_unusable"


def invite_signer(rt: Runtime) -> Signer:
    return Signer(rt.settings.secret_key, PURPOSE)


async def access_invite(rt: Runtime, s: AsyncSession, token: str) -> ChatInvite:
    """The invite a link names, if it is ours, not expired and not used up."""
    now = rt.clock.now()
    try:
        payload = invite_signer(rt).unsign(token, now=now.timestamp())
    except BadToken as exc:
        reason = "expired" if "expired" in str(exc) else "not valid"
        raise InviteUnusable(f"this chat link is {reason}") from None
    row = (
        await s.execute(select(ChatInvite).where(ChatInvite.nonce == str(payload.get("n"))))
    ).scalar_one_or_none()
    if row is None:
        raise InviteUnusable("this chat link is not valid")
    if row.expires_at <= now:
        raise InviteUnusable("this chat link is expired")
    if row.uses >= row.max_uses:
        raise InviteUnusable("this chat link has been used up")
    return row


async def do_redeem_invite(
    rt: Runtime, s: AsyncSession, site: Site, token: str
) -> tuple[Visitor, int]:
    """Inside the session's transaction: count a use (atomically, never beyond the limit) and
    return the invited visitor, their address marked verified, and the conversation."""
    row = await access_invite(rt, s, token)
    if row.site_id != site.id:
        raise InviteUnusable("this chat link belongs to another site")
    counted = await s.execute(
        update(ChatInvite)
        .where(ChatInvite.id == row.id, ChatInvite.uses < ChatInvite.max_uses)
        .values(uses=ChatInvite.uses + 1)
        .execution_options(synchronize_session=False)
    )
    if counted.rowcount != 1:  # type: ignore[attr-defined]
        raise InviteUnusable("this chat link has been used up")
    visitor = await s.get(Visitor, row.visitor_id)
    if visitor is None:
        raise InviteUnusable("this chat link is not valid")
    visitor.email = visitor.email or row.email
    visitor.attributes = {**(visitor.attributes or {}), "email_verified": row.email}
    conv = await s.get(Conversation, row.conversation_id)
    if conv is not None:  # replies now reach them in the chat; mailed only if left unread
        delay = rt.settings.email_followup_minutes * 60
        conv.meta = {**(conv.meta or {}), LIVE_DELAY: delay}
    return visitor, row.conversation_id
