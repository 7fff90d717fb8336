"""The site's flags a visitor's widget needs with its session: visitor uploads allowed, and an
enabled WhatsApp number ("Continue on WhatsApp", docs/channels.md). Built once: a storm of new
visitors reads them once each, inside the write that creates the visitor."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, bindparam, select

from tresen.storage.models import ChannelAccount, Site


@dataclass(frozen=True, slots=True)
class WidgetFlags:
    whatsapp: bool
    uploads: bool

    @classmethod
    def of(cls, row: Any) -> WidgetFlags:
        """From ``FLAGS``'s row (None: no such site)."""
        if row is None:
            return cls(False, False)
        return cls(bool(row.whatsapp), bool(row.visitor_uploads))


def whatsapp_number(site_id: ColumnElement[Any]) -> ColumnElement[bool]:
    """EXISTS an enabled WhatsApp number of the site ``site_id``."""
    return (
        select(ChannelAccount.id)
        .where(
            ChannelAccount.site_id == site_id,
            ChannelAccount.kind == "whatsapp",
            ChannelAccount.enabled.is_(True),
            ChannelAccount.phone != "",
        )
        .exists()
    )


FLAGS = select(
    Site.visitor_uploads, whatsapp_number(bindparam("site")).label("whatsapp")
).where(Site.id == bindparam("site"))
