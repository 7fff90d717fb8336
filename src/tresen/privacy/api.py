"""GDPR endpoints (admins): one person's archive, their erasure; a site's privacy rules."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel, Field

from tresen.auth.deps import RT, AdminDep
from tresen.contacts.actions import contact_for
from tresen.privacy.erase import check_erase
from tresen.privacy.export import person_archive
from tresen.privacy.person import person_of
from tresen.privacy.rules import Rules, check_save_rules, rules_of
from tresen.storage.audit import record_audit

router = APIRouter(tags=["privacy"])


class RulesIn(BaseModel):
    message_erasure: Literal["anonymise", "remove"] = "anonymise"
    page_view_days: int | None = Field(default=None, ge=1, le=36_500)
    conversation_days: int | None = Field(default=None, ge=1, le=36_500)


@router.get("/api/contacts/{contact_id}/gdpr-export")
async def gdpr_export(contact_id: int, rt: RT, who: AdminDep) -> Response:
    now = rt.clock.now()
    async with rt.db.read() as s:
        contact = await contact_for(s, who, contact_id)
        site_id = contact.site_id
        data = await person_archive(s, await person_of(s, contact), now)
    async with rt.db.write() as s:
        record_audit(
            s, who, "contact.gdpr_export", "contact", contact_id, now, site_id=site_id,
            detail={"bytes": len(data)},
        )  # fmt: skip
    return Response(
        data,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="contact-{contact_id}.zip"'},
    )


@router.post("/api/contacts/{contact_id}/erase")
async def erase(contact_id: int, rt: RT, who: AdminDep) -> dict[str, Any]:
    return {"erased": contact_id, **await check_erase(rt, who, contact_id)}


@router.get("/api/sites/{site_id}/privacy")
async def get_rules(site_id: int, rt: RT, who: AdminDep) -> dict[str, Any]:
    async with rt.db.read() as s:
        return (await rules_of(s, site_id)).__dict__


@router.put("/api/sites/{site_id}/privacy")
async def put_rules(site_id: int, body: RulesIn, rt: RT, who: AdminDep) -> dict[str, Any]:
    rules = Rules(body.message_erasure, body.page_view_days, body.conversation_days)
    return (await check_save_rules(rt, who, site_id, rules)).__dict__
