"""The summary as a mail: plain text with an HTML alternative in which every value (site names
included) is escaped."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from typing import Any


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


def _pct(value: Any) -> str:
    return "-" if value is None else f"{value * 100:.1f} %"


def _secs(value: Any) -> str:
    return "-" if value is None else f"{value:.0f} s"


def lines(figures: dict[str, Any]) -> list[tuple[str, str]]:
    f = figures
    csat = "-" if f["csat_average"] is None else f"{f['csat_average']:.2f} / 5"
    return [
        ("Conversations", str(f["conversations"])),
        ("Service level", _pct(f["service_level"])),
        ("First response (average)", _secs(f["first_response_avg"])),
        ("Abandonment rate", _pct(f["abandonment_rate"])),
        ("Customer satisfaction", f"{csat} ({f['csat_count']} ratings)"),
        ("Invitations accepted", f"{f['invitations_accepted']} of {f['invitations_shown']} shown"),
    ]


def _title(m: DigestMessage) -> str:
    if m.frequency == "daily":
        return f"Chat summary for {m.first_day}"
    return f"Chat summary for the week {m.first_day} to {m.last_day}"


def compose(m: DigestMessage, *, date: datetime) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = formataddr((" ".join(m.from_name.split())[:200], m.from_address))
    msg["To"] = Address(addr_spec=m.to)
    msg["Subject"] = " ".join(_title(m).split())
    msg["Message-ID"] = m.message_id
    msg["Date"] = format_datetime(date)
    msg["Auto-Submitted"] = "auto-generated"
    sites = ", ".join(m.sites) or "all sites"
    rows = lines(m.figures)
    plain = [_title(m), f"Sites: {sites} (days in {m.time_zone})", ""]
    plain += [f"{label}: {value}" for label, value in rows]
    msg.set_content("\n".join(plain) + "\n")
    esc = html.escape
    cells = "".join(
        f'<tr><td style="padding:4px 12px 4px 0">{esc(label)}</td>'
        f'<td style="padding:4px 0;font-weight:bold">{esc(value)}</td></tr>'
        for label, value in rows
    )
    msg.add_alternative(
        '<!doctype html><html lang="en"><body style="font-family:sans-serif">'
        f'<h1 style="font-size:18px">{esc(_title(m))}</h1>'
        f"<p>Sites: {esc(sites)} (days in {esc(m.time_zone)})</p>"
        f'<table style="border-collapse:collapse">{cells}</table></body></html>',
        subtype="html",
    )
    return msg
