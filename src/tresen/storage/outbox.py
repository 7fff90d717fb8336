"""Which stored messages go out on a channel: the rule the write paths apply in the message's
own transaction, so a delivery can never be lost between the commit and the channel.

Channel-agnostic on purpose: conversations know only that a conversation on a channel other
than the web chat gets its agents' public replies written to the outbox; which adapter delivers
them is the channels' business (``tresen.channels``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

LIVE_CHANNELS = frozenset({"web"})  # delivered by the sockets, nothing to send elsewhere
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
) -> dict[str, Any] | None:
    """The outbox row of a just-stored message, or ``None`` when nothing goes out."""
    if not goes_out(channel, author_kind, internal):
        return None
    return {
        "channel": channel,
        "conversation_id": conversation_id,
        "message_id": message_id,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }
