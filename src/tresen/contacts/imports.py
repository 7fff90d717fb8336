"""``POST /api/contacts/import``: the CSV file is the body (text/csv), the column mapping a
JSON object in ``mapping``; ``dry_run=true`` checks every row and writes nothing."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Query, Request

from tresen.agents.scope import site_ids_for
from tresen.auth.deps import RT, SupervisorDep
from tresen.contacts.importer import import_contacts
from tresen.errors import Invalid, NotFound
from tresen.storage.audit import record_audit
from tresen.storage.models import Site

router = APIRouter(prefix="/api/contacts", tags=["contacts"])
MAX_IMPORT_BYTES = 32 * 1024 * 1024


@router.post("/import")
async def import_csv(
    request: Request,
    rt: RT,
    who: SupervisorDep,
    site_id: int = Query(ge=1),
    dry_run: bool = False,
    mapping: str = Query("{}", max_length=10_000),
) -> dict[str, Any]:
    try:
        columns = json.loads(mapping)
    except ValueError as exc:
        raise Invalid("mapping: a JSON object {column: field}", code="bad_mapping") from exc
    if not isinstance(columns, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in columns.items()
    ):
        raise Invalid("mapping: a JSON object {column: field}", code="bad_mapping")
    async with rt.db.read() as s:
        sites = await site_ids_for(s, who)
        if await s.get(Site, site_id) is None or (sites is not None and site_id not in sites):
            raise NotFound(f"no site {site_id}", code="no_such_site")
    data = await request.body()
    report = await import_contacts(rt, site_id, data, columns, dry_run)
    if not dry_run:
        async with rt.db.write() as s:
            record_audit(
                s,
                who,
                "contacts.import",
                "site",
                site_id,
                rt.clock.now(),
                site_id=site_id,
                detail={k: v for k, v in report.as_dict().items() if k != "errors"},
            )
    return report.as_dict()
