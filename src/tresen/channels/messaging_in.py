"""Reading what the platforms' webhooks deliver: WhatsApp Cloud API (``messages`` field),
Messenger (``messaging`` events, and ``feed`` changes: comments on the page) and Telegram
(``Update``), as plain ``Inbound`` items. Pure: no storage, no network. Anything unknown or
malformed is skipped, never an exception (a platform resends what it did not get a 200 for)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

STATUSES = ("sent", "delivered", "read", "failed")


@dataclass(frozen=True)
class MediaRef:
    kind: str  # image | file
    ref: str  # WhatsApp media id, Telegram file_id, or a Messenger attachment URL
    mime: str = ""
    filename: str = ""


@dataclass(frozen=True)
class Inbound:
    kind: str  # message | status | comment
    external_id: str  # the platform's id of the message (or, for a status, of ours)
    sender_id: str  # the customer: wa_id, PSID, Telegram chat id, commenter id
    at: datetime  # the platform's timestamp
    text: str = ""
    sender_name: str | None = None
    media: MediaRef | None = None
    status: str | None = None  # for kind status: sent | delivered | read | failed
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # comment: comment_id, post_id


def _ts(value: Any, *, millis: bool = False) -> datetime | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if millis:
        number /= 1000
    try:
        return datetime.fromtimestamp(number, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _s(value: Any) -> str:
    return value if isinstance(value, str) else str(value) if isinstance(value, int) else ""


# ---- WhatsApp Cloud API ------------------------------------------------------------------------


def whatsapp_items(payload: Any, phone_number_id: str) -> list[Inbound]:
    out: list[Inbound] = []
    if _d(payload).get("object") != "whatsapp_business_account":
        return out
    for entry in _dicts(_d(payload).get("entry")):
        for change in _dicts(entry.get("changes")):
            value = _d(change.get("value"))
            if change.get("field") != "messages":
                continue
            if _s(_d(value.get("metadata")).get("phone_number_id")) != phone_number_id:
                continue  # another number of the same business account
            names = {
                _s(c.get("wa_id")): _s(_d(c.get("profile")).get("name")) or None
                for c in _dicts(value.get("contacts"))
            }
            out += [i for m in _dicts(value.get("messages")) if (i := _wa_message(m, names))]
            out += [i for st in _dicts(value.get("statuses")) if (i := _wa_status(st))]
    return out


def _wa_message(m: dict[str, Any], names: dict[str, str | None]) -> Inbound | None:
    sender, ident, at = _s(m.get("from")), _s(m.get("id")), _ts(m.get("timestamp"))
    if not sender or not ident or at is None:
        return None
    kind, text, media = _s(m.get("type")), "", None
    if kind == "text":
        text = _s(_d(m.get("text")).get("body"))
    elif kind in ("image", "document", "audio", "video", "sticker"):
        part = _d(m.get(kind))
        text = _s(part.get("caption"))
        if _s(part.get("id")):
            media = MediaRef(
                "image" if kind in ("image", "sticker") else "file",
                _s(part.get("id")),
                _s(part.get("mime_type")),
                _s(part.get("filename")),
            )
    elif kind == "button":
        text = _s(_d(m.get("button")).get("text"))
    elif kind == "interactive":
        reply = _d(m.get("interactive"))
        text = _s(_d(reply.get("button_reply") or reply.get("list_reply")).get("title"))
    elif kind == "location":
        loc = _d(m.get("location"))
        text = f"[location] {loc.get('latitude')}, {loc.get('longitude')} {_s(loc.get('name'))}"
    if not text and media is None:
        text = f"[{kind or 'unsupported'} message]"
    return Inbound("message", ident, sender, at, text.strip(), names.get(sender), media)


def _wa_status(st: dict[str, Any]) -> Inbound | None:
    ident, status, at = _s(st.get("id")), _s(st.get("status")), _ts(st.get("timestamp"))
    if not ident or status not in STATUSES or at is None:
        return None
    errors = _dicts(st.get("errors"))
    error = None
    if errors:
        e = errors[0]
        detail = _s(_d(e.get("error_data")).get("details")) or _s(e.get("message"))
        error = f"{e.get('code')}: {_s(e.get('title'))} {detail}".strip()
    return Inbound("status", ident, _s(st.get("recipient_id")), at, status=status, error=error)


# ---- Messenger ----------------------------------------------------------------------------------


def messenger_items(payload: Any, page_id: str) -> list[Inbound]:
    out: list[Inbound] = []
    if _d(payload).get("object") != "page":
        return out
    for entry in _dicts(_d(payload).get("entry")):
        if _s(entry.get("id")) != page_id:
            continue
        for ev in _dicts(entry.get("messaging")):
            out += _messenger_event(ev, page_id)
        for change in _dicts(entry.get("changes")):
            if change.get("field") == "feed" and (c := _feed_comment(_d(change.get("value")))):
                if c.sender_id != page_id:  # the page's own answers come back too
                    out.append(c)
    return out


def _messenger_event(ev: dict[str, Any], page_id: str) -> list[Inbound]:
    sender = _s(_d(ev.get("sender")).get("id"))
    at = _ts(ev.get("timestamp"), millis=True)
    if not sender or sender == page_id or at is None:
        return []
    if "message" in ev:
        msg = _d(ev.get("message"))
        if msg.get("is_echo") or not _s(msg.get("mid")):
            return []
        media = None
        for att in _dicts(msg.get("attachments")):
            url = _s(_d(att.get("payload")).get("url"))
            if url and att.get("type") in ("image", "file", "video", "audio"):
                media = MediaRef("image" if att.get("type") == "image" else "file", url)
                break
        text = _s(msg.get("text")) or ("" if media else "[unsupported message]")
        return [Inbound("message", _s(msg.get("mid")), sender, at, text.strip(), media=media)]
    if "postback" in ev:
        pb = _d(ev.get("postback"))
        ident = _s(pb.get("mid")) or f"postback:{sender}:{ev.get('timestamp')}"
        return [Inbound("message", ident, sender, at, _s(pb.get("title")) or "[button]")]
    if "delivery" in ev:
        d = _d(ev.get("delivery"))
        mark = _ts(d.get("watermark"), millis=True) or at
        mids = [m for m in d.get("mids", []) if isinstance(m, str)] if d.get("mids") else []
        return [Inbound("status", m, sender, mark, status="delivered") for m in mids] or [
            Inbound("status", "", sender, mark, status="delivered")
        ]
    if "read" in ev:
        mark = _ts(_d(ev.get("read")).get("watermark"), millis=True) or at
        return [Inbound("status", "", sender, mark, status="read")]  # all up to the watermark
    return []


def _feed_comment(v: dict[str, Any]) -> Inbound | None:
    if v.get("item") != "comment" or v.get("verb") != "add":
        return None
    ident, who = _s(v.get("comment_id")), _d(v.get("from"))
    at = _ts(v.get("created_time"))
    if not ident or not _s(who.get("id")) or at is None:
        return None
    return Inbound(
        "comment",
        ident,
        _s(who.get("id")),
        at,
        _s(v.get("message")).strip() or "[comment]",
        _s(who.get("name")) or None,
        extra={"comment_id": ident, "post_id": _s(v.get("post_id"))},
    )


# ---- Telegram -----------------------------------------------------------------------------------


def telegram_items(payload: Any) -> list[Inbound]:
    msg = _d(_d(payload).get("message"))
    chat, who = _d(msg.get("chat")), _d(msg.get("from"))
    at = _ts(msg.get("date"))
    if not msg or chat.get("type") != "private" or at is None or not _s(chat.get("id")):
        return []  # groups and channels are not customer conversations
    media = None
    photos = _dicts(msg.get("photo"))
    if photos:
        media = MediaRef("image", _s(photos[-1].get("file_id")), "image/jpeg")  # the largest
    elif doc := _d(msg.get("document")):
        media = MediaRef(
            "file", _s(doc.get("file_id")), _s(doc.get("mime_type")), _s(doc.get("file_name"))
        )
    text = _s(msg.get("text")) or _s(msg.get("caption"))
    if not text and media is None:
        text = "[unsupported message]"
    name = " ".join(p for p in (_s(who.get("first_name")), _s(who.get("last_name"))) if p)
    chat_id = _s(chat.get("id"))
    ident = f"{chat_id}:{_s(msg.get('message_id'))}"
    return [Inbound("message", ident, chat_id, at, text.strip(), name or None, media)]
