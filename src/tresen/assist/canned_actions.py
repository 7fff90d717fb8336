"""Canned responses: the write path and the filling of variables.

Shared responses (``owner_id`` None) are made by supervisors and admins and seen by every agent;
personal ones belong to one agent and are seen and changed by that agent only. A shortcut is
unique among what one agent sees: their own and the shared ones.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.errors import Conflict, Forbidden, NotFound
from tresen.events import CannedChanged, record
from tresen.principal import Principal
from tresen.runtime import Runtime
from tresen.storage.models import CannedResponse, Conversation, Site, Visitor

Shortcut = Field(min_length=1, max_length=40, pattern=r"^[\w-]+$")
VARIABLE = re.compile(r"\{\{\s*(visitor|agent|site)\.(name|email)\s*\}\}", re.IGNORECASE)
FALLBACK = {
    "en": {"visitor.name": "there", "visitor.email": "your email"},
    "de": {"visitor.name": "", "visitor.email": "Ihre E-Mail-Adresse"},
    "da": {"visitor.name": "", "visitor.email": "din e-mailadresse"},
}


class CannedSpec(BaseModel):
    shortcut: str = Shortcut
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=4000)
    language: Literal["de", "en", "da"] = "en"
    shared: bool = False


class CannedPatch(BaseModel):
    shortcut: str | None = Field(default=None, min_length=1, max_length=40, pattern=r"^[\w-]+$")
    title: str | None = Field(default=None, min_length=1, max_length=200)
    body: str | None = Field(default=None, min_length=1, max_length=4000)
    language: Literal["de", "en", "da"] | None = None


def canned_view(c: CannedResponse, text: str | None = None) -> dict[str, Any]:
    view = {
        "id": c.id,
        "shortcut": c.shortcut,
        "title": c.title,
        "body": c.body,
        "language": c.language,
        "shared": c.owner_id is None,
        "owner_id": c.owner_id,
    }
    if text is not None:
        view["text"] = text
    return view


def fill(template: str, values: dict[str, str | None], language: str = "en") -> str:
    """``{{visitor.name}}``, ``{{visitor.email}}``, ``{{agent.name}}``, ``{{site.name}}`` filled
    in; an unknown value takes the language's fallback ("there"), an unknown variable stays."""

    def one(m: re.Match[str]) -> str:
        key = f"{m.group(1)}.{m.group(2)}".lower()
        value = values.get(key)
        if value:
            return value
        fallback = FALLBACK.get(language, FALLBACK["en"]).get(key)
        return m.group(0) if fallback is None else fallback

    text = VARIABLE.sub(one, template)
    return re.sub(r" +([,.!?])", r"\1", text)  # "Hallo , Anna" when the name was left out


async def conversation_values(
    s: AsyncSession, who: Principal, conv: Conversation | None
) -> dict[str, str | None]:
    values: dict[str, str | None] = {"agent.name": who.name}
    if conv is not None:
        visitor = await s.get(Visitor, conv.visitor_id)
        site = await s.get(Site, conv.site_id)
        values["visitor.name"] = visitor.name if visitor else None
        values["visitor.email"] = visitor.email if visitor else None
        values["site.name"] = site.name if site else None
    return values


def visible_to(who: Principal) -> Any:
    return or_(CannedResponse.owner_id.is_(None), CannedResponse.owner_id == who.id)


async def list_canned(s: AsyncSession, who: Principal) -> list[CannedResponse]:
    stmt = select(CannedResponse).where(visible_to(who)).order_by(CannedResponse.shortcut)
    return list((await s.execute(stmt)).scalars())


def _may_change(who: Principal, c: CannedResponse) -> None:
    if c.owner_id is None and who.role not in ("admin", "supervisor"):
        raise Forbidden("only supervisors and admins change shared canned responses")
    if c.owner_id is not None and c.owner_id != who.id:
        raise NotFound(f"no canned response {c.id}", code="no_such_canned")


async def _shortcut_free(
    s: AsyncSession, who: Principal, shortcut: str, owner_id: int | None, but: int | None = None
) -> None:
    """Unique among what the owner sees (for a shared one: among all shared ones)."""
    stmt = select(CannedResponse.id).where(CannedResponse.shortcut == shortcut)
    if owner_id is None:
        stmt = stmt.where(CannedResponse.owner_id.is_(None))
    else:
        stmt = stmt.where(visible_to(who))
    if but is not None:
        stmt = stmt.where(CannedResponse.id != but)
    if (await s.execute(stmt.limit(1))).first() is not None:
        raise Conflict(f"the shortcut /{shortcut} is taken", code="shortcut_taken")


async def check_create_canned(rt: Runtime, who: Principal, spec: CannedSpec) -> CannedResponse:
    if spec.shared and who.role not in ("admin", "supervisor"):
        raise Forbidden("only supervisors and admins make shared canned responses")
    owner = None if spec.shared else who.id
    now = rt.clock.now()
    async with rt.db.write() as s:
        await _shortcut_free(s, who, spec.shortcut, owner)
        c = CannedResponse(
            owner_id=owner,
            **spec.model_dump(exclude={"shared"}),
            created_at=now,
            updated_at=now,
        )
        s.add(c)
        await s.flush()
        record(s, CannedChanged(c.id))
    return c


async def check_update_canned(
    rt: Runtime, who: Principal, canned_id: int, patch: CannedPatch
) -> CannedResponse:
    async with rt.db.write() as s:
        c = await access_canned(s, canned_id)
        _may_change(who, c)
        if patch.shortcut is not None:
            await _shortcut_free(s, who, patch.shortcut, c.owner_id, but=c.id)
        for key, value in patch.model_dump(exclude_none=True).items():
            setattr(c, key, value)
        c.updated_at = rt.clock.now()
        record(s, CannedChanged(c.id))
    return c


async def check_delete_canned(rt: Runtime, who: Principal, canned_id: int) -> None:
    async with rt.db.write() as s:
        c = await access_canned(s, canned_id)
        _may_change(who, c)
        record(s, CannedChanged(c.id, deleted=True))
        await s.delete(c)


async def access_canned(s: AsyncSession, canned_id: int) -> CannedResponse:
    c = await s.get(CannedResponse, canned_id)
    if c is None:
        raise NotFound(f"no canned response {canned_id}", code="no_such_canned")
    return c
