"""Contacts from CSV: column mapping, a dry run, a per-row error report.

A column maps to ``name``, an identity kind (``email``, ``phone``, ``external_id``, ...),
``tags`` (separated by ``|``), ``consent``, ``attributes.<key>`` or ``ignore``. Columns named
like a field map to it unless the mapping says otherwise; any other column must be mapped.
A row whose identity is already known updates that contact; otherwise a contact is created.
Rows are written in batches, each its own transaction; a bad row is reported and skipped.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import String, Table, any_, func, insert, literal, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.contacts.identities import normalise
from tresen.contacts.linking import merge_attributes, union
from tresen.errors import Invalid
from tresen.events import ContactCreated, ContactUpdated, record
from tresen.runtime import Runtime
from tresen.storage.models import Contact, ContactIdentity
from tresen.storage.models.contact import CONSENT_STATES

IDENTITY_FIELDS = ("email", "phone", "external_id", "whatsapp", "messenger", "telegram")
FIELDS = ("name", *IDENTITY_FIELDS, "tags", "consent", "ignore")
MAX_CELL = 10_000
MAX_NAME = 200
MAX_ERRORS = 1000
BATCH = 500
CONTACTS: Table = Contact.__table__  # type: ignore[assignment]  # Core: no ORM work per row
IDENTITIES: Table = ContactIdentity.__table__  # type: ignore[assignment]
csv.field_size_limit(max(csv.field_size_limit(), 4 * 1024 * 1024))


@dataclass
class Row:
    number: int  # 1 = the first row after the header
    name: str | None = None
    identities: list[tuple[str, str]] = field(default_factory=list)
    attributes: dict[str, str] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    consent: str | None = None


@dataclass
class Report:
    dry_run: bool
    rows: int = 0
    created: int = 0
    updated: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    error_count: int = 0

    def error(self, row: int, column: str | None, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append({"row": row, "column": column, "error": message})

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "skipped": self.error_count,
            "error_count": self.error_count,
            "errors": self.errors,
        }


def read_csv(data: bytes) -> tuple[list[str], Iterator[list[str]]]:
    """Header and rows; UTF-8 with or without BOM; comma, semicolon or tab separated. The
    text is decoded as it is read (the file is checked to be UTF-8 first, in chunks)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for at in range(0, len(data), 1 << 20):
            decoder.decode(data[at : at + (1 << 20)])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        raise Invalid("the file is not UTF-8 text", code="bad_csv") from exc
    first = data[:65536].decode("utf-8-sig", errors="ignore").split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count)
    text = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="")
    reader = csv.reader(text, delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise Invalid("the file is empty", code="bad_csv") from None
    except csv.Error as exc:
        raise Invalid(f"unreadable header: {exc}", code="bad_csv") from exc
    return [h.strip() for h in header], reader


def plan(header: list[str], mapping: dict[str, str]) -> list[str]:
    """The target of each column; ``Invalid`` names unknown or unmapped columns."""
    problems = [f"unknown column {c!r} in the mapping" for c in mapping if c not in header]
    targets: list[str] = []
    for col in header:
        target = mapping.get(col) or (col.lower() if col.lower() in FIELDS else "")
        if not target:
            problems.append(f"column {col!r} is not mapped (map it, or to 'ignore')")
        elif target not in FIELDS and not (
            target.startswith("attributes.") and 1 < len(target) - 11 <= 64
        ):
            problems.append(f"column {col!r}: unknown field {target!r}")
        targets.append(target)
    if len(set(header)) != len(header):
        problems.append("two columns have the same name")
    if not any(t in IDENTITY_FIELDS or t == "name" for t in targets):
        problems.append("map at least one column to name or an identity (email, phone, ...)")
    if problems:
        raise Invalid("; ".join(problems), code="bad_mapping")
    return targets


def parse_row(number: int, cells: list[str], targets: list[str], report: Report) -> Row | None:
    if len(cells) != len(targets):
        report.error(number, None, f"{len(cells)} cells, the header has {len(targets)}")
        return None
    row = Row(number)
    for (
        cell,
        target,
    ) in zip(cells, targets, strict=True):
        value = cell.strip()
        if target == "ignore" or not value:
            continue
        if len(value) > MAX_CELL or (target == "name" and len(value) > MAX_NAME):
            report.error(number, target, f"value too long ({len(value)} characters)")
            return None
        try:
            if target == "name":
                row.name = value
            elif target in IDENTITY_FIELDS:
                row.identities.append((target, normalise(target, value)))
            elif target == "tags":
                row.tags = union([t.strip()[:64] for t in value.split("|") if t.strip()], [])
            elif target == "consent":
                if value.lower() not in CONSENT_STATES:
                    raise Invalid(f"consent must be one of {', '.join(CONSENT_STATES)}")
                row.consent = value.lower()
            else:
                row.attributes[target[11:]] = value
        except Invalid as exc:
            report.error(number, target, str(exc))
            return None
    if row.name is None and not row.identities:
        report.error(number, None, "no name and no identity")
        return None
    return row


async def import_contacts(
    rt: Runtime, site_id: int, data: bytes, mapping: dict[str, str], dry_run: bool
) -> Report:
    header, reader = read_csv(data)
    targets = plan(header, mapping)
    report = Report(dry_run)
    seen: dict[tuple[str, str], int] = {}
    batch: list[Row] = []
    number = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            number += 1
            report.error(number, None, f"unreadable row: {exc}")
            continue
        number += 1
        report.rows += 1
        row = parse_row(number, cells, targets, report)
        if row is None:
            continue
        dup = next((seen[k] for k in row.identities if k in seen), None)
        if dup is not None:
            report.error(number, None, f"duplicate of row {dup}")
            continue
        for k in row.identities:
            seen[k] = number
        batch.append(row)
        if len(batch) >= BATCH:
            await _apply(rt, site_id, batch, report)
            batch = []
    if batch:
        await _apply(rt, site_id, batch, report)
    return report


async def _apply(rt: Runtime, site_id: int, rows: list[Row], report: Report) -> None:
    now = rt.clock.now()
    if report.dry_run:
        async with rt.db.read() as s:
            await _write(s, site_id, rows, report, now, dry_run=True)
        return
    async with rt.db.write() as s:
        await _write(s, site_id, rows, report, now, dry_run=False)


async def _write(
    s: AsyncSession, site_id: int, rows: list[Row], report: Report, now: datetime, dry_run: bool
) -> None:
    by_kind: dict[str, set[str]] = {}
    for r in rows:
        for kind, value in r.identities:
            by_kind.setdefault(kind, set()).add(value)
    owner: dict[tuple[str, str], int] = {}
    pg = s.get_bind().dialect.name == "postgresql"
    for kind, wanted in by_kind.items():  # (site, kind, value) is the unique index
        found = await s.execute(
            select(ContactIdentity.value, ContactIdentity.contact_id).where(
                ContactIdentity.site_id == site_id,
                ContactIdentity.kind == kind,
                # one array parameter: PostgreSQL plans 500 separate ones slowly
                ContactIdentity.value == any_(literal(sorted(wanted), ARRAY(String)))
                if pg
                else ContactIdentity.value.in_(wanted),
            )
        )
        owner.update({(kind, v): c for v, c in found})
    updates: dict[int, Row] = {}
    creates: list[Row] = []
    for row in rows:
        owners = {owner[k] for k in row.identities if k in owner}
        if len(owners) > 1:
            report.error(row.number, None, "its identities belong to different contacts")
        elif owners:
            updates[owners.pop()] = row
        else:
            creates.append(row)
    report.updated += len(updates)
    report.created += len(creates)
    if dry_run:
        return
    if updates:
        contacts = await s.execute(select(Contact).where(Contact.id.in_(list(updates))))
        for contact in contacts.scalars():
            row = updates[contact.id]
            contact.name = row.name or contact.name
            contact.attributes = merge_attributes(contact.attributes, row.attributes)
            contact.tags = union(contact.tags or [], row.tags)
            if row.consent and row.consent != contact.consent:
                contact.consent, contact.consent_at = row.consent, now
            contact.updated_at = now
            record(s, ContactUpdated(contact.id, site_id, ("attributes",), "import"))
        known = {(k, v) for k, v in owner}
        new_idents = [
            {
                "contact_id": cid,
                "site_id": site_id,
                "kind": k,
                "value": v,
                "verified": False,
                "created_at": now,
            }
            for cid, row in updates.items()
            for k, v in row.identities
            if (k, v) not in known
        ]
        if new_idents:
            await s.execute(insert(IDENTITIES), new_idents)
    if creates:
        values = [
            {
                "site_id": site_id,
                "name": r.name,
                "attributes": r.attributes,
                "tags": r.tags,
                "consent": r.consent or "unknown",
                "consent_at": now if r.consent else None,
                "created_at": now,
                "updated_at": now,
            }
            for r in creates
        ]
        ids = await _insert_contacts(s, values)
        idents = [
            {
                "contact_id": cid,
                "site_id": site_id,
                "kind": k,
                "value": v,
                "verified": False,
                "created_at": now,
            }
            for cid, row in zip(ids, creates, strict=True)
            for k, v in row.identities
        ]
        if idents:
            await s.execute(insert(IDENTITIES), idents)
        record(s, *(ContactCreated(cid, site_id, "import") for cid in ids))


async def _insert_contacts(s: AsyncSession, values: list[dict[str, Any]]) -> list[int]:
    """Insert contacts, returning their ids in the order given. SQLite answers RETURNING one
    statement per row, so there the ids are assigned here: its write transactions hold the
    database's one write lock (``BEGIN IMMEDIATE``), and a rowid is max + 1 anyway."""
    if s.get_bind().dialect.name == "sqlite":
        top = (await s.execute(select(func.max(Contact.id)))).scalar_one_or_none() or 0
        ids = list(range(top + 1, top + 1 + len(values)))
        await s.execute(
            insert(CONTACTS), [{"id": i, **v} for i, v in zip(ids, values, strict=True)]
        )
        return ids
    rows = await s.execute(
        insert(Contact).returning(Contact.id, sort_by_parameter_order=True), values
    )
    return list(rows.scalars())
