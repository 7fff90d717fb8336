"""The embedded SMTP listener (aiosmtpd) for inbound mail: direct delivery to Tresen, or
forwarding from the company's MTA. Off unless ``TRESEN_SMTP_ENABLED``; it runs on the app's
event loop. A recipient is accepted when it is a site's mailbox address (or its
``local+token@`` form); a mail is acknowledged (250) only once it is stored, refused (552) when
too large, and deferred (451) on any other trouble so the sender tries again: nothing is lost.

With ``TRESEN_SMTP_TLS_CERT``/``_KEY`` it offers STARTTLS (``TRESEN_SMTP_REQUIRE_TLS`` refuses
mail before it); with ``TRESEN_SMTP_AUTH_USER``/``_PASSWORD`` a sender must authenticate (PLAIN
or LOGIN, only inside TLS when TLS is configured), so it can face more than a private network."""

from __future__ import annotations

import asyncio
import hmac
import logging
import ssl
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from sqlalchemy import select

from tresen.channels.email_in import MailRejected
from tresen.channels.email_receive import check_receive_mail
from tresen.runtime import Runtime
from tresen.storage.models import Mailbox

log = logging.getLogger(__name__)


def base_address(address: str) -> str:
    """``support+token@shop.example`` -> ``support@shop.example``."""
    local, _, domain = address.strip().lower().rpartition("@")
    return f"{local.split('+', 1)[0]}@{domain}"


class InboundHandler:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.received = 0

    async def _site_of(self, address: str) -> int | None:
        async with self.rt.db.read() as s:
            stmt = select(Mailbox.site_id, Mailbox.from_address)
            for site_id, from_address in (await s.execute(stmt)).all():
                if from_address.lower() == base_address(address):
                    return int(site_id)
        return None

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if await self._site_of(address) is None:
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        assert isinstance(raw, bytes)
        sites = {s for a in envelope.rcpt_tos if (s := await self._site_of(a)) is not None}
        try:
            for site_id in sorted(sites):
                await check_receive_mail(self.rt, site_id, raw, envelope_to=list(envelope.rcpt_tos))
        except MailRejected as exc:
            log.info("inbound mail from %s refused: %s", envelope.mail_from, exc.message)
            return f"{exc.smtp_code} {exc.message}"
        except Exception:
            log.exception("inbound mail from %s could not be stored", envelope.mail_from)
            return "451 4.3.0 could not store the message now; try again later"
        self.received += 1
        return "250 OK stored"


class ListenerConfigError(ValueError):
    """The listener's TLS or AUTH settings are incomplete or unreadable."""


def tls_context(cert: str, key: str) -> ssl.SSLContext | None:
    if not cert and not key:
        return None
    if not (cert and key):
        raise ListenerConfigError("set both TRESEN_SMTP_TLS_CERT and TRESEN_SMTP_TLS_KEY")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise ListenerConfigError(f"SMTP TLS certificate: {exc}") from None
    return context


class PasswordCheck:
    """aiosmtpd's authenticator: one account, compared in constant time."""

    def __init__(self, user: str, password: str) -> None:
        self.user, self.password = user.encode(), password.encode()

    def __call__(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        # handled=False: aiosmtpd answers the failure (535) itself
        if mechanism not in ("LOGIN", "PLAIN") or not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        good = hmac.compare_digest(data.login, self.user) & hmac.compare_digest(
            data.password, self.password
        )
        if not good:
            log.warning("SMTP AUTH refused for %r", data.login[:64])
        return AuthResult(success=good, handled=False)


def listener_options(settings: Any) -> dict[str, Any]:
    """aiosmtpd's TLS and AUTH arguments from the settings (checked: both halves or neither)."""
    context = tls_context(settings.smtp_tls_cert, settings.smtp_tls_key)
    if settings.smtp_require_tls and context is None:
        raise ListenerConfigError("TRESEN_SMTP_REQUIRE_TLS needs a certificate and key")
    user, password = settings.smtp_auth_user, settings.smtp_auth_password
    if bool(user) != bool(password):
        raise ListenerConfigError("set both TRESEN_SMTP_AUTH_USER and TRESEN_SMTP_AUTH_PASSWORD")
    options: dict[str, Any] = {
        "tls_context": context,
        "require_starttls": bool(settings.smtp_require_tls),
        "auth_required": bool(user),
        "auth_require_tls": context is not None,
    }
    if user:
        options["authenticator"] = PasswordCheck(user, password)
    return options


class SmtpListener:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.handler = InboundHandler(rt)
        self._server: asyncio.base_events.Server | None = None

    async def start(self) -> None:
        settings = self.rt.settings
        loop = asyncio.get_running_loop()
        options = listener_options(settings)

        def protocol() -> SMTP:
            return SMTP(
                self.handler,
                data_size_limit=settings.email_max_bytes,
                enable_SMTPUTF8=True,
                decode_data=False,
                hostname="tresen",
                ident="Tresen ESMTP",
                timeout=60,
                **options,
            )

        self._server = await loop.create_server(protocol, settings.smtp_host, settings.smtp_port)
        log.info("SMTP listener on %s:%s", settings.smtp_host, settings.smtp_port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
