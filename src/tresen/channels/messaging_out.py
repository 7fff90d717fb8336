"""The messaging channels' outbound adapters: an outbox item becomes a call of the platform's
send API. WhatsApp: ``POST {graph}/{phone-number-id}/messages`` (text inside the 24-hour
window, else the template the agent picked); Messenger: ``POST {graph}/me/messages``
(``RESPONSE`` inside 24 hours, the ``HUMAN_AGENT`` tag up to 7 days, a private reply to a page
comment by ``recipient.comment_id``); a public answer to a comment:
``POST {graph}/{comment-id}/comments``; Telegram: ``POST {api}/bot<token>/sendMessage``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from sqlalchemy import update

from tresen.channels.accounts import Secrets, account_secrets
from tresen.channels.base import DeliveryError
from tresen.channels.messaging_files import messenger_file, telegram_file, whatsapp_file
from tresen.channels.platform_http import call
from tresen.conversations.files import message_files
from tresen.conversations.window import window_state
from tresen.runtime import Runtime
from tresen.security.secretbox import SecretUnreadable
from tresen.storage.models import (
    ChannelAccount,
    ChannelEvent,
    ChannelMedia,
    Conversation,
    Message,
    Outbox,
)


@dataclass(frozen=True)
class Job:
    item: Outbox
    conv: Conversation
    msg: Message
    account: ChannelAccount
    secrets: Secrets
    recipient: str
    files: list[ChannelMedia] = field(default_factory=list)  # attached by the agent


class _Adapter:
    name = ""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    @property
    def graph(self) -> str:
        return self.rt.settings.graph_api_base.rstrip("/")

    async def _post(self, url: str, body: dict[str, Any], token: str | None) -> dict[str, Any]:
        timeout = self.rt.settings.messaging_timeout_seconds
        return await call("POST", url, json=body, token=token, timeout=timeout)

    async def _job(self, item: Outbox) -> Job:
        async with self.rt.db.read() as s:
            conv = await s.get(Conversation, item.conversation_id)
            msg = await s.get(Message, item.message_id)
            if conv is None or msg is None:
                raise DeliveryError("the message is gone", permanent=True)
            account_id = (conv.meta or {}).get("account_id")
            account = await s.get(ChannelAccount, account_id) if account_id else None
            files = await message_files(s, msg.id)
        if account is None:
            raise DeliveryError("the conversation's channel account is gone", permanent=True)
        try:
            keys = account_secrets(self.rt, account)
        except SecretUnreadable as exc:
            raise DeliveryError(f"access token: {exc}; enter it again", permanent=True) from None
        recipient = str((conv.meta or {}).get("recipient") or "")
        return Job(item, conv, msg, account, keys, recipient, files)

    @property
    def timeout(self) -> float:
        return self.rt.settings.messaging_timeout_seconds

    async def _parts(self, job: Job, parts: Sequence[Callable[[], Awaitable[str]]]) -> str:
        """Send a message in parts (its text, then each file), the first part's id being the
        delivery's. Each part sent is recorded on the item at once, so a retry after a failed
        part sends only the rest."""
        done = job.item.payload or {}
        sent, first = int(done.get("parts_sent", 0)), str(done.get("first_id", ""))
        for i, part in enumerate(parts):
            if i < sent:
                continue
            got = await part()
            first = first or got
            if len(parts) > 1:
                await self._progress(job.item, i + 1, first)
        return first[:255]

    async def _progress(self, item: Outbox, sent: int, first: str) -> None:
        payload = {**(item.payload or {}), "parts_sent": sent, "first_id": first}
        async with self.rt.db.write() as s:
            await s.execute(update(Outbox).where(Outbox.id == item.id).values(payload=payload))
        item.payload = payload


class WhatsAppChannel(_Adapter):
    name = "whatsapp"

    async def deliver(self, item: Outbox) -> str:
        job = await self._job(item)
        if not job.recipient:
            raise DeliveryError("no WhatsApp number to answer", permanent=True)
        body: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": job.recipient,
        }
        template = (item.payload or {}).get("template")
        if template:
            params = [{"type": "text", "text": str(v)} for v in template.get("params", [])]
            body |= {
                "type": "template",
                "template": {
                    "name": template["name"],
                    "language": {"code": template["language"]},
                    "components": [{"type": "body", "parameters": params}] if params else [],
                },
            }
            return await self._send(job, body)
        text = {"type": "text", "text": {"preview_url": False, "body": job.msg.body}}
        parts = [partial(self._send, job, body | text)] if job.msg.body.strip() else []
        for row in job.files:
            parts.append(partial(whatsapp_file, self.graph, job, self.timeout, body, row))
        return await self._parts(job, parts or [partial(self._send, job, body | text)])

    async def _send(self, job: Job, body: dict[str, Any]) -> str:
        url = f"{self.graph}/{job.account.external_id}/messages"
        data = await self._post(url, body, job.secrets.access_token)
        sent = data.get("messages")
        if not isinstance(sent, list) or not sent or not isinstance(sent[0], dict):
            raise DeliveryError("WhatsApp answered without a message id", permanent=True)
        return str(sent[0].get("id", ""))[:255]


class MessengerChannel(_Adapter):
    name = "messenger"

    async def deliver(self, item: Outbox) -> str:
        job = await self._job(item)
        comment_id = (item.payload or {}).get("comment_id")
        body: dict[str, Any] = {"message": {"text": job.msg.body}}
        if comment_id:  # a private reply to a comment on the page
            body["recipient"] = {"comment_id": comment_id}
        elif not job.recipient:
            raise DeliveryError("no Messenger recipient to answer", permanent=True)
        else:
            body["recipient"] = {"id": job.recipient}
            window = window_state(job.conv.meta, self.rt.clock.now())
            if window is not None and window["mode"] == "tag":
                body |= {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
            elif window is not None and window["mode"] == "closed":
                raise DeliveryError(
                    "the customer last wrote more than 7 days ago; Messenger refuses replies",
                    permanent=True,
                )
            else:
                body["messaging_type"] = "RESPONSE"
            if job.files:
                base = {k: v for k, v in body.items() if k != "message"}
                parts = [partial(self._text, job, body)] if job.msg.body.strip() else []
                for row in job.files:
                    parts.append(partial(messenger_file, self.graph, job, self.timeout, base, row))
                return await self._parts(job, parts)
        data = await self._post(f"{self.graph}/me/messages", body, job.secrets.access_token)
        mid = str(data.get("message_id") or "")[:255]
        psid = str(data.get("recipient_id") or "")
        if comment_id and psid:
            await self._link_private_reply(job, psid, mid)
        return mid

    async def _text(self, job: Job, body: dict[str, Any]) -> str:
        data = await self._post(f"{self.graph}/me/messages", body, job.secrets.access_token)
        return str(data.get("message_id") or "")

    async def _link_private_reply(self, job: Job, psid: str, mid: str) -> None:
        """The commenter's Messenger id is known only now: the conversation becomes theirs, so
        their answer in Messenger continues it."""
        now = self.rt.clock.now()
        async with self.rt.db.write() as s:
            conv = await s.get(Conversation, job.conv.id)
            if conv is None:
                return
            conv.meta = {**(conv.meta or {}), "recipient": psid}
            s.add(
                ChannelEvent(
                    account_id=job.account.id,
                    external_id=f"private-reply:{mid or job.item.id}"[:255],
                    sender_id=psid[:128],
                    kind="message",
                    conversation_id=conv.id,
                    message_id=job.msg.id,
                    platform_at=now,
                    received_at=now,
                )
            )


class FacebookCommentChannel(_Adapter):
    """A public answer under the comment the conversation is about."""

    name = "facebook"

    async def deliver(self, item: Outbox) -> str:
        job = await self._job(item)
        comment_id = (job.conv.meta or {}).get("comment_id")
        if not comment_id:
            raise DeliveryError("no comment to answer", permanent=True)
        if job.files:
            raise DeliveryError("files cannot be posted under a comment", permanent=True)
        url = f"{self.graph}/{comment_id}/comments"
        data = await self._post(url, {"message": job.msg.body}, job.secrets.access_token)
        return str(data.get("id") or "")[:255]


class TelegramChannel(_Adapter):
    name = "telegram"

    async def deliver(self, item: Outbox) -> str:
        job = await self._job(item)
        if not job.recipient:
            raise DeliveryError("no Telegram chat to answer", permanent=True)
        base = self.rt.settings.telegram_api_base.rstrip("/")
        parts = [partial(self._text, job, base)] if job.msg.body.strip() or not job.files else []
        for row in job.files:
            parts.append(partial(telegram_file, base, job, self.timeout, row))
        return await self._parts(job, parts)

    async def _text(self, job: Job, base: str) -> str:
        url = f"{base}/bot{job.secrets.access_token}/sendMessage"
        data = await self._post(url, {"chat_id": job.recipient, "text": job.msg.body}, None)
        raw = data.get("result")
        result: dict[str, Any] = raw if isinstance(raw, dict) else {}
        return f"{job.recipient}:{result.get('message_id', '')}"


def messaging_channels(rt: Runtime) -> list[Any]:
    return [
        WhatsAppChannel(rt),
        MessengerChannel(rt),
        FacebookCommentChannel(rt),
        TelegramChannel(rt),
    ]
