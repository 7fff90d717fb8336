"""The platforms' webhooks, one URL per account (``/hooks/<kind>/<hook_key>``):

- ``GET``: Meta's verification handshake (``hub.mode=subscribe``, ``hub.verify_token`` equal
  to the account's, answered with ``hub.challenge``);
- ``POST``: the signature is checked on the raw body before anything is read
  (``X-Hub-Signature-256: sha256=<HMAC of the body with the app secret>``; Telegram:
  ``X-Telegram-Bot-Api-Secret-Token``), constant-time; a wrong or missing one is 401 and
  nothing is stored. Then media are fetched and everything is stored in one transaction
  (``messaging_receive.py``); the answer is 200 once it is stored, so a platform retries what
  failed."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse

from tresen.auth.deps import RT
from tresen.channels.accounts import account_by_hook, account_secrets
from tresen.channels.messaging_in import (
    Inbound,
    messenger_items,
    telegram_items,
    whatsapp_items,
)
from tresen.channels.messaging_media import fetch_media
from tresen.channels.messaging_receive import check_receive, not_stored
from tresen.errors import Forbidden, Invalid, NotFound, Unauthorized
from tresen.runtime import Runtime
from tresen.security.secretbox import SecretUnreadable
from tresen.storage.models import ChannelAccount

router = APIRouter(tags=["channels"])
log = logging.getLogger(__name__)
META_KINDS = ("whatsapp", "messenger")


async def _account(rt: Runtime, kind: str, hook_key: str) -> ChannelAccount:
    async with rt.db.read() as s:
        account = await account_by_hook(s, kind, hook_key)
    if account is None:
        raise NotFound("no such webhook", code="no_webhook")
    return account


def _secrets(rt: Runtime, account: ChannelAccount) -> Any:
    try:
        return account_secrets(rt, account)
    except SecretUnreadable:
        log.error("channel account %s: secrets unreadable; enter them again", account.id)
        raise Unauthorized(
            "the account's secrets must be entered again", code="bad_secret"
        ) from None


def valid_signature(app_secret: str, raw: bytes, header: str | None) -> bool:
    if not app_secret or not header or not header.startswith("sha256="):
        return False
    good = hmac.new(app_secret.encode(), raw, hashlib.sha256).hexdigest()
    return hmac.compare_digest(good, header[len("sha256=") :].strip().lower())


@router.get("/hooks/{kind}/{hook_key}")
async def verify_webhook(kind: str, hook_key: str, request: Request, rt: RT) -> PlainTextResponse:
    if kind not in META_KINDS:
        raise NotFound("no such webhook", code="no_webhook")
    account = await _account(rt, kind, hook_key)
    keys = _secrets(rt, account)
    q = request.query_params
    token = q.get("hub.verify_token") or ""
    if (
        q.get("hub.mode") != "subscribe"
        or not keys.verify_token
        or not hmac.compare_digest(token.encode(), keys.verify_token.encode())
    ):
        raise Forbidden("verification failed", code="verify_failed")
    return PlainTextResponse(q.get("hub.challenge") or "")


@router.post("/hooks/{kind}/{hook_key}")
async def receive_webhook(kind: str, hook_key: str, request: Request, rt: RT) -> dict[str, Any]:
    if kind not in (*META_KINDS, "telegram"):
        raise NotFound("no such webhook", code="no_webhook")
    account = await _account(rt, kind, hook_key)
    keys = _secrets(rt, account)
    raw = await request.body()
    if kind == "telegram":
        given = request.headers.get("x-telegram-bot-api-secret-token") or ""
        if not keys.verify_token or not hmac.compare_digest(
            given.encode(), keys.verify_token.encode()
        ):
            raise Unauthorized("wrong secret token", code="bad_signature")
    elif not valid_signature(keys.app_secret, raw, request.headers.get("x-hub-signature-256")):
        raise Unauthorized("wrong or missing X-Hub-Signature-256", code="bad_signature")
    try:
        payload = json.loads(raw)
    except ValueError:
        raise Invalid("the body is not JSON", code="bad_json") from None
    items = _items(kind, payload, account)
    media = await fetch_media(rt, account, keys, await not_stored(rt, account, items))
    stored = await check_receive(rt, account, items, media)
    return {"ok": True, "stored": len(stored)}


def _items(kind: str, payload: Any, account: ChannelAccount) -> list[Inbound]:
    if kind == "whatsapp":
        return whatsapp_items(payload, account.external_id)
    if kind == "messenger":
        return messenger_items(payload, account.external_id)
    return telegram_items(payload)
