"""The write path for a site's FAQ entries (admins) and for the suggestions agents pick."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.assist.bot import site_entries
from tresen.conversations.queries import access_conversation_by_id
from tresen.errors import NotFound
from tresen.events import SuggestionPicked, record
from tresen.principal import Principal
from tresen.runtime import Runtime
from tresen.storage.models import (
    CannedResponse,
    FaqEntry,
    KbArticle,
    Message,
    Site,
    SuggestionPick,
)

Keyword = Annotated[str, Field(min_length=1, max_length=100)]


class FaqSpec(BaseModel):
    question: str = Field(min_length=1, max_length=500)
    answer: str = Field(min_length=1, max_length=4000)
    keywords: Annotated[list[Keyword], Field(max_length=50)] = []
    language: Literal["de", "en", "da"] = "en"


class FaqPatch(BaseModel):
    question: str | None = Field(default=None, min_length=1, max_length=500)
    answer: str | None = Field(default=None, min_length=1, max_length=4000)
    keywords: Annotated[list[Keyword], Field(max_length=50)] | None = None
    language: Literal["de", "en", "da"] | None = None


def faq_view(e: FaqEntry) -> dict[str, Any]:
    return {
        "id": e.id,
        "site_id": e.site_id,
        "question": e.question,
        "answer": e.answer,
        "keywords": e.keywords,
        "language": e.language,
    }


async def list_entries(rt: Runtime, site_id: int) -> list[FaqEntry]:
    async with rt.db.read() as s:
        return await site_entries(s, site_id)


async def check_create_entry(rt: Runtime, site_id: int, spec: FaqSpec) -> FaqEntry:
    now = rt.clock.now()
    async with rt.db.write() as s:
        if await s.get(Site, site_id) is None:
            raise NotFound(f"no site {site_id}")
        entry = FaqEntry(site_id=site_id, **spec.model_dump(), created_at=now, updated_at=now)
        s.add(entry)
        await s.flush()
    return entry


async def check_update_entry(rt: Runtime, entry_id: int, patch: FaqPatch) -> FaqEntry:
    async with rt.db.write() as s:
        entry = await access_entry_by_id(s, entry_id)
        for key, value in patch.model_dump(exclude_none=True).items():
            setattr(entry, key, value)
        entry.updated_at = rt.clock.now()
    return entry


async def check_delete_entry(rt: Runtime, entry_id: int) -> None:
    async with rt.db.write() as s:
        await s.delete(await access_entry_by_id(s, entry_id))


async def access_entry_by_id(s: AsyncSession, entry_id: int) -> FaqEntry:
    entry = await s.get(FaqEntry, entry_id)
    if entry is None:
        raise NotFound(f"no FAQ entry {entry_id}")
    return entry


# ---- suggestion picks ---------------------------------------------------------------------------


class PickSpec(BaseModel):
    conversation_id: int | None = None
    source: Literal["kb", "canned", "answer"]
    item_id: int


PICKED_MODELS: dict[str, type[KbArticle] | type[CannedResponse] | type[Message]] = {
    "kb": KbArticle,
    "canned": CannedResponse,
    "answer": Message,
}


async def check_record_pick(rt: Runtime, who: Principal, spec: PickSpec) -> SuggestionPick:
    """An agent inserted a suggestion: counted, it ranks that item higher from now on."""
    async with rt.db.write() as s:
        if await s.get(PICKED_MODELS[spec.source], spec.item_id) is None:
            raise NotFound(f"no {spec.source} item {spec.item_id}", code="no_such_item")
        if spec.conversation_id is not None:
            await access_conversation_by_id(s, who, spec.conversation_id)
        pick = SuggestionPick(
            agent_id=who.id,
            conversation_id=spec.conversation_id,
            source=spec.source,
            item_id=spec.item_id,
            created_at=rt.clock.now(),
        )
        s.add(pick)
        record(s, SuggestionPicked(who.id, spec.conversation_id, spec.source, spec.item_id))
    return pick
