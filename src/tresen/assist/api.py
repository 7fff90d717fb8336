"""FAQ entries of the bot (admins): list, create, change, delete."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from tresen.agents.scope import ensure_site_visible
from tresen.assist import actions
from tresen.assist.actions import FaqPatch, FaqSpec, faq_view
from tresen.auth.deps import RT, AdminDep

router = APIRouter(prefix="/api/assist", tags=["assist"])


class FaqIn(FaqSpec):
    site_id: int


@router.get("/faq")
async def get_faq(site_id: int, rt: RT, who: AdminDep) -> list[dict[str, Any]]:
    ensure_site_visible(who.site_limit, site_id, f"no site {site_id}")  # a token's site list
    return [faq_view(e) for e in await actions.list_entries(rt, site_id)]


@router.post("/faq", status_code=201)
async def create_faq(body: FaqIn, rt: RT, who: AdminDep) -> dict[str, Any]:
    ensure_site_visible(who.site_limit, body.site_id, f"no site {body.site_id}")
    spec = FaqSpec.model_validate(body.model_dump(exclude={"site_id"}))
    return faq_view(await actions.check_create_entry(rt, body.site_id, spec))


@router.patch("/faq/{entry_id}")
async def patch_faq(entry_id: int, body: FaqPatch, rt: RT, who: AdminDep) -> dict[str, Any]:
    return faq_view(await actions.check_update_entry(rt, entry_id, body))


@router.delete("/faq/{entry_id}", status_code=204)
async def delete_faq(entry_id: int, rt: RT, who: AdminDep) -> None:
    await actions.check_delete_entry(rt, entry_id)
