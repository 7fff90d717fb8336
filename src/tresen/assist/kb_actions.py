"""The write path of the knowledge base (supervisors and admins), and what visitors do with it:
reading an article and saying it answered their question (a chat deflected). Every change
records an event; the suggestion index follows them (``assist.suggest``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.assist.text import render_markdown
from tresen.errors import Invalid, NotFound
from tresen.events import ArticleChanged, ArticleRead, ChatDeflected, record
from tresen.principal import Principal
from tresen.runtime import Runtime
from tresen.storage.models import KbArticle, KbCategory, KbRead, Site

Language = Literal["de", "en", "da"]
Keyword = Annotated[str, Field(min_length=1, max_length=100)]


class CategorySpec(BaseModel):
    site_id: int
    name: str = Field(min_length=1, max_length=200)
    language: Language = "en"
    position: int = Field(default=0, ge=0, le=10_000)


class CategoryPatch(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    language: Language | None = None
    position: int | None = Field(default=None, ge=0, le=10_000)


class ArticleSpec(BaseModel):
    site_id: int
    title: str = Field(min_length=1, max_length=300)
    body: str = Field(min_length=1, max_length=20_000)
    language: Language = "en"
    category_id: int | None = None
    keywords: Annotated[list[Keyword], Field(max_length=50)] = []
    published: bool = True


class ArticlePatch(BaseModel):
    title: str | None = Field(default=None, min_length=1, max_length=300)
    body: str | None = Field(default=None, min_length=1, max_length=20_000)
    language: Language | None = None
    category_id: int | None = None
    keywords: Annotated[list[Keyword], Field(max_length=50)] | None = None
    published: bool | None = None


def category_view(c: KbCategory) -> dict[str, Any]:
    return {
        "id": c.id,
        "site_id": c.site_id,
        "name": c.name,
        "language": c.language,
        "position": c.position,
    }


def article_view(a: KbArticle, *, full: bool = True) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": a.id,
        "site_id": a.site_id,
        "category_id": a.category_id,
        "language": a.language,
        "title": a.title,
        "keywords": a.keywords,
        "published": a.published,
        "updated_at": a.updated_at.isoformat(),
    }
    if full:
        view["body"] = a.body
        view["html"] = render_markdown(a.body)
    return view


async def _site(s: AsyncSession, site_id: int) -> Site:
    site = await s.get(Site, site_id)
    if site is None:
        raise NotFound(f"no site {site_id}")
    return site


async def _category(s: AsyncSession, site_id: int, category_id: int | None) -> None:
    if category_id is None:
        return
    c = await s.get(KbCategory, category_id)
    if c is None or c.site_id != site_id:
        raise Invalid(f"no category {category_id} on this site", code="bad_category")


async def list_categories(rt: Runtime, site_id: int) -> list[KbCategory]:
    async with rt.db.read() as s:
        stmt = select(KbCategory).where(KbCategory.site_id == site_id)
        return list((await s.execute(stmt.order_by(KbCategory.position, KbCategory.id))).scalars())


async def check_create_category(rt: Runtime, spec: CategorySpec) -> KbCategory:
    async with rt.db.write() as s:
        await _site(s, spec.site_id)
        c = KbCategory(**spec.model_dump(), created_at=rt.clock.now())
        s.add(c)
        await s.flush()
    return c


async def check_update_category(rt: Runtime, category_id: int, patch: CategoryPatch) -> KbCategory:
    async with rt.db.write() as s:
        c = await access_category(s, category_id)
        for key, value in patch.model_dump(exclude_none=True).items():
            setattr(c, key, value)
    return c


async def check_delete_category(rt: Runtime, category_id: int) -> None:
    """Its articles stay, without a category."""
    async with rt.db.write() as s:
        await s.delete(await access_category(s, category_id))


async def access_category(s: AsyncSession, category_id: int) -> KbCategory:
    c = await s.get(KbCategory, category_id)
    if c is None:
        raise NotFound(f"no category {category_id}")
    return c


async def list_articles(
    rt: Runtime, site_id: int, *, language: str | None = None, published_only: bool = False
) -> list[KbArticle]:
    stmt = select(KbArticle).where(KbArticle.site_id == site_id)
    if language:
        stmt = stmt.where(KbArticle.language == language)
    if published_only:
        stmt = stmt.where(KbArticle.published.is_(True))
    async with rt.db.read() as s:
        return list((await s.execute(stmt.order_by(KbArticle.title).limit(500))).scalars())


async def articles_by_ids(rt: Runtime, ids: list[int]) -> dict[int, KbArticle]:
    if not ids:
        return {}
    async with rt.db.read() as s:
        rows = (await s.execute(select(KbArticle).where(KbArticle.id.in_(ids)))).scalars()
        return {a.id: a for a in rows}


async def check_create_article(rt: Runtime, spec: ArticleSpec) -> KbArticle:
    now = rt.clock.now()
    async with rt.db.write() as s:
        await _site(s, spec.site_id)
        await _category(s, spec.site_id, spec.category_id)
        a = KbArticle(**spec.model_dump(), created_at=now, updated_at=now)
        s.add(a)
        await s.flush()
        record(s, ArticleChanged(a.id, a.site_id))
    return a


async def check_update_article(rt: Runtime, article_id: int, patch: ArticlePatch) -> KbArticle:
    async with rt.db.write() as s:
        a = await access_article(s, article_id)
        changes = patch.model_dump(exclude_unset=True)
        if "category_id" in changes:
            await _category(s, a.site_id, changes["category_id"])
        for key, value in changes.items():
            if value is not None or key == "category_id":
                setattr(a, key, value)
        a.updated_at = rt.clock.now()
        record(s, ArticleChanged(a.id, a.site_id))
    return a


async def check_delete_article(rt: Runtime, article_id: int) -> None:
    async with rt.db.write() as s:
        a = await access_article(s, article_id)
        record(s, ArticleChanged(a.id, a.site_id, deleted=True))
        await s.delete(a)


async def access_article(s: AsyncSession, article_id: int) -> KbArticle:
    a = await s.get(KbArticle, article_id)
    if a is None:
        raise NotFound(f"no article {article_id}", code="no_such_article")
    return a


async def check_read_article(rt: Runtime, who: Principal, article_id: int) -> tuple[KbArticle, int]:
    """A visitor opens a published article of their site: recorded, with the read's id."""
    async with rt.db.write() as s:
        a = await s.get(KbArticle, article_id)
        if a is None or not a.published or a.site_id != who.site_id:
            raise NotFound(f"no article {article_id}", code="no_such_article")
        read = KbRead(
            site_id=a.site_id, article_id=a.id, visitor_id=who.id, created_at=rt.clock.now()
        )
        s.add(read)
        await s.flush()
        record(s, ArticleRead(who.id, a.site_id, a.id))
    return a, read.id


async def check_answered(rt: Runtime, who: Principal, read_id: int) -> KbRead:
    """The visitor said the article they read answered their question: a chat deflected
    (recorded once per read)."""
    async with rt.db.write() as s:
        read = await s.get(KbRead, read_id)
        if read is None or read.visitor_id != who.id:
            raise NotFound(f"no read {read_id}", code="no_such_read")
        if not read.answered:
            read.answered = True
            record(s, ChatDeflected(who.id, read.site_id, read.article_id))
    return read
