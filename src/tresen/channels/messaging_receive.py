"""Storing what a messaging webhook delivered, in one transaction per delivery:

- customer messages and page comments, once per account and platform id (a platform's retry,
  or two nodes receiving the same delivery, store nothing new), in the order of the platform's
  timestamps (a batch that lists them out of order is sorted first), threaded onto the
  identity's conversation (or the web chat a signed ``ref:`` code names: moving to WhatsApp);
- the reply window and where to answer, on the conversation's meta;
- delivery and read statuses of our messages, on their outbox rows: a receipt only moves
  forward (a ``delivered`` arriving after ``read`` changes nothing)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.channels.handoff import find_ref
from tresen.channels.messaging_in import Inbound
from tresen.channels.outbox import record_delivery
from tresen.conversations.inbound import do_receive_message
from tresen.conversations.window import KEY as WINDOW_KEY
from tresen.runtime import Runtime
from tresen.storage.models import (
    ChannelAccount,
    ChannelEvent,
    ChannelMedia,
    Conversation,
    Message,
    Outbox,
)
from tresen.visitors.contacts import do_find_or_create_messaging_contact

RANK = {"sent": 0, "delivered": 1, "read": 2}
FREE_HOURS = 24
TAG_DAYS = 7  # Messenger's human-agent tag


@dataclass(frozen=True)
class Download:
    """A media file fetched before the transaction (``messaging_media.py``)."""

    content_type: str
    filename: str
    data: bytes


@dataclass(frozen=True)
class Stored:
    external_id: str
    conversation_id: int
    message_id: int


def channel_of(account: ChannelAccount, item: Inbound) -> str:
    return "facebook" if item.kind == "comment" else account.kind


async def check_receive(
    rt: Runtime,
    account: ChannelAccount,
    items: list[Inbound],
    media: dict[str, Download] | None = None,
) -> list[Stored]:
    """Store a delivery's items; a concurrent copy of the same delivery makes the loser's
    transaction fail on the unique id, and its second pass finds everything stored."""
    ordered = sorted(items, key=lambda i: (i.at, i.external_id))
    for _attempt in range(3):
        try:
            return await _receive(rt, account, ordered, media or {})
        except IntegrityError:
            continue
    return []


async def not_stored(rt: Runtime, account: ChannelAccount, items: list[Inbound]) -> list[Inbound]:
    """The items with media that are not stored yet: a platform's retry downloads nothing."""
    wanted = [i for i in items if i.media is not None and i.kind != "status"]
    if not wanted:
        return []
    async with rt.db.read() as s:
        seen = set(
            (
                await s.execute(
                    select(ChannelEvent.external_id).where(
                        ChannelEvent.account_id == account.id,
                        ChannelEvent.external_id.in_([i.external_id for i in wanted]),
                    )
                )
            ).scalars()
        )
    return [i for i in wanted if i.external_id not in seen]


async def _receive(
    rt: Runtime, account: ChannelAccount, items: list[Inbound], media: dict[str, Download]
) -> list[Stored]:
    now = rt.clock.now()
    stored: list[Stored] = []
    async with rt.db.write() as s:
        for item in items:
            if item.kind == "status":
                await _status(s, account, item, now)
                continue
            seen = await s.execute(
                select(ChannelEvent.id).where(
                    ChannelEvent.account_id == account.id,
                    ChannelEvent.external_id == item.external_id,
                )
            )
            if seen.scalar_one_or_none() is not None:
                continue
            conv, msg = await _message(s, rt, account, item, media.get(item.external_id), now)
            s.add(
                ChannelEvent(
                    account_id=account.id,
                    external_id=item.external_id[:255],
                    sender_id=item.sender_id[:128],
                    kind=item.kind,
                    conversation_id=conv.id,
                    message_id=msg.id,
                    platform_at=item.at,
                    received_at=now,
                )
            )
            await s.flush()
            stored.append(Stored(item.external_id, conv.id, msg.id))
    return stored


async def _message(
    s: AsyncSession,
    rt: Runtime,
    account: ChannelAccount,
    item: Inbound,
    download: Download | None,
    now: datetime,
) -> tuple[Conversation, Message]:
    channel = channel_of(account, item)
    conv = await _thread(s, rt, account, item)
    visitor_id = conv.visitor_id if conv is not None else None
    if visitor_id is None:
        contact = await do_find_or_create_messaging_contact(
            s, account.site_id, channel, item.sender_id, item.sender_name, now
        )
        visitor_id = contact.id
    body, key, files = item.text, None, None
    if download is not None:
        key = secrets.token_urlsafe(16)
        link = f"{rt.settings.public_url.rstrip('/')}/api/channel-media/{key}"
        label = "image" if download.content_type.startswith("image/") else "file"
        name = f" {download.filename}" if download.filename else ""
        body = f"[{label}{name}] {link}" + (f"\n{item.text}" if item.text else "")
        size, ctype = len(download.data), download.content_type
        files = [{"key": key, "name": download.filename or label, "type": ctype, "size": size}]
    elif item.media is not None:
        body = f"[{item.media.kind} not stored: too large or unavailable]" + (
            f"\n{item.text}" if item.text else ""
        )
    conv, msg = await do_receive_message(
        s,
        site_id=account.site_id,
        visitor_id=visitor_id,
        conversation=conv,
        channel=channel,
        body=(body or "[empty]")[: rt.settings.max_message_chars],
        client_msg_id=_client_id(account, item),
        author_name=item.sender_name,
        meta=_meta(account, item, conv),
        now=now,
        bot=account.bot and item.kind == "message",
        refresh=True,
        sent_at=item.at,
        attachments=files,
    )
    if download is not None and key is not None:
        s.add(
            ChannelMedia(
                key=key,
                conversation_id=conv.id,
                message_id=msg.id,
                content_type=download.content_type,
                filename=download.filename,
                size=len(download.data),
                data=download.data,
                created_at=now,
            )
        )
    return conv, msg


async def _thread(
    s: AsyncSession, rt: Runtime, account: ChannelAccount, item: Inbound
) -> Conversation | None:
    """The identity's latest conversation on this account (comments: the latest on the same
    post), else the web chat a signed reference in the text names (same site)."""
    if item.kind == "message" and account.kind == "whatsapp":
        conv_id = find_ref(rt.settings.secret_key, item.text)
        if conv_id is not None:
            conv = await s.get(Conversation, conv_id)
            # the reference moves a chat once, to the number that used it first: a link seen
            # by someone else later cannot take the conversation over
            holder = (conv.meta or {}).get("recipient") if conv is not None else None
            if (
                conv is not None
                and conv.site_id == account.site_id
                and holder in (None, item.sender_id)
            ):
                return conv
    stmt = (
        select(ChannelEvent.conversation_id)
        .where(
            ChannelEvent.account_id == account.id,
            ChannelEvent.sender_id == item.sender_id,
            ChannelEvent.kind == item.kind,
            ChannelEvent.conversation_id.is_not(None),
        )
        .order_by(ChannelEvent.id.desc())
        .limit(1)
    )
    conv_id = (await s.execute(stmt)).scalar_one_or_none()
    conv = await s.get(Conversation, conv_id) if conv_id is not None else None
    if conv is not None and item.kind == "comment":
        if (conv.meta or {}).get("post_id") != item.extra.get("post_id"):
            return None
    return conv


def _meta(account: ChannelAccount, item: Inbound, conv: Conversation | None) -> dict[str, object]:
    meta: dict[str, object] = {
        "account_id": account.id,
        "recipient": item.sender_id,
        "customer_at": item.at.isoformat(),
    }
    if item.kind == "comment":
        meta |= {"public": True, **item.extra}
        return meta
    last = (conv.meta or {}).get("customer_at") if conv is not None else None
    newest = max(item.at, datetime.fromisoformat(str(last))) if last else item.at
    meta["customer_at"] = newest.isoformat()
    if account.kind == "whatsapp":
        meta[WINDOW_KEY] = {
            "free_until": (newest + timedelta(hours=FREE_HOURS)).isoformat(),
            "tag_until": None,
            "after": "template",
        }
    elif account.kind == "messenger":
        meta[WINDOW_KEY] = {
            "free_until": (newest + timedelta(hours=FREE_HOURS)).isoformat(),
            "tag_until": (newest + timedelta(days=TAG_DAYS)).isoformat(),
            "after": "closed",
        }
    return meta


def _client_id(account: ChannelAccount, item: Inbound) -> str:
    digest = hashlib.sha256(f"{account.id}:{item.external_id}".encode()).hexdigest()[:40]
    return f"{account.kind[:2]}:{digest}"


async def _status(s: AsyncSession, account: ChannelAccount, item: Inbound, now: datetime) -> None:
    if item.external_id:
        rows = list(
            (
                await s.execute(
                    select(Outbox).where(
                        Outbox.external_id == item.external_id, Outbox.channel == account.kind
                    )
                )
            ).scalars()
        )
    else:  # Messenger's watermark: everything we sent this person up to then
        convs = select(ChannelEvent.conversation_id).where(
            ChannelEvent.account_id == account.id, ChannelEvent.sender_id == item.sender_id
        )
        rows = list(
            (
                await s.execute(
                    select(Outbox).where(
                        Outbox.conversation_id.in_(convs),
                        Outbox.status == "sent",
                        Outbox.sent_at <= item.at,
                    )
                )
            ).scalars()
        )
    for row in rows:
        await _apply_status(s, row, item)


async def _apply_status(s: AsyncSession, row: Outbox, item: Inbound) -> None:
    status = item.status or ""
    if status == "failed":
        if row.status == "failed":
            return
        row.status, row.last_error = "failed", (item.error or "the platform refused it")[:2000]
        state = "failed"
    else:
        if RANK.get(status, -1) <= RANK.get(row.receipt or "sent", 0):
            return  # older news than what we know (out of order): the receipt stays
        row.receipt, row.receipt_at, state = status, item.at, status
    await record_delivery(s, row, state)
