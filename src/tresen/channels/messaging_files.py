"""Files an agent attached, sent on a messaging channel (docs/attachments.md): each file is
uploaded to the platform and sent as a message of its own after the text; each part sent is
recorded on the outbox item, so a retry sends only what is missing.

- WhatsApp: ``POST {graph}/{phone-number-id}/media`` (multipart: ``messaging_product``,
  ``type``, ``file``) gives a media id, then ``/messages`` with ``type`` ``image`` or
  ``document`` and that id.
- Messenger: ``POST {graph}/me/message_attachments`` (multipart: ``message`` naming the type,
  ``filedata``) gives an ``attachment_id``, then ``/me/messages`` with the attachment.
- Telegram: ``sendPhoto`` or ``sendDocument`` (multipart: ``chat_id`` and the file).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from tresen.channels.base import DeliveryError
from tresen.channels.platform_http import call
from tresen.conversations.files import IMAGES
from tresen.storage.models import ChannelMedia

if TYPE_CHECKING:
    from tresen.channels.messaging_out import Job


def _file(row: ChannelMedia, field: str) -> dict[str, tuple[str, bytes, str]]:
    return {field: (row.filename or f"file-{row.id}", row.data, row.content_type)}


async def whatsapp_file(
    graph: str, job: Job, timeout: float, base: dict[str, Any], row: ChannelMedia
) -> str:
    token = job.secrets.access_token
    up = await call(
        "POST",
        f"{graph}/{job.account.external_id}/media",
        form={"messaging_product": "whatsapp", "type": row.content_type},
        files=_file(row, "file"),
        token=token,
        timeout=timeout,
    )
    media_id = str(up.get("id") or "")
    if not media_id:
        raise DeliveryError("WhatsApp answered the upload without a media id", permanent=True)
    kind = "image" if row.content_type in IMAGES else "document"
    media: dict[str, Any] = {"id": media_id}
    if kind == "document":
        media["filename"] = row.filename
    body = base | {"type": kind, kind: media}
    url = f"{graph}/{job.account.external_id}/messages"
    data = await call("POST", url, json=body, token=token, timeout=timeout)
    sent = data.get("messages")
    if not isinstance(sent, list) or not sent or not isinstance(sent[0], dict):
        raise DeliveryError("WhatsApp answered without a message id", permanent=True)
    return str(sent[0].get("id", ""))


async def messenger_file(
    graph: str, job: Job, timeout: float, base: dict[str, Any], row: ChannelMedia
) -> str:
    token = job.secrets.access_token
    kind = "image" if row.content_type in IMAGES else "file"
    spec = {"attachment": {"type": kind, "payload": {"is_reusable": False}}}
    up = await call(
        "POST",
        f"{graph}/me/message_attachments",
        form={"message": json.dumps(spec)},
        files=_file(row, "filedata"),
        token=token,
        timeout=timeout,
    )
    attachment_id = str(up.get("attachment_id") or "")
    if not attachment_id:
        raise DeliveryError("Messenger answered the upload without an id", permanent=True)
    body = base | {
        "message": {"attachment": {"type": kind, "payload": {"attachment_id": attachment_id}}}
    }
    data = await call("POST", f"{graph}/me/messages", json=body, token=token, timeout=timeout)
    return str(data.get("message_id") or "")


async def telegram_file(api: str, job: Job, timeout: float, row: ChannelMedia) -> str:
    method, field = (
        ("sendPhoto", "photo")
        if row.content_type in IMAGES
        else (
            "sendDocument",
            "document",
        )
    )
    data = await call(
        "POST",
        f"{api}/bot{job.secrets.access_token}/{method}",
        form={"chat_id": job.recipient},
        files=_file(row, field),
        timeout=timeout,
    )
    raw = data.get("result")
    result: dict[str, Any] = raw if isinstance(raw, dict) else {}
    return f"{job.recipient}:{result.get('message_id', '')}"
