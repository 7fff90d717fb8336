"""Sending one mail over SMTP (aiosmtplib), with errors sorted into "retry later" and "never"."""

from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib

from tresen.channels.base import DeliveryError
from tresen.channels.mailbox import ServerConfig


async def send_mail(conf: ServerConfig, msg: EmailMessage, timeout: float) -> None:
    if not conf.host:
        raise DeliveryError("the mailbox has no SMTP server configured", permanent=True)
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
        raise DeliveryError(f"SMTP {type(exc).__name__}: {exc}") from None
