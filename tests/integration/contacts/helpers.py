"""Helpers shared by the contacts tests."""

from __future__ import annotations

from typing import Any

from tests.support.actors import Scenario, Visitor

from tresen.security.identity import identity_hash


async def identified(sc: Scenario, user_id: str, **claim: Any) -> Visitor:
    """A visitor who identified with a valid hash (name, email, attributes in ``claim``)."""
    ident = {"id": user_id, "hash": identity_hash(sc.identity_secret, user_id), **claim}
    return await sc.visitor(identity=ident)


async def contact_of(sc: Scenario, visitor_id: int) -> int:
    r = await sc.anna.http.get(f"/api/contacts/by-visitor/{visitor_id}")
    assert r.status_code == 200, r.text
    return int(r.json()["contact_id"])
