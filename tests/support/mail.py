"""Real mail servers on loopback for tests: aiosmtpd as the receiving MTA of outbound mail (a
sink that can be told to refuse), and helpers to send mail to Tresen's own SMTP listener."""

from __future__ import annotations

import ssl
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.support.services import free_port


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    tls: bool = False  # the mail came over an encrypted connection

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.data, policy=policy.default)  # type: ignore[return-value]


@dataclass
class _Handler:
    received: list[Received] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)
    refuse: str | None = None  # an SMTP reply for DATA instead of 250 ("451 ...", "550 ...")
    arrived: threading.Condition = field(default_factory=threading.Condition)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse:
            return self.refuse
        with self.arrived:
            self.received.append(
                Received(
                    envelope.mail_from,
                    list(envelope.rcpt_tos),
                    envelope.content,
                    # STARTTLS sets session.ssl; implicit TLS only shows on the transport
                    session.ssl is not None
                    or server.transport.get_extra_info("ssl_object") is not None,
                )
            )
            self.arrived.notify_all()
        return "250 OK queued"


SMTP_USER, SMTP_PASSWORD = "support@shop.example", "s3cret-smtp-pw"
"""The login of the shop's mailbox at the ``MailSink`` the channel tests send through."""


class MailSink:
    """An SMTP server (aiosmtpd, in its own thread) that keeps what it receives. With
    ``user``/``password`` it offers AUTH and records the logins: over plain text (loopback only)
    without TLS, only inside TLS with it. ``tls``: ``"starttls"`` (offered and required before
    mail or AUTH) or ``"tls"`` (implicit TLS, as on port 465) with ``cert``/``key`` (PEM)."""

    def __init__(
        self,
        user: str | None = None,
        password: str | None = None,
        *,
        tls: str | None = None,
        cert: str | None = None,
        key: str | None = None,
    ) -> None:
        self.port = free_port()
        self.handler = _Handler()
        self.user, self.password = user, password
        kw: dict[str, Any] = {}
        if user is not None:
            # (aiosmtpd counts only STARTTLS as TLS for AUTH; implicit TLS is TLS throughout)
            kw = dict(authenticator=self._auth, auth_require_tls=tls == "starttls")
        if tls is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(str(cert), str(key))
            if tls == "starttls":
                kw.update(tls_context=context, require_starttls=True)
            else:
                kw.update(ssl_context=context)
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **kw)

    def _auth(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        if isinstance(data, LoginPassword):
            user, password = data.login.decode(), data.password.decode()
            self.handler.logins.append((user, password))
            ok = (user, password) == (self.user, self.password)
            # handled=False: aiosmtpd answers a refusal with 535 (it says nothing otherwise)
            return AuthResult(success=ok, handled=False)
        return AuthResult(success=False, handled=False)

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def refuse(self, reply: str | None) -> None:
        self.handler.refuse = reply

    def start(self) -> MailSink:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()


class DovecotMTA:
    """The receiving MTA in front of a Dovecot: aiosmtpd that files each mail into the
    Dovecot mailbox of every recipient (``local+tag@`` into ``local@``)."""

    def __init__(self, dovecot: Any) -> None:
        self.dovecot = dovecot
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if _base(address) not in self.dovecot.users:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        for rcpt in envelope.rcpt_tos:
            self.dovecot.deliver(envelope.content, user=_base(rcpt))
        return "250 OK delivered"

    def start(self) -> DovecotMTA:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()


def _base(address: str) -> str:
    local, _, domain = address.lower().rpartition("@")
    return f"{local.split('+', 1)[0]}@{domain}"
