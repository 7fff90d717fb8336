"""The reply window of a conversation on a messaging channel: how long an agent may still write
freely, and what is allowed after. Channel-agnostic: the channel adapter that received the
customer's last message wrote it into the conversation's ``meta["reply_window"]``:

``{"free_until": iso, "tag_until": iso | None, "after": "template" | "tag" | "closed"}``

(WhatsApp: free for 24 hours, then only an approved template; Messenger: 24 hours, then the
human-agent tag until 7 days). A conversation without it (web, email, Telegram) has no window."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tresen.errors import Conflict

KEY = "reply_window"


def window_state(meta: dict[str, Any] | None, now: datetime) -> dict[str, Any] | None:
    """``{"mode": "free" | "tag" | "template" | "closed", "free_until", "tag_until",
    "seconds_left"}`` for the console, or ``None`` where no window applies."""
    w = (meta or {}).get(KEY)
    if not isinstance(w, dict) or not w.get("free_until"):
        return None
    free_until = datetime.fromisoformat(str(w["free_until"]))
    tag_until = datetime.fromisoformat(str(w["tag_until"])) if w.get("tag_until") else None
    if now < free_until:
        mode, left = "free", (free_until - now).total_seconds()
    elif tag_until is not None and now < tag_until:
        mode, left = "tag", (tag_until - now).total_seconds()
    else:
        mode, left = ("template" if w.get("after") == "template" else "closed"), 0.0
    return {
        "mode": mode,
        "free_until": free_until.isoformat(),
        "tag_until": tag_until.isoformat() if tag_until else None,
        "seconds_left": int(left),
    }


def check_free_reply(meta: dict[str, Any] | None, now: datetime) -> None:
    """Refuse an agent's free-text reply the platform would refuse: outside the window."""
    state = window_state(meta, now)
    if state is None or state["mode"] in ("free", "tag"):
        return
    if state["mode"] == "template":
        raise Conflict(
            "the 24-hour window for free replies has closed: WhatsApp only delivers an "
            "approved template until the customer writes again; pick one in the composer",
            code="window_closed",
        )
    raise Conflict(
        "the customer last wrote more than 7 days ago: the platform accepts no reply until "
        "they write again",
        code="window_closed",
    )
