"""Re-engagement and timer settings per site and skill, and the texts the visitor reads
(German, English, Danish)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Connection, TableClause, select
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.auth.audit import record_audit, snapshot
from tresen.errors import Invalid
from tresen.principal import Principal
from tresen.runtime import Runtime
from tresen.sites.queries import access_site_by_id
from tresen.storage.models import LifecycleSettings

LANGS = ("de", "en", "da")
SCALES = ("stars", "thumbs")

TEXTS: dict[str, dict[str, str]] = {
    "nudge": {
        "de": "Sind Sie noch da? Schreiben Sie einfach, wenn Sie noch Fragen haben.",
        "en": "Are you still there? Just write if you have any more questions.",
        "da": "Er du der stadig? Skriv bare, hvis du har flere spørgsmål.",
    },
    "closing": {
        "de": "Wir haben den Chat beendet, weil wir länger nichts von Ihnen gehört haben. "
        "Schreiben Sie einfach wieder, wenn Sie Hilfe brauchen.",
        "en": "We closed this chat as we have not heard from you for a while. "
        "Just write again whenever you need help.",
        "da": "Vi har afsluttet chatten, fordi vi ikke har hørt fra dig et stykke tid. "
        "Skriv bare igen, når du har brug for hjælp.",
    },
    "ended": {
        "de": "Der Chat wurde beendet. Danke für Ihre Nachricht!",
        "en": "The chat has ended. Thank you for getting in touch!",
        "da": "Chatten er afsluttet. Tak for din henvendelse!",
    },
    "ended_by_visitor": {  # the agent's line (internal) when the visitor ended the chat
        "de": "Der Besucher hat den Chat beendet.",
        "en": "The visitor ended the chat.",
        "da": "Den besøgende har afsluttet chatten.",
    },
    "rate_mail": {
        "de": "Wir haben Ihre Anfrage abgeschlossen. Wie zufrieden waren Sie mit unserer Antwort? "
        "Bewerten Sie sie hier: {link}",
        "en": "We have closed your request. How happy were you with our answer? "
        "Rate it here: {link}",
        "da": "Vi har afsluttet din henvendelse. Hvor tilfreds var du med vores svar? "
        "Bedøm det her: {link}",
    },
    "takes_over": {
        "de": "{name} übernimmt den Chat.",
        "en": "{name} takes over the chat.",
        "da": "{name} overtager chatten.",
    },
}


def text(key: str, lang: str, **values: str) -> str:
    return TEXTS[key].get(lang, TEXTS[key]["en"]).format(**values)


@dataclass(frozen=True)
class Timers:
    """The effective settings of one chat (its skill's row, else the site's, else defaults)."""

    silent_after_seconds: int = 120
    auto_nudge: bool = False
    close_after_minutes: int = 10
    wait_highlight_seconds: int = 20
    nudge_texts: dict[str, str] = field(default_factory=dict)
    closing_texts: dict[str, str] = field(default_factory=dict)
    rating_scale: str = "stars"

    def nudge(self, lang: str) -> str:
        return self.nudge_texts.get(lang) or text("nudge", lang)

    def closing(self, lang: str) -> str:
        return self.closing_texts.get(lang) or text("closing", lang)

    @classmethod
    def of(cls, row: LifecycleSettings) -> Timers:
        return cls(
            silent_after_seconds=row.silent_after_seconds,
            auto_nudge=row.auto_nudge,
            close_after_minutes=row.close_after_minutes,
            wait_highlight_seconds=row.wait_highlight_seconds,
            nudge_texts=dict(row.nudge_texts or {}),
            closing_texts=dict(row.closing_texts or {}),
            rating_scale=row.rating_scale,
        )


DEFAULTS = Timers()


class Table:
    """Every site's and skill's settings, read once (per timer pass)."""

    def __init__(self, rows: Sequence[Any]) -> None:
        """``rows``: ``LifecycleSettings`` rows, as objects or as Core rows."""
        self._rows = {(r.site_id, r.skill): Timers.of(r) for r in rows}

    def get(self, site_id: int, skill: str | None) -> Timers:
        return self._rows.get((site_id, skill or "")) or self._rows.get((site_id, "")) or DEFAULTS


_ALL = select(cast(TableClause, LifecycleSettings.__table__))


def read_table(conn: Connection) -> Table:
    """Every site's and skill's settings (the timer pass's grouped read)."""
    return Table(conn.execute(_ALL).all())


async def timers_for(s: AsyncSession, site_id: int, skill: str | None) -> Timers:
    stmt = select(LifecycleSettings).where(
        LifecycleSettings.site_id == site_id, LifecycleSettings.skill.in_(["", skill or ""])
    )
    return Table(list((await s.execute(stmt)).scalars())).get(site_id, skill)


def settings_view(site_id: int, skill: str, t: Timers, stored: bool) -> dict[str, Any]:
    return {
        "site_id": site_id,
        "skill": skill,
        "stored": stored,
        "silent_after_seconds": t.silent_after_seconds,
        "auto_nudge": t.auto_nudge,
        "close_after_minutes": t.close_after_minutes,
        "wait_highlight_seconds": t.wait_highlight_seconds,
        "nudge_texts": {lang: t.nudge(lang) for lang in LANGS},
        "closing_texts": {lang: t.closing(lang) for lang in LANGS},
        "rating_scale": t.rating_scale,
    }


def _texts(values: dict[str, str]) -> dict[str, str]:
    out = {}
    for lang, value in values.items():
        if lang not in LANGS:
            raise Invalid(f"texts: languages are {', '.join(LANGS)}", code="bad_language")
        if value.strip():
            out[lang] = value.strip()[:1000]
    return out


async def check_save_settings(
    rt: Runtime, site_id: int, skill: str, values: dict[str, Any], actor: Principal | None = None
) -> LifecycleSettings:
    """Create or change a site's (``skill`` "") or a skill's settings."""
    if values.get("rating_scale", "stars") not in SCALES:
        raise Invalid("rating_scale: stars or thumbs", code="bad_scale")
    async with rt.db.write() as s:
        await access_site_by_id(s, site_id)
        stmt = select(LifecycleSettings).where(
            LifecycleSettings.site_id == site_id, LifecycleSettings.skill == skill
        )
        row = (await s.execute(stmt)).scalar_one_or_none()
        before = None if row is None else snapshot(row)
        if row is None:
            row = LifecycleSettings(
                site_id=site_id,
                skill=skill,
                nudge_texts={},
                closing_texts={},
                updated_at=rt.clock.now(),
            )
            s.add(row)
        for name, value in values.items():
            if name in ("nudge_texts", "closing_texts"):
                value = _texts(value)
            setattr(row, name, value)
        row.updated_at = rt.clock.now()
        await s.flush()
        target = f"lifecycle:{site_id}" + (f":{skill}" if skill else "")
        record_audit(s, actor, "lifecycle.save", target, before, row, at=row.updated_at)
    return row
