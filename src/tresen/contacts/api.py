"""``/api/contacts``: list and search, detail, create, update, identities, notes, tags, merge,
split (docs/contacts.md)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from tresen.agents.scope import site_ids_for
from tresen.auth.deps import RT, AgentDep
from tresen.contacts.actions import (
    ContactChanges,
    check_add_note,
    check_create_contact,
    check_merge,
    check_split,
    check_update_contact,
    contact_for,
)
from tresen.contacts.linking import contact_id_of_visitor
from tresen.contacts.queries import contact_detail, list_contacts
from tresen.errors import NotFound
from tresen.storage.models import Visitor

router = APIRouter(prefix="/api/contacts", tags=["contacts"])

Kind = Literal["email", "phone", "whatsapp", "messenger", "telegram", "external_id"]
Attributes = dict[str, str | int | float | bool | None]


class IdentityIn(BaseModel):
    kind: Kind
    value: str = Field(min_length=1, max_length=320)
    verified: bool = False


class ContactIn(BaseModel):
    name: str | None = Field(default=None, max_length=200)
    attributes: Attributes | None = Field(default=None, max_length=100)
    tags: list[str] | None = Field(default=None, max_length=50)
    consent: Literal["unknown", "granted", "denied", "withdrawn"] | None = None


class CreateIn(ContactIn):
    site_id: int = Field(ge=1)
    identities: list[IdentityIn] = Field(default_factory=list, max_length=20)


class UpdateIn(ContactIn):
    add_tags: list[str] = Field(default_factory=list, max_length=50)
    remove_tags: list[str] = Field(default_factory=list, max_length=50)
    add_identities: list[IdentityIn] = Field(default_factory=list, max_length=20)
    remove_identities: list[int] = Field(default_factory=list, max_length=20)


class MergeIn(BaseModel):
    other_id: int = Field(ge=1)


class SplitIn(BaseModel):
    identity_ids: list[int] = Field(min_length=1, max_length=100)


class NoteIn(BaseModel):
    body: str = Field(min_length=1, max_length=10_000)


def _changes(body: ContactIn, identities: list[IdentityIn]) -> ContactChanges:
    return ContactChanges(
        name=body.name,
        attributes=body.attributes,
        tags=body.tags,
        consent=body.consent,
        add_identities=[(i.kind, i.value, i.verified) for i in identities],
    )


@router.get("")
async def contacts(
    rt: RT,
    who: AgentDep,
    q: str | None = Query(None, max_length=200),
    tag: str | None = Query(None, max_length=64),
    site_id: int | None = Query(None, ge=1),
    before: int | None = Query(None, ge=1),
    limit: int = Query(50, ge=1, le=200),
) -> dict[str, Any]:
    async with rt.db.read() as s:
        sites = await site_ids_for(s, who)
        return await list_contacts(
            s, sites, site_id=site_id, q=q, tag=tag, before_id=before, limit=limit
        )


@router.post("", status_code=201)
async def create(body: CreateIn, rt: RT, who: AgentDep) -> dict[str, Any]:
    cid = await check_create_contact(rt, who, body.site_id, _changes(body, body.identities))
    return await detail(cid, rt, who)


@router.get("/by-visitor/{visitor_id}")
async def by_visitor(visitor_id: int, rt: RT, who: AgentDep) -> dict[str, Any]:
    async with rt.db.read() as s:
        cid = await contact_id_of_visitor(s, visitor_id)
        if cid is None or await s.get(Visitor, visitor_id) is None:
            raise NotFound(f"no contact for visitor {visitor_id}", code="no_such_contact")
        await contact_for(s, who, cid)
    return {"contact_id": cid}


@router.get("/{contact_id}")
async def detail(contact_id: int, rt: RT, who: AgentDep) -> dict[str, Any]:
    async with rt.db.read() as s:
        return await contact_detail(s, await contact_for(s, who, contact_id))


@router.patch("/{contact_id}")
async def patch(contact_id: int, body: UpdateIn, rt: RT, who: AgentDep) -> dict[str, Any]:
    changes = _changes(body, body.add_identities)
    changes.add_tags, changes.remove_tags = body.add_tags, body.remove_tags
    changes.remove_identities = body.remove_identities
    await check_update_contact(rt, who, contact_id, changes)
    return await detail(contact_id, rt, who)


@router.post("/{contact_id}/notes", status_code=201)
async def add_note(contact_id: int, body: NoteIn, rt: RT, who: AgentDep) -> dict[str, Any]:
    await check_add_note(rt, who, contact_id, body.body)
    return await detail(contact_id, rt, who)


@router.post("/{contact_id}/merge")
async def merge(contact_id: int, body: MergeIn, rt: RT, who: AgentDep) -> dict[str, Any]:
    """``other_id`` is folded into this contact and disappears."""
    await check_merge(rt, who, contact_id, body.other_id)
    return await detail(contact_id, rt, who)


@router.post("/{contact_id}/split", status_code=201)
async def split(contact_id: int, body: SplitIn, rt: RT, who: AgentDep) -> dict[str, Any]:
    new_id = await check_split(rt, who, contact_id, body.identity_ids)
    return await detail(new_id, rt, who)
