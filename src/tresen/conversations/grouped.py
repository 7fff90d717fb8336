"""The hot path of ``check_send_message`` on SQLite: a message to an existing conversation,
written with Core statements inside the database's group commit (``Database.write_grouped``).

Same rules as ``do_send_message``: a resend of a ``client_msg_id`` is answered with the stored
message; ``seq`` comes from ``UPDATE .. RETURNING`` in the same transaction as the INSERT, and the
caller publishes only after the shared transaction committed. Anything unusual (a visitor
reopening a resolved conversation, which also queues it for routing) returns ``None`` and takes
the full ORM path. The ``MessageCreated`` event is recorded on the grouped connection and
dispatched only once the shared transaction committed (and not at all if this send's savepoint
rolled back).
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Connection, Table, bindparam, insert, select, update

from tresen.conversations.queries import check_visible, check_writable
from tresen.conversations.sent import Sent, message_created
from tresen.conversations.window import check_free_reply
from tresen.conversations.wire import message_out
from tresen.errors import Invalid
from tresen.events import ConversationState, record
from tresen.principal import Principal
from tresen.runtime import Runtime
from tresen.storage.models import Conversation, Message, Outbox
from tresen.storage.outbox import outbox_values

_conversations = cast(Table, Conversation.__table__)
_messages = cast(Table, Message.__table__)
_outbox = cast(Table, Outbox.__table__)
_m, _c = _messages.c, _conversations.c
# Built once: no statement construction or cache-key generation per message.
_FIND_RESEND = select(_messages).where(
    _m.client_msg_id == bindparam("cmid"), _m.conversation_id == bindparam("cid")
)
_CONVERSATION = select(_conversations).where(_c.id == bindparam("cid"))
_NEXT_SEQ = (
    update(_conversations)
    .where(_c.id == bindparam("cid"))
    .values(last_seq=_c.last_seq + 1, updated_at=bindparam("now"))
    .returning(_c.last_seq, _c.assignee_id, _c.offered_to)
)
_INSERT = insert(_messages).returning(_m.id)


async def send_grouped(
    rt: Runtime,
    who: Principal,
    body: str,
    client_msg_id: str,
    conversation_id: int,
    internal: bool,
) -> Sent | None:
    """A ``Sent``, or ``None`` when the full path must handle this message."""
    now = rt.clock.now()

    def work(conn: Connection) -> Sent | None:
        return _send(conn, who, body, client_msg_id, conversation_id, internal, now)

    return await rt.db.write_grouped(work)


def _send(
    conn: Connection,
    who: Principal,
    body: str,
    client_msg_id: str,
    conversation_id: int,
    internal: bool,
    now: datetime,
) -> Sent | None:

    # Access first: a stranger's resend must not learn which ids exist or are used.
    row = conn.execute(_CONVERSATION, {"cid": conversation_id}).first()
    check_visible(who, conversation_id, row.visitor_id if row else None)
    assert row is not None  # check_visible raised otherwise
    existing = conn.execute(_FIND_RESEND, {"cmid": client_msg_id, "cid": conversation_id}).first()
    if existing is not None and (existing.author_kind != who.kind or existing.author_id != who.id):
        raise Invalid("client_msg_id already used by someone else", code="duplicate_id")
    if existing is not None:
        msg = Message(**existing._asdict())
        return Sent(message_out(msg, who.name), Conversation(**row._asdict()), duplicate=True)
    if who.kind == "visitor" and row.status == "resolved":
        return None
    check_writable(who, row.meta, row.assignee_id, internal)
    if who.kind == "agent" and not internal:
        check_free_reply(row.meta, now)  # a messaging channel's reply window (window.py)
    seq, assignee_id, offered_to = conn.execute(
        _NEXT_SEQ, {"cid": conversation_id, "now": now}
    ).one()
    values = dict(
        conversation_id=conversation_id,
        seq=seq,
        author_kind=who.kind,
        author_id=who.id,
        body=body,
        internal=internal,
        client_msg_id=client_msg_id,
        created_at=now,
    )
    msg_id = conn.execute(_INSERT, values).scalar_one()
    outbox = outbox_values(
        channel=row.channel,
        author_kind=who.kind,
        internal=internal,
        conversation_id=conversation_id,
        message_id=msg_id,
        now=now,
        meta=row.meta,
    )
    if outbox is not None:  # delivered on its channel (email) from the durable outbox
        conn.execute(insert(_outbox), outbox)
    conv = Conversation(
        **{
            **row._asdict(),
            "last_seq": seq,
            "updated_at": now,
            "assignee_id": assignee_id,
            "offered_to": offered_to,
        }
    )
    msg = Message(id=msg_id, **values)
    record(conn, message_created(ConversationState.of(conv), msg, who.name))
    return Sent(message_out(msg, who.name), conv)
