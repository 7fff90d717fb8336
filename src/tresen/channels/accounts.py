"""A site's messaging accounts (WhatsApp Cloud API, Messenger, Telegram): the one write path
for their settings, and how they are read. Tokens and secrets are sealed with the secret key and
never shown again (only whether one is set); each account gets its own webhook URL."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.auth.audit import record_audit, snapshot
from tresen.errors import Conflict, Invalid, NotFound
from tresen.principal import Principal
from tresen.runtime import Runtime
from tresen.security.secretbox import SecretBox
from tresen.sites.queries import access_site_by_id
from tresen.storage.models import ChannelAccount

Kind = Literal["whatsapp", "messenger", "telegram"]
PURPOSE = "channel-secret"


class AccountIn(BaseModel):
    """WhatsApp: ``external_id`` the phone number id, ``access_token`` a system user token,
    ``app_secret`` the Meta app's secret (signatures), ``verify_token`` your choice (the
    handshake). Messenger: the page id, the page token, app secret, verify token. Telegram: the
    bot token as ``access_token``, ``verify_token`` the secret token for the header (the bot id
    is taken from the token). A secret left out (``None``) keeps the stored one."""

    kind: Kind
    name: str = Field(default="", max_length=200)
    external_id: str = Field(default="", max_length=64)
    phone: str = Field(default="", max_length=32)  # WhatsApp: the number customers write to
    access_token: str | None = Field(default=None, max_length=2000)
    app_secret: str | None = Field(default=None, max_length=500)
    verify_token: str | None = Field(default=None, max_length=256)
    bot: bool = False
    enabled: bool = True


@dataclass(frozen=True)
class Secrets:
    access_token: str
    app_secret: str
    verify_token: str


def secret_box(rt: Runtime) -> SecretBox:
    return SecretBox(rt.settings.secret_key, PURPOSE)


def account_secrets(rt: Runtime, row: ChannelAccount) -> Secrets:
    """Raises ``SecretUnreadable`` (another secret key): the admin enters them again."""
    box = secret_box(rt)
    return Secrets(
        box.open(row.access_token_enc), box.open(row.app_secret_enc), box.open(row.verify_token_enc)
    )


def _external_id(data: AccountIn, stored: str | None) -> str:
    if data.kind == "telegram" and data.access_token:
        bot_id = data.access_token.partition(":")[0]
        if not bot_id.isdigit():
            raise Invalid("a Telegram bot token looks like 123456:ABC...", code="bad_token")
        return bot_id
    ident = data.external_id.strip()
    if not ident and stored:
        return stored
    if not ident.isdigit():
        raise Invalid(f"{data.kind}: the platform's numeric id is required", code="bad_id")
    return ident


async def check_save_account(
    rt: Runtime,
    site_id: int,
    data: AccountIn,
    account_id: int | None = None,
    actor: Principal | None = None,
) -> ChannelAccount:
    box, now = secret_box(rt), rt.clock.now()
    async with rt.db.write() as s:
        await access_site_by_id(s, site_id)
        if account_id is None:
            if not data.access_token:
                raise Invalid("the access token is required", code="missing_token")
            external = _external_id(data, None)
            before = None
            row = ChannelAccount(
                site_id=site_id,
                kind=data.kind,
                external_id=external,
                hook_key=secrets.token_urlsafe(18),
                updated_at=now,
            )
        else:
            row = await access_account(s, site_id, account_id)
            before = snapshot(row)
            if row.kind != data.kind:
                raise Invalid("an account's kind cannot change", code="kind_changed")
            external = _external_id(data, row.external_id)
        clash = await s.execute(
            select(ChannelAccount.id).where(
                ChannelAccount.kind == data.kind, ChannelAccount.external_id == external
            )
        )
        other = clash.scalar_one_or_none()
        if other is not None and other != row.id:
            raise Conflict(f"this {data.kind} account is connected already", code="account_exists")
        s.add(row)
        row.external_id, row.name = external, data.name.strip()
        row.phone = "".join(c for c in data.phone if c.isdigit())
        row.bot, row.enabled, row.updated_at = data.bot, data.enabled, now
        if data.access_token is not None:
            row.access_token_enc = box.seal(data.access_token.strip())
        if data.app_secret is not None:
            row.app_secret_enc = box.seal(data.app_secret.strip())
        if data.verify_token is not None:
            row.verify_token_enc = box.seal(data.verify_token.strip())
        await s.flush()
        action = "channel_account.create" if before is None else "channel_account.update"
        record_audit(s, actor, action, f"channel_account:{row.id}", before, row, at=now)
    return row


async def do_delete_account(
    rt: Runtime, site_id: int, account_id: int, actor: Principal | None = None
) -> None:
    async with rt.db.write() as s:
        row = await access_account(s, site_id, account_id)
        before = snapshot(row)
        await s.delete(row)
        target = f"channel_account:{account_id}"
        record_audit(s, actor, "channel_account.delete", target, before, at=rt.clock.now())


async def access_account(s: AsyncSession, site_id: int, account_id: int) -> ChannelAccount:
    row = await s.get(ChannelAccount, account_id)
    if row is None or row.site_id != site_id:
        raise NotFound(f"site {site_id} has no channel account {account_id}", code="no_account")
    return row


async def account_by_hook(s: AsyncSession, kind: str, hook_key: str) -> ChannelAccount | None:
    stmt = select(ChannelAccount).where(
        ChannelAccount.hook_key == hook_key, ChannelAccount.kind == kind
    )
    row = (await s.execute(stmt)).scalar_one_or_none()
    return row if row is not None and row.enabled else None


async def site_accounts(s: AsyncSession, site_id: int) -> list[ChannelAccount]:
    stmt = select(ChannelAccount).where(ChannelAccount.site_id == site_id)
    return list((await s.execute(stmt.order_by(ChannelAccount.id))).scalars())


def account_view(rt: Runtime, row: ChannelAccount) -> dict[str, Any]:
    base = rt.settings.public_url.rstrip("/")
    return {
        "id": row.id,
        "site_id": row.site_id,
        "kind": row.kind,
        "name": row.name,
        "external_id": row.external_id,
        "phone": row.phone,
        "webhook_url": f"{base}/hooks/{row.kind}/{row.hook_key}",
        "access_token_set": bool(row.access_token_enc),
        "app_secret_set": bool(row.app_secret_enc),
        "verify_token_set": bool(row.verify_token_enc),
        "bot": row.bot,
        "enabled": row.enabled,
        "updated_at": row.updated_at.isoformat(),
    }
