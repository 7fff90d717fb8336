"""What a visitor's session answers, whichever way it was opened: ``POST /api/visitor/session``
(API clients, older widgets, ``identify()``, a chat link from an email) or the visitor socket's
handshake (``/ws/visitor?session=1``, the widget's way: its ``welcome`` carries the same)."""

from __future__ import annotations

from typing import Any

from tresen.conversations.queries import visitor_conversations
from tresen.conversations.wire import conversation_dict
from tresen.runtime import Runtime
from tresen.storage.models import Conversation
from tresen.visitors.actions import VisitorSession
from tresen.visitors.flags import FLAGS, WidgetFlags


async def session_reply(rt: Runtime, vs: VisitorSession) -> dict[str, Any]:
    """The token, the visitor, its conversations (a returning visitor's) and the site's flags
    the widget needs."""
    convs: list[Conversation] = []
    site_id = vs.visitor.site_id
    flags = vs.flags  # read with a new visitor's creation (SQLite's group commit)
    if flags is None and vs.created:  # a new visitor has no conversations: read the flags
        row = await rt.db.read_grouped(lambda c: c.execute(FLAGS, {"site": site_id}).first())
        flags = WidgetFlags.of(row)
    elif flags is None:
        async with rt.db.read() as s:
            convs = await visitor_conversations(s, vs.visitor.id)
            flags = WidgetFlags.of((await s.execute(FLAGS, {"site": site_id})).first())
    return {
        "token": vs.token,
        "visitor_id": vs.visitor.id,
        "verified": vs.verified,
        "name": vs.visitor.name,
        "conversations": [conversation_dict(c, for_visitor=True) for c in convs],
        "invited_conversation": vs.invited_conversation,
        "whatsapp": flags.whatsapp,  # the widget offers "Continue on WhatsApp" (docs/channels.md)
        "uploads": flags.uploads,  # files in the widget (docs/attachments.md)
    }
