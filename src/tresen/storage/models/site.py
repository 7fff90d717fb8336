from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, false
from sqlalchemy.orm import Mapped, mapped_column

from tresen.storage.models.base import Base


class Site(Base):
    """A website that embeds the widget."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    widget_key: Mapped[str] = mapped_column(String(64), unique=True)
    allowed_origins: Mapped[list[str]] = mapped_column(default=list)
    identity_secret: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]
    # The radar's restraint for this site (docs/rules.md, "Order and restraint"); {} = defaults.
    radar_policy: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Visitors may attach files in the widget (docs/attachments.md); off by default.
    visitor_uploads: Mapped[bool] = mapped_column(default=False, server_default=false())
