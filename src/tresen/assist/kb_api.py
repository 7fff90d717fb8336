"""The knowledge base over HTTP: agents read and search it, supervisors and admins edit it,
visitors search and read a site's published articles in the widget (docs/assist.md)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import func, select

from tresen.assist import kb_actions as kb
from tresen.assist.kb_actions import article_view, category_view
from tresen.assist.suggest import Suggester
from tresen.assist.text import plain_text
from tresen.auth.deps import RT, AgentDep, SupervisorDep
from tresen.errors import Forbidden, Unauthorized
from tresen.principal import Principal
from tresen.runtime import Runtime
from tresen.sites.queries import site_by_key
from tresen.storage.models import KbRead, Site
from tresen.visitors.actions import origin_allowed, visitor_from_token

router = APIRouter(tags=["knowledge base"])
Q = Annotated[str | None, Query(max_length=500)]
Lang = Annotated[str | None, Query(pattern="^(de|en|da)$")]


def get_suggester(request: Request) -> Suggester:
    return request.app.state.suggester  # type: ignore[no-any-return]


SuggesterDep = Annotated[Suggester, Depends(get_suggester)]


def _hit(a: Any, score: float | None = None) -> dict[str, Any]:
    view = article_view(a, full=False)
    view["excerpt"] = plain_text(a.body, 200)
    if score is not None:
        view["score"] = round(score, 4)
    return view


async def _search(
    rt: Runtime, sg: Suggester, site_id: int, q: str, language: str | None
) -> list[dict[str, Any]]:
    found = sg.suggest(q, site_id, None, language, limit=10, sources=("kb",))
    rows = await kb.articles_by_ids(rt, [f.item.id for f in found])
    return [_hit(rows[f.item.id], f.score) for f in found if f.item.id in rows]


# ---- agents -------------------------------------------------------------------------------


@router.get("/api/kb/sites")
async def get_sites(rt: RT, who: AgentDep) -> list[dict[str, Any]]:
    """The sites whose knowledge base an agent can read (id and name only)."""
    async with rt.db.read() as s:
        rows = (await s.execute(select(Site.id, Site.name).order_by(Site.id))).all()
    return [{"id": sid, "name": name} for sid, name in rows]


@router.get("/api/kb/categories")
async def get_categories(site_id: int, rt: RT, who: AgentDep) -> list[dict[str, Any]]:
    return [category_view(c) for c in await kb.list_categories(rt, site_id)]


@router.post("/api/kb/categories", status_code=201)
async def create_category(body: kb.CategorySpec, rt: RT, who: SupervisorDep) -> dict[str, Any]:
    return category_view(await kb.check_create_category(rt, body))


@router.patch("/api/kb/categories/{category_id}")
async def patch_category(
    category_id: int, body: kb.CategoryPatch, rt: RT, who: SupervisorDep
) -> dict[str, Any]:
    return category_view(await kb.check_update_category(rt, category_id, body))


@router.delete("/api/kb/categories/{category_id}", status_code=204)
async def delete_category(category_id: int, rt: RT, who: SupervisorDep) -> None:
    await kb.check_delete_category(rt, category_id)


@router.get("/api/kb/articles")
async def get_articles(
    site_id: int, rt: RT, sg: SuggesterDep, who: AgentDep, q: Q = None, language: Lang = None
) -> list[dict[str, Any]]:
    """Every article of the site (drafts too), or with ``q`` the published ones that match."""
    if q and q.strip():
        return await _search(rt, sg, site_id, q, language)
    return [_hit(a) for a in await kb.list_articles(rt, site_id, language=language)]


@router.get("/api/kb/articles/{article_id}")
async def get_article(article_id: int, rt: RT, who: AgentDep) -> dict[str, Any]:
    """The article, with how often visitors read it and how often it answered their question
    (chats deflected)."""
    async with rt.db.read() as s:
        view = article_view(await kb.access_article(s, article_id))
        reads = select(func.count(), func.count().filter(KbRead.answered.is_(True))).where(
            KbRead.article_id == article_id
        )
        view["reads"], view["answered"] = (await s.execute(reads)).one()
    return view


@router.post("/api/kb/articles", status_code=201)
async def create_article(body: kb.ArticleSpec, rt: RT, who: SupervisorDep) -> dict[str, Any]:
    return article_view(await kb.check_create_article(rt, body))


@router.patch("/api/kb/articles/{article_id}")
async def patch_article(
    article_id: int, body: kb.ArticlePatch, rt: RT, who: SupervisorDep
) -> dict[str, Any]:
    return article_view(await kb.check_update_article(rt, article_id, body))


@router.delete("/api/kb/articles/{article_id}", status_code=204)
async def delete_article(article_id: int, rt: RT, who: SupervisorDep) -> None:
    await kb.check_delete_article(rt, article_id)


# ---- visitors (the widget) ----------------------------------------------------------------


async def visitor_principal(rt: Runtime, request: Request, site_key: str) -> Principal:
    auth = request.headers.get("authorization", "")
    if not auth.lower().startswith("bearer "):
        raise Unauthorized(
            "send the visitor token as 'Authorization: Bearer ...'", code="bad_token"
        )
    async with rt.db.read() as s:
        site = await site_by_key(s, site_key)
    if not origin_allowed(site, request.headers.get("origin"), request.headers.get("host")):
        raise Forbidden("this origin is not allowed for the site", code="bad_origin")
    return await visitor_from_token(rt, site, auth[7:].strip())


SiteKey = Annotated[str, Query(max_length=64)]


@router.get("/api/visitor/kb")
async def visitor_search(
    site_key: SiteKey,
    request: Request,
    rt: RT,
    sg: SuggesterDep,
    q: Q = None,
    language: Lang = None,
) -> list[dict[str, Any]]:
    """Published articles matching ``q``; without it, the site's articles in the language."""
    who = await visitor_principal(rt, request, site_key)
    assert who.site_id is not None
    if q and q.strip():
        return (await _search(rt, sg, who.site_id, q, language))[:5]
    rows = await kb.list_articles(rt, who.site_id, language=language, published_only=True)
    return [_hit(a) for a in rows[:10]]


@router.post("/api/visitor/kb/{article_id}/read")
async def visitor_read(
    article_id: int, site_key: SiteKey, request: Request, rt: RT
) -> dict[str, Any]:
    """The article (sanitised HTML) for the widget; the read is recorded."""
    who = await visitor_principal(rt, request, site_key)
    article, read_id = await kb.check_read_article(rt, who, article_id)
    return {**article_view(article), "read_id": read_id}


@router.post("/api/visitor/kb/reads/{read_id}/answered")
async def visitor_answered(
    read_id: int, site_key: SiteKey, request: Request, rt: RT
) -> dict[str, Any]:
    """ "This answered my question": the chat the visitor did not need is counted."""
    who = await visitor_principal(rt, request, site_key)
    read = await kb.check_answered(rt, who, read_id)
    return {"read_id": read.id, "answered": read.answered}
