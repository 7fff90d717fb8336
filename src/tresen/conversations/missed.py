"""What a visitor's socket missed in a conversation, as a grouped read (``Database.read_grouped``).

A reconnect storm (a node restarts, a network blip) resumes hundreds of sockets at once. Each
resume reads the conversation (may this visitor see it, how far it goes) and the messages after
the socket's position. Through sessions that costs a connection, a transaction and a thread hop
per statement per socket; as one work in a grouped read it is two statements in a transaction
shared with every other resume queued meanwhile. Visibility is the same rule as
``access_conversation_by_id`` (``check_visible``): a visitor sees only their own conversations,
with the same answer for absent and not theirs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from sqlalchemy import Connection, Table, and_, bindparam, select

from tresen.conversations.queries import check_visible
from tresen.conversations.wire import BOT_NAME
from tresen.principal import Principal
from tresen.realtime.protocol import Author, MessageOut
from tresen.storage.models import Agent, Conversation, Message, Visitor

_m = cast(Table, Message.__table__)
_a = cast(Table, Agent.__table__)
_v = cast(Table, Visitor.__table__)
_c = cast(Table, Conversation.__table__)

_CONVERSATION = select(_c.c.visitor_id, _c.c.last_seq).where(_c.c.id == bindparam("cid"))
_MESSAGES = (
    select(
        _m.c.id,
        _m.c.seq,
        _m.c.author_kind,
        _m.c.author_id,
        _m.c.body,
        _m.c.internal,
        _m.c.client_msg_id,
        _m.c.created_at,
        _a.c.display_name,
        _v.c.name,
    )
    .outerjoin(_a, and_(_m.c.author_kind == "agent", _a.c.id == _m.c.author_id))
    .outerjoin(_v, and_(_m.c.author_kind == "visitor", _v.c.id == _m.c.author_id))
    .where(
        _m.c.conversation_id == bindparam("cid"),
        _m.c.internal.is_(False),
        _m.c.seq > bindparam("after"),
    )
    .order_by(_m.c.seq)
    .limit(bindparam("page"))
)

Missed = tuple[int, list[tuple[int, str]]]
"""The conversation's last seq (internal notes included) and the visitor's messages after the
position, in seq order, each as (seq, ``message`` frame)."""


def visitor_missed(
    who: Principal, conversation_id: int, after: int, page: int
) -> Callable[[Connection], Missed]:
    """The work for ``Database.read_grouped``: raises ``NotFound`` if ``who`` (a visitor) may
    not see the conversation."""
    assert who.kind == "visitor"

    def work(c: Connection) -> Missed:
        row = c.execute(_CONVERSATION, {"cid": conversation_id}).first()
        check_visible(who, conversation_id, row.visitor_id if row is not None else None)
        assert row is not None
        rows = c.execute(_MESSAGES, {"cid": conversation_id, "after": after, "page": page})
        frames = []
        for r in rows:
            name = r.display_name or r.name
            if r.author_kind == "bot" and name is None:
                name = BOT_NAME
            out = MessageOut(
                conversation_id=conversation_id,
                seq=r.seq,
                id=r.id,
                author=Author(kind=r.author_kind, id=r.author_id, name=name),
                body=r.body,
                internal=r.internal,
                client_msg_id=r.client_msg_id,
                created_at=r.created_at,
            )
            frames.append((r.seq, out.frame()))
        return int(row.last_seq or 0), frames

    return work
