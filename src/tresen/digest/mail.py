"""The summary as a mail, in the reader's language (``digest/texts.py``): plain text with an
HTML alternative in which every value (site names included) is escaped, and a one-click opt-out
(RFC 8058 ``List-Unsubscribe`` and ``List-Unsubscribe-Post``, and a link in the body)."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from typing import Any

from tresen.digest.texts import words


@dataclass(frozen=True)
class DigestMessage:
    from_address: str
    from_name: str
    to: str
    message_id: str
    frequency: str  # daily | weekly
    first_day: str  # local dates of the period, inclusive
    last_day: str
    time_zone: str
    sites: list[str]
    figures: dict[str, Any]
    language: str = "en"
    unsubscribe_url: str | None = None


def _pct(value: Any) -> str:
    return "-" if value is None else f"{value * 100:.1f} %"


def _secs(value: Any) -> str:
    return "-" if value is None else f"{value:.0f} s"


def lines(figures: dict[str, Any], language: str = "en") -> list[tuple[str, str]]:
    f, w = figures, words(language)
    csat = "-" if f["csat_average"] is None else f"{f['csat_average']:.2f} / 5"
    invited = {"accepted": f["invitations_accepted"], "shown": f["invitations_shown"]}
    return [
        (w["conversations"], str(f["conversations"])),
        (w["service_level"], _pct(f["service_level"])),
        (w["first_response"], _secs(f["first_response_avg"])),
        (w["abandonment"], _pct(f["abandonment_rate"])),
        (w["csat"], w["ratings"].format(csat=csat, n=f["csat_count"])),
        (w["invitations"], w["accepted_of"].format(**invited)),
    ]


def _title(m: DigestMessage) -> str:
    w = words(m.language)
    if m.frequency == "daily":
        return w["daily"].format(day=m.first_day)
    return w["weekly"].format(first=m.first_day, last=m.last_day)


def compose(m: DigestMessage, *, date: datetime) -> EmailMessage:
    w = words(m.language)
    msg = EmailMessage()
    msg["From"] = formataddr((" ".join(m.from_name.split())[:200], m.from_address))
    msg["To"] = Address(addr_spec=m.to)
    msg["Subject"] = " ".join(_title(m).split())
    msg["Message-ID"] = m.message_id
    msg["Date"] = format_datetime(date)
    msg["Auto-Submitted"] = "auto-generated"
    if m.unsubscribe_url:
        msg["List-Unsubscribe"] = f"<{m.unsubscribe_url}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    sites = w["sites"].format(sites=", ".join(m.sites) or w["all_sites"], zone=m.time_zone)
    rows = lines(m.figures, m.language)
    plain = [_title(m), sites, ""]
    plain += [f"{label}: {value}" for label, value in rows]
    if m.unsubscribe_url:
        plain += ["", "-- ", w["why"], w["stop_text"].format(url=m.unsubscribe_url)]
    msg.set_content("\n".join(plain) + "\n")
    esc = html.escape
    cells = "".join(
        f'<tr><td style="padding:4px 12px 4px 0">{esc(label)}</td>'
        f'<td style="padding:4px 0;font-weight:bold">{esc(value)}</td></tr>'
        for label, value in rows
    )
    footer = (
        f'<p style="color:#555;font-size:12px">{esc(w["why"])} '
        f'<a href="{esc(m.unsubscribe_url, quote=True)}">{esc(w["stop"])}</a></p>'
        if m.unsubscribe_url
        else ""
    )
    msg.add_alternative(
        f'<!doctype html><html lang="{esc(m.language, quote=True)}">'
        '<body style="font-family:sans-serif">'
        f'<h1 style="font-size:18px">{esc(_title(m))}</h1>'
        f"<p>{esc(sites)}</p>"
        f'<table style="border-collapse:collapse">{cells}</table>{footer}</body></html>',
        subtype="html",
    )
    return msg
