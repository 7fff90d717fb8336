"""What a visitor's session answers, whichever way it was opened: ``POST /api/visitor/session``
(API clients, older widgets, ``identify()``, a chat link from an email) or the visitor socket's
handshake (``/ws/visitor?session=1``, the widget's way: its ``welcome`` carries the same)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select

from tresen.conversations.queries import visitor_conversations
from tresen.conversations.wire import conversation_dict
from tresen.runtime import Runtime
from tresen.storage.models import ChannelAccount, Conversation, Site
from tresen.visitors.actions import VisitorSession


async def session_reply(rt: Runtime, vs: VisitorSession) -> dict[str, Any]:
    """The token, the visitor, its conversations (a returning visitor's) and the site's flags
    the widget needs."""
    convs: list[Conversation] = []
    site_id = vs.visitor.site_id
    if vs.created:  # a new visitor has no conversations: one grouped read of the flags
        flags = await rt.db.read_grouped(lambda c: c.execute(_FLAGS, {"site": site_id}).first())
    else:
        async with rt.db.read() as s:
            convs = await visitor_conversations(s, vs.visitor.id)
            flags = (await s.execute(_FLAGS, {"site": site_id})).first()
    return {
        "token": vs.token,
        "visitor_id": vs.visitor.id,
        "verified": vs.verified,
        "name": vs.visitor.name,
        "conversations": [conversation_dict(c, for_visitor=True) for c in convs],
        "invited_conversation": vs.invited_conversation,
        # the widget offers "Continue on WhatsApp" (docs/channels.md)
        "whatsapp": bool(flags and flags.whatsapp),
        "uploads": bool(flags and flags.visitor_uploads),  # files in the widget (attachments.md)
    }


_number = (
    select(ChannelAccount.id)
    .where(
        ChannelAccount.site_id == bindparam("site"),
        ChannelAccount.kind == "whatsapp",
        ChannelAccount.enabled.is_(True),
        ChannelAccount.phone != "",
    )
    .exists()
)
_FLAGS = select(Site.visitor_uploads, _number.label("whatsapp")).where(Site.id == bindparam("site"))
"""The site's flags the widget needs: visitor uploads allowed, an enabled WhatsApp number
(built once: a storm of new visitors reads it once each)."""
