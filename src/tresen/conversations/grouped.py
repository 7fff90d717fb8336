"""The hot path of ``check_send_message``: a message to an existing conversation, written with
Core statements, no ORM. On SQLite inside the database's group commit
(``Database.write_grouped``); on PostgreSQL in a transaction of its own run in one go
(``Database.write_sync``).

Same rules as ``do_send_message``: a resend of a ``client_msg_id`` is answered with the stored
message; ``seq`` comes from ``UPDATE .. RETURNING`` in the same transaction as the INSERT, and the
caller publishes only after the transaction committed. On SQLite a send is two statements (the
bump, which also returns the conversation, and the INSERT); on PostgreSQL one (both in one
statement: ``WITH bumped AS (UPDATE .. RETURNING ..), inserted AS (INSERT .. SELECT .. FROM
bumped RETURNING id) SELECT ..``), so a send costs BEGIN, that statement and COMMIT. A resend is
found by the UNIQUE constraint failing, then looked up. The checks run on the returned row;
refusing rolls the transaction (SQLite: the savepoint) back, so nothing of it is kept. Anything
unusual (a visitor reopening a resolved conversation, which also queues it for routing) returns
``None`` and takes the full ORM path. The ``MessageCreated`` event is recorded on the connection
and dispatched only once the transaction committed (and not at all if it rolled back).
"""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from functools import partial
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, insert, literal_column, select, update
from sqlalchemy.exc import IntegrityError

from tresen.agents.scope import check_agent_site
from tresen.conversations.queries import check_visible, check_writable
from tresen.conversations.sent import Sent
from tresen.conversations.window import check_free_reply
from tresen.conversations.wire import message_out
from tresen.errors import Invalid
from tresen.events import ConversationState, MessageCreated, record
from tresen.principal import Principal
from tresen.runtime import Runtime
from tresen.storage.models import Conversation, Message, Outbox
from tresen.storage.outbox import outbox_values
from tresen.storage.prepared import OnDialect, binds

_conversations = cast(Table, Conversation.__table__)
_messages = cast(Table, Message.__table__)
_outbox = cast(Table, Outbox.__table__)
_m, _c = _messages.c, _conversations.c
# Built once: no statement construction or cache-key generation per message.
_FIND_RESEND = select(_messages).where(
    _m.client_msg_id == bindparam("cmid"), _m.conversation_id == bindparam("cid")
)
_CONVERSATION = select(_conversations).where(_c.id == bindparam("cid"))
# What a send reads back of its conversation: the committed state (its event's), nothing more
# (every column returned is converted: timestamps parsed, JSON decoded).
_STATE_FIELDS = tuple(f.name for f in fields(ConversationState))
_STATE_COLUMNS = [_c[name] for name in _STATE_FIELDS]
_NEXT_SEQ = (
    update(_conversations)
    .where(_c.id == bindparam("cid"))
    .values(last_seq=_c.last_seq + 1, updated_at=bindparam("now"))
    .returning(*_STATE_COLUMNS)
)
_MESSAGE_FIELDS = (
    "author_kind",
    "author_id",
    "body",
    "internal",
    "client_msg_id",
    "created_at",
)
_INSERT = (
    insert(_messages).values(binds(("conversation_id", "seq", *_MESSAGE_FIELDS))).returning(_m.id)
)
# PostgreSQL: the bump and the INSERT in one statement, one round trip.
_BUMPED = (
    update(_conversations)
    .where(_c.id == bindparam("cid"))
    .values(last_seq=_c.last_seq + literal_column("1"), updated_at=bindparam("now"))
    .returning(*_STATE_COLUMNS)
    .cte("bumped")
)
_INSERTED = (
    insert(_messages)
    .from_select(
        ("conversation_id", "seq", *_MESSAGE_FIELDS),
        select(
            _BUMPED.c.id,
            _BUMPED.c.last_seq,
            # "m_": a parameter named like a column of the UPDATE would be SET there too
            *(bindparam(f"m_{name}", type_=_m[name].type) for name in _MESSAGE_FIELDS),
        ),
    )
    .returning(_m.id)
    .cte("inserted")
)
_BUMP_AND_INSERT = select(_BUMPED, select(_INSERTED.c.id).scalar_subquery().label("message_id"))


# SQLite's two statements, compiled once and run on the driver (``storage/prepared.py``).
_NEXT_SEQ_ON_DRIVER = OnDialect(_NEXT_SEQ, _STATE_COLUMNS)
_INSERT_ON_DRIVER = OnDialect(_INSERT, [_m.id])


class _FullPath(Exception):
    """This send takes the full ORM path (its savepoint rolled back what it did)."""


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

    def work(conn: Connection) -> Sent:
        return _send(conn, who, body, client_msg_id, conversation_id, internal, now)

    def resend(conn: Connection) -> Sent | None:
        return _resend(conn, who, client_msg_id, conversation_id)

    write = rt.db.write_grouped if rt.db.is_sqlite else rt.db.write_sync
    try:
        return await write(work)
    except _FullPath:
        return None
    except IntegrityError:
        # The client_msg_id is stored in this conversation already (UNIQUE): a resend, rare,
        # so looked up only now rather than before every send.
        return await write(resend)


def _send(
    conn: Connection,
    who: Principal,
    body: str,
    client_msg_id: str,
    conversation_id: int,
    internal: bool,
    now: datetime,
) -> Sent:
    """The seq bump returns the conversation, the INSERT the message id (SQLite: two
    statements, the access check before the INSERT; PostgreSQL: one, checked after it). Refusing
    raises, which rolls both back."""
    message = dict(
        author_kind=who.kind,
        author_id=who.id,
        body=body,
        internal=internal,
        client_msg_id=client_msg_id,
        created_at=now,
    )
    row: dict[str, Any] | None
    msg_id: int
    if conn.dialect.name == "postgresql":  # IntegrityError: a resend
        params = {f"m_{name}": value for name, value in message.items()}
        found = conn.execute(_BUMP_AND_INSERT, {"cid": conversation_id, "now": now, **params})
        first = found.mappings().first()
        row = dict(first) if first is not None else None
        msg_id = row.pop("message_id") if row else 0  # the rest: the conversation's state
    else:
        row = _NEXT_SEQ_ON_DRIVER.first(conn, {"cid": conversation_id, "now": now})
    # Access first: a stranger's resend must not learn which ids exist or are used.
    check_visible(who, conversation_id, row["visitor_id"] if row else None)
    assert row is not None  # check_visible raised otherwise
    if who.kind == "agent":
        check_agent_site(conn, who, conversation_id, row["site_id"])
    if who.kind == "visitor" and row["status"] == "resolved":
        raise _FullPath  # reopening also queues it for routing: the ORM path does that
    meta = row["meta"]
    check_writable(who, meta, row["assignee_id"], internal)  # refusing rolls the bump back
    if who.kind == "agent" and not internal:
        check_free_reply(meta, now)  # a messaging channel's reply window (window.py)
    if conn.dialect.name != "postgresql":
        values = dict(conversation_id=conversation_id, seq=row["last_seq"], **message)
        msg_id = _INSERT_ON_DRIVER.rows(conn, values)[0]["id"]  # IntegrityError
    outbox = outbox_values(
        channel=row["channel"],
        author_kind=who.kind,
        internal=internal,
        conversation_id=conversation_id,
        message_id=msg_id,
        now=now,
        meta=meta,
    )
    if outbox is not None:  # delivered on its channel (email) from the durable outbox
        conn.execute(insert(_outbox), outbox)
    # No ORM instances on the hot path: the committed state and the event straight from the
    # returned row (constructing a ``Conversation`` cost more than the statements).
    state = ConversationState(**row)  # the bump returned exactly the state's columns
    event = MessageCreated(
        conversation=state,
        message_id=msg_id,
        seq=row["last_seq"],
        author_kind=who.kind,
        author_id=who.id,
        author_name=who.name,
        body=body,
        internal=internal,
        client_msg_id=client_msg_id,
        created_at=now,
    )
    record(conn, event)
    return Sent(event.seq, msg_id, state, partial(message_out, event, who.name))


def _resend(
    conn: Connection, who: Principal, client_msg_id: str, conversation_id: int
) -> Sent | None:
    """The stored message of a resent ``client_msg_id`` (``None``: gone meanwhile, so the full
    path stores it)."""
    row = conn.execute(_CONVERSATION, {"cid": conversation_id}).first()
    check_visible(who, conversation_id, row.visitor_id if row else None)
    assert row is not None
    if who.kind == "agent":
        check_agent_site(conn, who, conversation_id, row.site_id)
    existing = conn.execute(_FIND_RESEND, {"cmid": client_msg_id, "cid": conversation_id}).first()
    if existing is None:
        return None
    if existing.author_kind != who.kind or existing.author_id != who.id:
        raise Invalid("client_msg_id already used by someone else", code="duplicate_id")
    msg = Message(**existing._asdict())
    return Sent.of(message_out(msg, who.name), Conversation(**row._asdict()), duplicate=True)
