"""Files on messages (docs/attachments.md): an agent (or, where the site allows it, a web
visitor) uploads a file into one of their conversations; its type is read from its bytes
(magic numbers, ``filetype``), never from the name or the browser's word; only the types below
and up to ``TRESEN_ATTACHMENT_MAX_BYTES`` are kept, once, in ``channel_media`` (the store of
the media customers send on messaging channels). Sending a message with the file's key binds
it to the message in the message's transaction; the message carries its name, type and size
(``messages.attachments``) for every view, the bytes stay in one row."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

import filetype  # type: ignore[import-untyped]
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.conversations.queries import access_conversation_by_id, check_writable
from tresen.errors import Forbidden, Invalid, RateLimited
from tresen.principal import Principal
from tresen.runtime import Runtime
from tresen.storage.models import ChannelMedia, Message, Site

IMAGES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
UPLOAD_TYPES = IMAGES | {"application/pdf", "text/plain"}
MAX_FILES = 10  # per message
VISITOR_UPLOADS_PER_HOUR = 30
NAME_CHARS = 120


class TooLarge(Invalid):
    status = 413


def sniff(data: bytes) -> str | None:
    """The type the bytes are, if it is one we keep. Text has no magic number: it must be
    UTF-8 without control characters and not look like markup a browser would render."""
    kind = filetype.guess(data[:8192])
    if kind is not None:
        mime = str(kind.mime)
        return mime if mime in UPLOAD_TYPES else None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if any(ord(c) < 32 and c not in "\t\r\n\f" for c in text):
        return None
    head = text[:1024].lstrip().lower()
    if head.startswith(("<", "%pdf")) or "<script" in head or "<html" in head:
        return None  # HTML or SVG dressed as text
    return "text/plain"


def sniff_any(data: bytes, allowed: frozenset[str]) -> str | None:
    """The type the bytes are, if it is in ``allowed`` (media customers send: also sound and
    video); text as in ``sniff``."""
    kind = filetype.guess(data[:8192])
    if kind is not None:
        mime = str(kind.mime)
        return mime if mime in allowed else None
    text = sniff(data)
    return text if text in allowed else None


def safe_name(name: str, mime: str) -> str:
    """A file name fit for a header and a download: letters, digits and ``._- ``, no path,
    an extension that matches what the file is."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(c for c in base if c.isalnum() or c in "._- ")[:NAME_CHARS].strip(" .")
    stem = cleaned.rsplit(".", 1)[0] if "." in cleaned else cleaned
    ext = {
        "image/jpeg": "jpg",
        "image/png": "png",
        "image/gif": "gif",
        "image/webp": "webp",
        "application/pdf": "pdf",
        "text/plain": "txt",
    }.get(mime, "bin")
    return f"{stem or 'file'}.{ext}"


def check_file(rt: Runtime, name: str, data: bytes) -> tuple[str, str]:
    """(type, safe name), or a clear refusal: empty, too large, not an allowed type."""
    limit = rt.settings.attachment_max_bytes
    if len(data) > limit:
        raise TooLarge(
            f"the file has {len(data)} bytes; the limit is {limit}", code="file_too_large"
        )
    if not data:
        raise Invalid("the file is empty", code="empty_file")
    mime = sniff(data)
    if mime is None:
        raise Invalid(
            "this kind of file cannot be sent: images (JPEG, PNG, GIF, WebP), PDF or plain text",
            code="file_type",
        )
    return mime, safe_name(name, mime)


async def check_upload(
    rt: Runtime, who: Principal, conversation_id: int, name: str, data: bytes
) -> dict[str, Any]:
    """Store a file for a message ``who`` is about to send in the conversation."""
    mime, clean = check_file(rt, name, data)
    if who.kind == "visitor" and not await rt.limiter.hit(
        f"upload:{who.id}", VISITOR_UPLOADS_PER_HOUR, 3600
    ):
        raise RateLimited("too many files; try again later", code="too_many_files")
    now = rt.clock.now()
    async with rt.db.write() as s:
        conv = await access_conversation_by_id(s, who, conversation_id)
        check_writable(who, conv.meta, conv.assignee_id, False)
        if who.kind == "visitor":
            site = await s.get(Site, conv.site_id)
            if site is None or not site.visitor_uploads:
                raise Forbidden("this site does not accept files", code="uploads_off")
        row = ChannelMedia(
            key=secrets.token_urlsafe(16),
            conversation_id=conv.id,
            content_type=mime,
            filename=clean,
            size=len(data),
            data=data,
            created_at=now,
            author_kind=who.kind,
            author_id=who.id,
        )
        s.add(row)
        await s.flush()
    return attachment_view(row)


def attachment_view(row: ChannelMedia) -> dict[str, Any]:
    return {"key": row.key, "name": row.filename, "type": row.content_type, "size": row.size}


def check_keys(keys: list[str]) -> list[str]:
    keys = list(dict.fromkeys(k[:32] for k in keys))
    if len(keys) > MAX_FILES:
        raise Invalid(f"at most {MAX_FILES} files per message", code="too_many_files")
    return keys


async def bind_attachments(
    s: AsyncSession, who: Principal, msg: Message, keys: list[str], now: datetime
) -> list[dict[str, Any]]:
    """Inside the send's transaction: the uploads named by ``keys`` (this author's, in this
    conversation, not sent yet) become the message's files."""
    if not keys:
        return []
    rows = (
        (
            await s.execute(
                select(ChannelMedia).where(
                    ChannelMedia.key.in_(keys),
                    ChannelMedia.conversation_id == msg.conversation_id,
                    ChannelMedia.message_id.is_(None),
                    ChannelMedia.author_kind == who.kind,
                    ChannelMedia.author_id == who.id,
                )
            )
        )
        .scalars()
        .all()
    )
    by_key = {r.key: r for r in rows}
    missing = [k for k in keys if k not in by_key]
    if missing:
        raise Invalid("a file is unknown or already sent; upload it again", code="unknown_file")
    await s.execute(
        update(ChannelMedia)
        .where(ChannelMedia.id.in_([r.id for r in rows]))
        .values(message_id=msg.id)
    )
    views = [attachment_view(by_key[k]) for k in keys]
    msg.attachments = views
    return views


async def message_files(s: AsyncSession, message_id: int) -> list[ChannelMedia]:
    """The files of a message, in the order they were attached (for the channels' delivery)."""
    msg = await s.get(Message, message_id)
    keys = [a["key"] for a in (msg.attachments or [])] if msg is not None else []
    if not keys:
        return []
    rows = (await s.execute(select(ChannelMedia).where(ChannelMedia.key.in_(keys)))).scalars().all()
    by_key = {r.key: r for r in rows}
    return [by_key[k] for k in keys if k in by_key]


def file_headers(row: ChannelMedia) -> tuple[str, dict[str, str]]:
    """How a stored file is served: never sniffed, in a sandbox, images inline, anything else
    downloaded as bytes."""
    return serve_headers(row.content_type, row.filename or f"file-{row.id}")


def serve_headers(content_type: str, name: str) -> tuple[str, dict[str, str]]:
    """(media type, headers) of a file: only the image types we check are shown inline."""
    inline = content_type in IMAGES
    name = name.replace('"', "").replace("\r", "").replace("\n", "")
    disposition = "inline" if inline else "attachment"
    return (
        content_type if inline else "application/octet-stream",
        {
            "Content-Disposition": f'{disposition}; filename="{name}"',
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "private, max-age=3600",
        },
    )
