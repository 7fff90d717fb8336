"""A site's support mailbox: the one write path for its settings, and how they are read.
Passwords are sealed with the secret key and never shown again (only whether one is set)."""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.auth.audit import record_audit
from tresen.errors import Invalid, NotFound
from tresen.events import MailboxChanged, record
from tresen.principal import Principal
from tresen.runtime import Runtime
from tresen.security.secretbox import SecretBox
from tresen.sites.queries import access_site_by_id
from tresen.storage.models import Mailbox

Security = Literal["none", "starttls", "tls"]
PURPOSE = "mailbox-password"


class MailboxIn(BaseModel):
    """Settings an admin gives; a password left out (``None``) keeps the stored one."""

    from_address: str = Field(max_length=320)
    from_name: str = Field(default="", max_length=200)
    smtp_host: str = Field(default="", max_length=255)
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_security: Security = "starttls"
    smtp_user: str = Field(default="", max_length=320)
    smtp_password: str | None = Field(default=None, max_length=1000)
    imap_host: str = Field(default="", max_length=255)
    imap_port: int = Field(default=993, ge=1, le=65535)
    imap_security: Security = "tls"
    imap_user: str = Field(default="", max_length=320)
    imap_password: str | None = Field(default=None, max_length=1000)
    imap_folder: str = Field(default="INBOX", max_length=200)
    verify_tls: bool = True


@dataclass(frozen=True)
class ServerConfig:
    host: str
    port: int
    security: str
    user: str
    password: str
    verify_tls: bool


def secret_box(rt: Runtime) -> SecretBox:
    return SecretBox(rt.settings.secret_key, PURPOSE)


def check_address(address: str) -> str:
    _, parsed = parseaddr(address.strip())
    local, _, domain = parsed.rpartition("@")
    if (
        not local
        or "." not in domain
        or parsed != address.strip()
        or any(c in parsed for c in " <>")
    ):
        raise Invalid(f"not an email address: {address!r}", code="bad_address")
    return parsed


async def check_save_mailbox(
    rt: Runtime, site_id: int, data: MailboxIn, *, actor: Principal | None = None
) -> Mailbox:
    from_address = check_address(data.from_address)
    box = secret_box(rt)
    async with rt.db.write() as s:
        await access_site_by_id(s, site_id)
        row = await find_mailbox(s, site_id)
        before = None if row is None else mailbox_view(row)
        if row is None:
            row = Mailbox(site_id=site_id, updated_at=rt.clock.now())
            s.add(row)
        fields = data.model_dump(exclude={"smtp_password", "imap_password", "from_address"})
        for name, value in fields.items():
            setattr(row, name, value.strip() if isinstance(value, str) else value)
        row.from_address, row.updated_at = from_address, rt.clock.now()
        if data.smtp_password is not None:
            row.smtp_password_enc = box.seal(data.smtp_password)
        if data.imap_password is not None:
            row.imap_password_enc = box.seal(data.imap_password)
        record(s, MailboxChanged(site_id))
        record_audit(
            s,
            actor,
            "mailbox.update",
            f"site:{site_id}",
            before,
            mailbox_view(row),
            at=rt.clock.now(),
        )
    return row


async def find_mailbox(s: AsyncSession, site_id: int) -> Mailbox | None:
    stmt = select(Mailbox).where(Mailbox.site_id == site_id)
    return (await s.execute(stmt)).scalar_one_or_none()


async def access_mailbox_by_site(s: AsyncSession, site_id: int) -> Mailbox:
    row = await find_mailbox(s, site_id)
    if row is None:
        raise NotFound(f"site {site_id} has no mailbox", code="no_mailbox")
    return row


def mailbox_view(row: Mailbox) -> dict[str, Any]:
    return {
        "site_id": row.site_id,
        "from_address": row.from_address,
        "from_name": row.from_name,
        "smtp_host": row.smtp_host,
        "smtp_port": row.smtp_port,
        "smtp_security": row.smtp_security,
        "smtp_user": row.smtp_user,
        "smtp_password_set": bool(row.smtp_password_enc),
        "imap_host": row.imap_host,
        "imap_port": row.imap_port,
        "imap_security": row.imap_security,
        "imap_user": row.imap_user,
        "imap_password_set": bool(row.imap_password_enc),
        "imap_folder": row.imap_folder,
        "imap_uidvalidity": row.imap_uidvalidity,
        "imap_last_uid": row.imap_last_uid,
        # the node reading it (one at a time) and until when its lease runs
        "imap_reader": row.imap_reader,
        "imap_lease_until": row.imap_lease_until.isoformat() if row.imap_lease_until else None,
        "verify_tls": row.verify_tls,
        "updated_at": row.updated_at.isoformat(),
    }


def smtp_config(rt: Runtime, row: Mailbox) -> ServerConfig:
    password = secret_box(rt).open(row.smtp_password_enc)
    return ServerConfig(
        row.smtp_host, row.smtp_port, row.smtp_security, row.smtp_user, password, row.verify_tls
    )


def imap_config(rt: Runtime, row: Mailbox) -> ServerConfig:
    password = secret_box(rt).open(row.imap_password_enc)
    return ServerConfig(
        row.imap_host, row.imap_port, row.imap_security, row.imap_user, password, row.verify_tls
    )


async def do_save_imap_cursor(
    rt: Runtime, site_id: int, uidvalidity: int, last_uid: int, reader: str | None = None
) -> bool:
    """Where IMAP reading stands: every UID up to ``last_uid`` of this UIDVALIDITY is stored.
    With ``reader``, only while that node still holds the mailbox's lease (False otherwise:
    another node took over and its cursor counts)."""
    async with rt.db.write() as s:
        row = await access_mailbox_by_site(s, site_id)
        if reader is not None and row.imap_reader != reader:
            return False
        row.imap_uidvalidity, row.imap_last_uid = uidvalidity, last_uid
        return True
