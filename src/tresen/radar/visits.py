"""The one write path for visits: start or resume a visitor's visit, and write it through.

A visit lives in memory on the node that serves the visitor (the engine's ``VisitorState``
with its ``Journey``); here it is read back after a navigation, a restart or a move to another
node, and written through (``do_save_visits``: each flush, and at once when the last tab
closes or the visitor says "no thanks"). A visit ends after ``visit_timeout_seconds`` without
activity; the next one starts afresh but keeps the restraint (``policy``: the last "no thanks",
the offers of the last day) and learns from the conversations whether a chat is open or when
the last one ended.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, cast
from urllib.parse import urlsplit

from sqlalchemy import Connection, Table, bindparam, func, insert, select, update

from tresen.radar.facts import TrackedEvent, VisitorFacts
from tresen.radar.journey import Journey, PageEntry
from tresen.radar.policy import VisitorState
from tresen.runtime import Runtime
from tresen.storage.models import Conversation, Visit, Visitor
from tresen.storage.prepared import OnDialect, binds

RETURNING_AFTER = 30 * 60.0
_visits = cast(Table, Visit.__table__)
_NEW_VISIT = OnDialect(  # SQLite's group commit: compiled once, run on the driver
    insert(_visits)
    .values(binds([c.key for c in _visits.c if c.key != "id"]))
    .returning(_visits.c.id),
    [_visits.c.id],
)
_END_VISIT = (
    update(_visits)
    .where(_visits.c.id == bindparam("vid"), _visits.c.ended_at.is_(None))
    .values(ended_at=_visits.c.last_seen_at)
)


def _ts(at: datetime | None) -> float | None:
    return None if at is None else at.timestamp()


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


async def do_start_visit(rt: Runtime, visitor: Visitor, *, new: bool = False) -> VisitorState:
    """The visitor's current visit (resumed if active within the timeout) or a new one.
    ``new``: the visitor was created just now (nothing of it to read back)."""
    now = rt.clock.now()
    if rt.db.is_sqlite:
        row, resume, open_chats, closed_at = await _start_grouped(rt, visitor, now, new)
    else:
        async with rt.db.write() as s:
            last = await _last_visit(s, visitor.id)
            open_chats, closed_at = await _chats(s, visitor.id)
            resume = _resumes(rt, last, now)
            if last is not None and not resume and last.ended_at is None:
                last.ended_at = last.last_seen_at
            row = last if resume and last is not None else _new_visit(visitor, last, now)
            if row.id is None:
                s.add(row)
                await s.flush()
    st = _state(row, visitor, now.timestamp(), same_visit=resume)
    st.chatting = open_chats > 0
    ended = _ts(closed_at)
    if ended is not None and (st.chat_ended_at is None or ended > st.chat_ended_at):
        st.chat_ended_at = ended
    return st


async def _start_grouped(
    rt: Runtime, visitor: Visitor, now: datetime, new: bool
) -> tuple[Visit, bool, int, datetime | None]:
    """SQLite: read without the write lock (the radar serialises a visitor's sockets; a new
    visitor has nothing to read), then end the old visit and insert the new one in the group
    commit; a resumed visit writes nothing."""
    last: Visit | None = None
    open_chats, closed_at = 0, None
    if not new:
        last, open_chats, closed_at = await rt.db.read_grouped(_read_start(visitor.id))
    resume = _resumes(rt, last, now)
    if resume and last is not None:
        return last, True, open_chats, closed_at
    row = _new_visit(visitor, last, now)
    values = {c.key: getattr(row, c.key) for c in _visits.c if c.key != "id"}  # all set
    end = last.id if last is not None and last.ended_at is None else None

    def work(conn: Connection) -> int:
        if end is not None:
            conn.execute(_END_VISIT, {"vid": end})
        return int(_NEW_VISIT.rows(conn, values)[0]["id"])

    row.id = await rt.db.write_grouped(work)
    return row, False, open_chats, closed_at


_LAST_VISIT = (
    select(_visits)
    .where(_visits.c.visitor_id == bindparam("vid"))
    .order_by(_visits.c.started_at.desc(), _visits.c.id.desc())
    .limit(1)
)
_conversations = cast(Table, Conversation.__table__)
_CHATS = select(
    func.count().filter(_conversations.c.status == "open"),
    func.max(_conversations.c.closed_at),
).where(_conversations.c.visitor_id == bindparam("vid"))


def _read_start(
    visitor_id: int,
) -> Callable[[Connection], tuple[Visit | None, int, datetime | None]]:
    """The last visit and the chats' state as one work of a grouped read (a storm of socket
    opens shares its transactions, on the loop's own SQLite connection: no thread hops)."""

    def work(c: Connection) -> tuple[Visit | None, int, datetime | None]:
        found = c.execute(_LAST_VISIT, {"vid": visitor_id}).first()
        chats = c.execute(_CHATS, {"vid": visitor_id}).one()
        last = Visit(**found._mapping) if found is not None else None
        return last, int(chats[0] or 0), chats[1]

    return work


async def _last_visit(s: Any, visitor_id: int) -> Visit | None:
    stmt = (
        select(Visit)
        .where(Visit.visitor_id == visitor_id)
        .order_by(Visit.started_at.desc(), Visit.id.desc())
        .limit(1)
    )
    return (await s.execute(stmt)).scalar_one_or_none()  # type: ignore[no-any-return]


def _resumes(rt: Runtime, last: Visit | None, now: datetime) -> bool:
    return (
        last is not None
        and last.ended_at is None
        and (now - last.last_seen_at).total_seconds() < rt.settings.visit_timeout_seconds
    )


def _new_visit(visitor: Visitor, last: Visit | None, now: datetime) -> Visit:
    return Visit(
        site_id=visitor.site_id,
        visitor_id=visitor.id,
        started_at=now,
        last_seen_at=now,
        ended_at=None,
        entry_url="",
        referrer="",
        page_count=0,
        focused_seconds=0.0,
        pages=[],
        events=[],
        offers=[],
        goals=[],
        facts={},
        policy=dict(last.policy) if last is not None else {},
    )


async def _chats(s: Any, visitor_id: int) -> tuple[int, datetime | None]:
    """How many of the visitor's chats are open (queued or with an agent), and when the last
    one was closed."""
    row = (
        await s.execute(
            select(
                func.count().filter(Conversation.status == "open"),
                func.max(Conversation.closed_at),
            ).where(Conversation.visitor_id == visitor_id)
        )
    ).one()
    return int(row[0] or 0), row[1]


def _state(row: Visit, visitor: Visitor, now: float, *, same_visit: bool) -> VisitorState:
    started = row.started_at.timestamp()
    data = row.facts or {}
    journey = Journey(
        started_at=started,
        last_seen_at=row.last_seen_at.timestamp(),
        visit_id=row.id,
        entry_url=row.entry_url,
        referrer=row.referrer,
        page_count=row.page_count,
        pages=[PageEntry.from_row(p) for p in row.pages],
        offers=list(row.offers),
        goals=list(row.goals),
        forms=[list(step) for step in data.get("forms", [])],
        views={str(k): str(v) for k, v in data.get("views", {}).items()},
    )
    facts = VisitorFacts(
        visitor.id,
        visitor.site_id,
        site_started_at=started,
        page_started_at=now,
        referrer=row.referrer,
        utm=dict(data.get("utm", {})),
        device=str(data.get("device", "desktop")),
        language=str(data.get("language", "")),
        returning=visitor.created_at.timestamp() < started - RETURNING_AFTER,
        attributes=dict(visitor.attributes) if visitor.external_id else {},
        pages_viewed=row.page_count,
        page_view=row.page_count,
        products=set(data.get("products", [])),
        form_dwell={str(k): float(v) for k, v in data.get("form_dwell", {}).items()},
    )
    for page in journey.pages:
        facts.viewed.append(urlsplit(page.url).path or "/")
    if journey.pages:
        last = journey.pages[-1]
        facts.url, facts.title = last.url, last.title
        facts.path = urlsplit(last.url).path or "/"
        facts.page_started_at = last.at
    for e in row.events:
        facts.events.append(TrackedEvent(str(e["name"]), float(e["at"]), dict(e["props"])))
    st = VisitorState(facts, journey=journey)
    st.restore(row.policy or {}, same_visit=same_visit)
    return st


def visit_values(st: VisitorState, now: float) -> dict[str, Any]:
    """The row's columns for a visit held in memory."""
    journey = st.journey
    assert journey is not None
    journey.settled(now)
    f = st.facts
    return {
        "id": journey.visit_id,
        "last_seen_at": _dt(journey.last_seen_at),
        "entry_url": journey.entry_url,
        "referrer": journey.referrer,
        "page_count": journey.page_count,
        "focused_seconds": journey.focused_seconds(now),
        "pages": [p.as_row() for p in journey.pages],
        "events": [{"name": e.name, "at": e.at, "props": e.props} for e in f.events],
        "offers": journey.offers,
        "goals": journey.goals,
        "facts": {
            "utm": f.utm,
            "device": f.device,
            "language": f.language,
            "products": sorted(f.products),
            "form_dwell": f.form_dwell,
            "forms": journey.forms,
            "views": journey.views,  # a tab's page load reported again after a restart
        },
        "policy": st.restraint(),
    }


async def do_save_visits(rt: Runtime, states: list[VisitorState]) -> None:
    """Write the visits through, in one transaction."""
    now = rt.clock.now().timestamp()
    rows = [visit_values(st, now) for st in states if st.journey and st.journey.visit_id]
    if not rows:
        return
    async with rt.db.write() as s:
        await s.execute(update(Visit), rows)  # bulk, by primary key


async def access_visits(rt: Runtime, visitor_id: int, limit: int = 20) -> list[Visit]:
    async with rt.db.read() as s:
        stmt = (
            select(Visit)
            .where(Visit.visitor_id == visitor_id)
            .order_by(Visit.started_at.desc(), Visit.id.desc())
            .limit(limit)
        )
        return list((await s.execute(stmt)).scalars())
