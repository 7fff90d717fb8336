"""Which stored messages go out on a channel: the rule the write paths apply in the message's
own transaction, so a delivery can never be lost between the commit and the channel.

Channel-agnostic on purpose: conversations know only that a conversation on a channel other
than the web chat gets its agents' public replies written to the outbox; which adapter delivers
them is the channels' business (``tresen.channels``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

LIVE_CHANNELS = frozenset({"web"})  # delivered by the sockets, nothing to send elsewhere
LIVE_DELAY = "live_chat_delay_s"  # conversation meta: the customer joined by a chat link
# chat-like channels where the FAQ bot answers too (never email: nothing answers a mail by itself)
BOT_CHANNELS = frozenset({"whatsapp", "messenger", "telegram"})


def goes_out(channel: str, author_kind: str, internal: bool) -> bool:
    if channel in LIVE_CHANNELS or internal:
        return False
    return author_kind == "agent" or (author_kind == "bot" and channel in BOT_CHANNELS)


def outbox_values(
    *,
    channel: str,
    author_kind: str,
    internal: bool,
    conversation_id: int,
    message_id: int,
    now: datetime,
    meta: dict[str, Any] | None = None,
) -> dict[str, Any] | None:
    """The outbox row of a just-stored message, or ``None`` when nothing goes out. While the
    customer chats live in such a conversation (they opened a chat link from a mail:
    ``meta[LIVE_DELAY]`` seconds), a reply goes out only that much later, and only if they have
    not read it in the chat by then."""
    if not goes_out(channel, author_kind, internal):
        return None
    delay = float((meta or {}).get(LIVE_DELAY) or 0)
    return {
        "channel": channel,
        "conversation_id": conversation_id,
        "message_id": message_id,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now + timedelta(seconds=delay) if delay > 0 else now,
        "created_at": now,
    }
