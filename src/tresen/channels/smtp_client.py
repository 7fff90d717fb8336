"""Sending one mail over SMTP (aiosmtplib), with errors sorted into "retry later" and "never".

TLS: ``tls`` is implicit TLS (port 465), ``starttls`` upgrades the connection before anything
else is said (no silent fallback to plain text when the server does not offer it). The server's
certificate is verified against the system's CAs and ``TRESEN_MAIL_CA_FILE`` unless the mailbox
says ``verify_tls: false``; a certificate that fails says so plainly."""

from __future__ import annotations

import ssl
from email.message import EmailMessage

import aiosmtplib

from tresen.channels.base import DeliveryError
from tresen.channels.mailbox import ServerConfig


def tls_context(conf: ServerConfig, ca_file: str) -> ssl.SSLContext:
    """The client's TLS context: TLS 1.2+, verified (system CAs and ``ca_file``) unless the
    mailbox turned verification off."""
    context = ssl.create_default_context()
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    if not conf.verify_tls:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def certificate_problem(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    """The certificate failure behind ``exc`` (aiosmtplib wraps it), if that is what it was."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, ssl.SSLCertVerificationError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


async def send_mail(
    conf: ServerConfig, msg: EmailMessage, timeout: float, ca_file: str = ""
) -> None:
    if not conf.host:
        raise DeliveryError("the mailbox has no SMTP server configured", permanent=True)
    secure = conf.security in ("tls", "starttls")
    try:
        await aiosmtplib.send(
            msg,
            hostname=conf.host,
            port=conf.port,
            username=conf.user or None,
            password=conf.password or None,
            use_tls=conf.security == "tls",
            start_tls=True if conf.security == "starttls" else False,
            validate_certs=conf.verify_tls,
            tls_context=tls_context(conf, ca_file) if secure else None,
            timeout=timeout,
        )
    except aiosmtplib.SMTPRecipientsRefused as exc:
        codes = [r.code for r in exc.recipients]
        detail = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
        raise DeliveryError(
            f"recipient refused: {detail}", permanent=all(500 <= c < 600 for c in codes)
        ) from None
    except aiosmtplib.SMTPResponseException as exc:
        raise DeliveryError(
            f"SMTP server said {exc.code} {exc.message}", permanent=500 <= exc.code < 600
        ) from None
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        bad = certificate_problem(exc)
        if bad is not None:
            raise DeliveryError(
                f"the TLS certificate of {conf.host} is not trusted ({bad.verify_message}): "
                "give it a certificate from a trusted CA, add its CA with TRESEN_MAIL_CA_FILE, "
                "or turn off certificate checks for this mailbox (verify_tls: false)"
            ) from None
        raise DeliveryError(f"SMTP {type(exc).__name__}: {exc}") from None
