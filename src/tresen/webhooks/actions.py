"""The one write path for webhook subscriptions and resends (admins only, see ``api.py``).

A subscription's secret is generated here, sealed with the secret key and returned once (on
create and on rotation); after that only whether one is set shows. A target is checked against
SSRF when it is saved (an IP literal, or a name that resolves now) and again at every delivery.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.auth.audit import record_audit, snapshot
from tresen.errors import Conflict, Invalid, NotFound
from tresen.events import WebhookSubscriptionsChanged, record
from tresen.principal import Principal
from tresen.runtime import Runtime
from tresen.sites.queries import access_site_by_id
from tresen.storage.models import WebhookDelivery, WebhookSubscription
from tresen.webhooks.catalogue import EVENT_TYPES
from tresen.webhooks.ssrf import Refused, checked_address
from tresen.webhooks.worker import secret_box


class SubscriptionIn(BaseModel):
    url: str = Field(max_length=2000)
    event_types: list[str] = Field(min_length=1, max_length=len(EVENT_TYPES))
    name: str = Field(default="", max_length=200)
    site_id: int | None = None
    active: bool = True
    allow_private: bool = False


class SubscriptionPatch(BaseModel):
    url: str | None = Field(default=None, max_length=2000)
    event_types: list[str] | None = Field(default=None, min_length=1, max_length=len(EVENT_TYPES))
    name: str | None = Field(default=None, max_length=200)
    site_id: int | None = None
    all_sites: bool = False  # set site_id back to None (every site)
    active: bool | None = None
    allow_private: bool | None = None


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def check_event_types(types: list[str]) -> list[str]:
    unknown = sorted(set(types) - set(EVENT_TYPES))
    if unknown:
        raise Invalid(f"unknown event types: {', '.join(unknown)}", code="bad_event_type")
    return sorted(set(types))


async def check_target(rt: Runtime, url: str, allow_private: bool) -> str:
    """A well-formed http(s) URL whose host is not a refused address (when it resolves now;
    a name that does not resolve yet is checked again at each delivery)."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Invalid("the target must be an http:// or https:// URL", code="bad_url")
    if parts.username or parts.password:
        raise Invalid("no credentials in the target URL", code="bad_url")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise Invalid("bad port in the target URL", code="bad_url") from None
    allowed = allow_private or rt.settings.webhooks_allow_private
    try:
        await checked_address(parts.hostname, port, allow_private=allowed)
    except Refused as exc:
        if exc.permanent:
            raise Invalid(exc.message, code="target_not_allowed") from None
    return url


async def check_create(
    rt: Runtime, data: SubscriptionIn, actor: Principal | None = None
) -> tuple[WebhookSubscription, str]:
    """The new subscription and its secret (shown this once)."""
    url = await check_target(rt, data.url, data.allow_private)
    types = check_event_types(data.event_types)
    secret, now = new_secret(), rt.clock.now()
    async with rt.db.write() as s:
        if data.site_id is not None:
            await access_site_by_id(s, data.site_id)
        sub = WebhookSubscription(
            name=data.name.strip(),
            url=url,
            event_types=types,
            site_id=data.site_id,
            secret_enc=secret_box(rt.settings.secret_key).seal(secret),
            active=data.active,
            allow_private=data.allow_private,
            created_at=now,
            updated_at=now,
        )
        s.add(sub)
        await s.flush()
        record_audit(s, actor, "webhook.create", f"webhook:{sub.id}", after=sub, at=now)
        record(s, WebhookSubscriptionsChanged(sub.id))
    return sub, secret


async def check_update(
    rt: Runtime, sub_id: int, data: SubscriptionPatch, actor: Principal | None = None
) -> WebhookSubscription:
    async with rt.db.read() as s:
        current = await access_subscription(s, sub_id)
    allow = current.allow_private if data.allow_private is None else data.allow_private
    url = current.url
    if data.url is not None or not allow:  # checked before the write, not inside it
        url = await check_target(rt, data.url or current.url, allow)
    types = None if data.event_types is None else check_event_types(data.event_types)
    async with rt.db.write() as s:
        sub = await access_subscription(s, sub_id)
        before = snapshot(sub)
        sub.url, sub.allow_private = url, allow
        if types is not None:
            sub.event_types = types
        if data.name is not None:
            sub.name = data.name.strip()
        if data.all_sites:
            sub.site_id = None
        elif data.site_id is not None:
            await access_site_by_id(s, data.site_id)
            sub.site_id = data.site_id
        if data.active is not None:
            sub.active = data.active
            if data.active:
                sub.disabled_reason = None
        sub.updated_at = rt.clock.now()
        record_audit(
            s, actor, "webhook.update", f"webhook:{sub_id}", before, sub, at=sub.updated_at
        )
        record(s, WebhookSubscriptionsChanged(sub_id))
    return sub


async def check_rotate(
    rt: Runtime, sub_id: int, actor: Principal | None = None
) -> tuple[WebhookSubscription, str]:
    """A new secret, in force at once (shown this once)."""
    secret = new_secret()
    async with rt.db.write() as s:
        sub = await access_subscription(s, sub_id)
        sub.secret_enc = secret_box(rt.settings.secret_key).seal(secret)
        sub.updated_at = rt.clock.now()
        record_audit(s, actor, "webhook.rotate_secret", f"webhook:{sub_id}", at=sub.updated_at)
    return sub, secret


async def check_delete(rt: Runtime, sub_id: int, actor: Principal | None = None) -> None:
    async with rt.db.write() as s:
        sub = await access_subscription(s, sub_id)
        before = snapshot(sub)
        await s.delete(sub)
        record_audit(s, actor, "webhook.delete", f"webhook:{sub_id}", before, at=rt.clock.now())
        record(s, WebhookSubscriptionsChanged(sub_id))


async def check_resend(
    rt: Runtime, delivery_id: int, actor: Principal | None = None
) -> WebhookDelivery:
    """Send a delivery again now, same body and delivery id, with a fresh 24 h of retries."""
    now = rt.clock.now()
    async with rt.db.write() as s:
        row = await s.get(WebhookDelivery, delivery_id)
        if row is None:
            raise NotFound(f"no webhook delivery {delivery_id}")
        if row.status in ("pending", "sending"):
            raise Conflict("this delivery is still being tried", code="delivery_in_progress")
        sub = await access_subscription(s, row.subscription_id)
        if not sub.active:
            raise Conflict("switch the subscription on first", code="subscription_off")
        row.status, row.next_attempt_at, row.lease_until = "pending", now, None
        row.give_up_at = now + (row.give_up_at - row.created_at)
        row.delivered_at = None
        record_audit(s, actor, "webhook.resend", f"webhook_delivery:{delivery_id}", at=now)
    return row


async def access_subscription(s: AsyncSession, sub_id: int) -> WebhookSubscription:
    sub = await s.get(WebhookSubscription, sub_id)
    if sub is None:
        raise NotFound(f"no webhook subscription {sub_id}")
    return sub


def subscription_view(sub: WebhookSubscription) -> dict[str, Any]:
    return {
        "id": sub.id,
        "name": sub.name,
        "url": sub.url,
        "event_types": list(sub.event_types),
        "site_id": sub.site_id,
        "active": sub.active,
        "allow_private": sub.allow_private,
        "disabled_reason": sub.disabled_reason,
        "secret_set": bool(sub.secret_enc),
        "created_at": sub.created_at.isoformat(),
        "updated_at": sub.updated_at.isoformat(),
    }
