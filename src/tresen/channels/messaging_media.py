"""Fetching the images and files customers send, before the webhook's transaction: WhatsApp by
media id (``GET {graph}/{media-id}`` gives a short-lived URL, fetched with the token), Messenger
by the attachment's URL, Telegram by ``getFile`` and its file path. Only the types below and up
to ``TRESEN_CHANNEL_MEDIA_MAX_BYTES`` are stored; anything else leaves a note in the message."""

from __future__ import annotations

import logging
from typing import Any

from tresen.channels.accounts import Secrets
from tresen.channels.base import DeliveryError
from tresen.channels.messaging_in import Inbound, MediaRef
from tresen.channels.messaging_receive import Download
from tresen.channels.platform_http import call, download
from tresen.conversations.files import sniff_any
from tresen.runtime import Runtime
from tresen.storage.models import ChannelAccount

log = logging.getLogger(__name__)
ALLOWED = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/gif",
        "image/webp",
        "application/pdf",
        "text/plain",
        "audio/ogg",
        "audio/mpeg",
        "audio/mp4",
        "video/mp4",
    }
)
INLINE = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})


async def fetch_media(
    rt: Runtime, account: ChannelAccount, keys: Secrets, items: list[Inbound]
) -> dict[str, Download]:
    out: dict[str, Download] = {}
    for item in items:
        if item.media is None:
            continue
        try:
            got = await _fetch(rt, account, keys, item.media)
        except DeliveryError as exc:
            log.warning("%s media %s: %s", account.kind, item.external_id, exc.message)
            continue
        if got is not None:
            out[item.external_id] = got
    return out


async def _fetch(
    rt: Runtime, account: ChannelAccount, keys: Secrets, ref: MediaRef
) -> Download | None:
    timeout, limit = rt.settings.messaging_timeout_seconds, rt.settings.channel_media_max_bytes
    graph = rt.settings.graph_api_base.rstrip("/")
    token: str | None = None
    if account.kind == "whatsapp":
        info = await call("GET", f"{graph}/{ref.ref}", token=keys.access_token, timeout=timeout)
        size = info.get("file_size")
        if isinstance(size, int) and size > limit:
            return None
        url, token = str(info.get("url") or ""), keys.access_token
    elif account.kind == "telegram":
        base = f"{rt.settings.telegram_api_base.rstrip('/')}"
        info = await call(
            "GET",
            f"{base}/bot{keys.access_token}/getFile",
            params={"file_id": ref.ref},
            timeout=timeout,
        )
        raw = info.get("result")
        result: dict[str, Any] = raw if isinstance(raw, dict) else {}
        path = str(result.get("file_path") or "")
        url = f"{base}/file/bot{keys.access_token}/{path}" if path else ""
    else:
        url = ref.ref
    if not url.startswith(("https://", "http://")):
        return None
    got = await download(url, timeout=timeout, max_bytes=limit, token=token)
    if got is None:
        return None
    claimed, data = got
    claimed = ref.mime.split(";")[0].strip().lower() or claimed
    ctype = sniff_any(data, ALLOWED)  # what the bytes are, not what the platform says
    if ctype is None or claimed not in ALLOWED:
        return None
    return Download(ctype, _safe_name(ref.filename), data)


def _safe_name(name: str) -> str:
    cleaned = "".join(c for c in name if c.isalnum() or c in "._- ")[:120].strip(" .")
    return cleaned
