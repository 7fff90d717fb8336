"""The write path for co-browsing: request, consent, stop, control. Every change writes an audit
row and records its events (``CobrowseChanged``, ``CobrowseStarted``, ``CobrowseStopped``) in the
same transaction; the dispatcher hands them out after commit.

A session's mirrored events are relayed on the bus topic ``cb:<session id>`` (relay.py) and never
stored. Agents watching a session join that topic on their socket.
"""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from tresen.agents.scope import ensure_visible_to
from tresen.conversations.queries import access_conversation_by_id
from tresen.errors import Forbidden, Invalid, NotFound
from tresen.events import CobrowseChanged, CobrowseStarted, CobrowseStopped, Event, record
from tresen.principal import Principal
from tresen.realtime.cobrowse_frames import CobrowseCommandIn, CobrowseCommandOut
from tresen.realtime.topics import visitor_topic
from tresen.runtime import Runtime
from tresen.storage.models import CobrowseAudit, CobrowseSession, Conversation, Site

CONTROL_ACTIONS = frozenset({"click", "scroll", "type"})
AUDITED_COMMANDS = frozenset({"navigate", "fill", "request_control"})
# Commands that put text into a field: they go through the relay's gate on the recording
# connection (relay.Gate), which lets them through only for text fields it has seen unblocked.
FIELD_COMMANDS = frozenset({"fill", "type"})


def session_topic(session_id: int) -> str:
    return f"cb:{session_id}"


def gate_topic(session_id: int) -> str:
    """Field commands of a session, followed only by the relay's gate on the recording socket."""
    return f"cbc:{session_id}"


def audit(
    s: AsyncSession,
    cb: CobrowseSession,
    action: str,
    who: Principal | None,
    now: datetime,
    detail: str = "",
) -> None:
    s.add(
        CobrowseAudit(
            session_id=cb.id,
            conversation_id=cb.conversation_id,
            action=action,
            actor_kind=who.kind if who else "system",
            actor_id=who.id if who else None,
            detail=detail[:200],
            at=now,
        )
    )


async def access_session_by_id(
    s: AsyncSession, who: Principal, session_id: int, *, lock: bool = False
) -> CobrowseSession:
    """The session, if ``who`` may act on it: agents those of their sites, a visitor only
    their own."""
    cb = await s.get(CobrowseSession, session_id, with_for_update=lock)
    missing = f"no co-browsing session {session_id}"
    if cb is None or (who.kind == "visitor" and cb.visitor_id != who.id):
        raise NotFound(missing, code="no_such_session")
    if who.kind == "agent":
        await ensure_visible_to(s, who, cb.site_id, missing, code="no_such_session")
    return cb


async def check_request(rt: Runtime, who: Principal, conversation_id: int) -> CobrowseSession:
    """An agent asks the visitor to share their screen. Nothing is recorded until they agree."""
    if who.kind != "agent":
        raise Forbidden("only agents request co-browsing")
    now = rt.clock.now()
    async with rt.db.write() as s:
        conv = await access_conversation_by_id(s, who, conversation_id)
        cb = CobrowseSession(
            conversation_id=conv.id,
            visitor_id=conv.visitor_id,
            site_id=conv.site_id,
            agent_id=who.id,
            status="requested",
            created_at=now,
        )
        s.add(cb)
        await s.flush()
        audit(s, cb, "requested", who, now)
        record(s, *changed(cb, who.name, by="agent"))
    return cb


async def check_reply(
    rt: Runtime, who: Principal, session_id: int, accept: bool, auto_follow: bool = False
) -> CobrowseSession:
    """The visitor accepts (the session starts) or declines (nothing starts)."""
    if who.kind != "visitor":
        raise Forbidden("only the visitor answers a co-browsing request")
    now = rt.clock.now()
    async with rt.db.write() as s:
        cb = await access_session_by_id(s, who, session_id, lock=True)
        if cb.status != "requested":
            raise Invalid("this request is no longer open", code="session_closed")
        if accept:
            cb.status, cb.started_at, cb.auto_follow = "active", now, auto_follow
        else:
            cb.status, cb.ended_at = "declined", now
        audit(s, cb, "started" if accept else "declined", who, now)
        record(s, *changed(cb, None, by="visitor"))
        if accept:
            record(s, CobrowseStarted(cb.id, cb.conversation_id, cb.visitor_id, cb.agent_id, False))
    return cb


async def check_stop(rt: Runtime, who: Principal, session_id: int) -> CobrowseSession:
    """Either side ends the session; it ends at once for everyone."""
    now = rt.clock.now()
    async with rt.db.write() as s:
        cb = await access_session_by_id(s, who, session_id, lock=True)
        if cb.status in ("ended", "declined"):
            return cb
        cb.status, cb.ended_at, cb.control = "ended", now, False
        audit(s, cb, "stopped", who, now)
        record(s, *changed(cb, None, by=who.kind))
        record(s, CobrowseStopped(cb.id, cb.conversation_id, cb.visitor_id, by=who.kind))
    return cb


async def check_control(
    rt: Runtime, who: Principal, session_id: int, granted: bool
) -> CobrowseSession:
    """The visitor's second consent for remote control (clicks, scrolling, typing)."""
    if who.kind != "visitor":
        raise Forbidden("only the visitor grants control")
    now = rt.clock.now()
    async with rt.db.write() as s:
        cb = await access_session_by_id(s, who, session_id, lock=True)
        _require_active(cb)
        cb.control = granted
        audit(s, cb, "control_granted" if granted else "control_revoked", who, now)
        record(s, *changed(cb, None, by="visitor"))
    return cb


async def check_command(rt: Runtime, who: Principal, frame: CobrowseCommandIn) -> None:
    """An agent tool, checked and passed to the visitor's page (which checks again)."""
    if who.kind != "agent":
        raise Forbidden("only agents use co-browsing tools")
    audited = frame.action in AUDITED_COMMANDS
    async with rt.db.write() if audited else rt.db.read() as s:
        cb = await access_session_by_id(s, who, frame.session_id)
        _require_active(cb)
        if frame.action in CONTROL_ACTIONS and not cb.control:
            raise Forbidden("the visitor has not granted control", code="no_control")
        if frame.action in FIELD_COMMANDS and (frame.node is None or frame.value is None):
            raise Invalid(f"{frame.action} needs a field (node) and a value")
        url = frame.url
        if frame.action == "navigate":
            site = await s.get(Site, cb.site_id)
            url = check_site_url(site, frame.url or "")
        if audited:
            audit(s, cb, frame.action, who, rt.clock.now(), url or "")
    out = CobrowseCommandOut(
        session_id=cb.id,
        action=frame.action,
        node=frame.node,
        url=url,
        value=frame.value,
        x=frame.x,
        y=frame.y,
        escort=frame.escort,
        agent_name=who.name,
    )
    # A command is relayed, not stored: it goes straight to the page (field commands through
    # the relay's gate on the recording socket).
    topic = gate_topic(cb.id) if frame.action in FIELD_COMMANDS else visitor_topic(cb.visitor_id)
    rt.bus.publish_nowait(topic, out.frame())


_BROWSER_DROPS = re.compile("[\t\n\r]")
"""What a browser's URL parser removes anywhere in a URL."""


def check_site_url(site: Site | None, url: str) -> str:
    """A pushed page must be on the site: a path, or an absolute URL on an allowed origin.
    The URL is read as a browser reads it (tabs and newlines dropped, ``\\`` taken for ``/``,
    surrounding controls and spaces trimmed), so ``/\\evil.example`` is the other host it is;
    the page receives the URL in that form."""
    cleaned = _BROWSER_DROPS.sub("", url).strip("".join(map(chr, range(33)))).replace("\\", "/")
    if cleaned.startswith("/") and not cleaned.startswith("//"):
        return cleaned
    try:
        parts = urlsplit(cleaned)
        port = parts.port
    except ValueError:
        raise Invalid("not a URL", code="bad_url") from None
    scheme, host = parts.scheme.lower(), (parts.hostname or "").rstrip(".")
    default = {"http": 80, "https": 443}.get(scheme)
    origin = f"{scheme}://{host}" + (f":{port}" if port and port != default else "")
    allowed = {o.lower().rstrip("/") for o in (site.allowed_origins if site else None) or []}
    if default and not parts.username and origin in allowed:
        return cleaned
    raise Invalid("pushed pages must be on the visitor's site", code="bad_url")


def _require_active(cb: CobrowseSession) -> None:
    if cb.status != "active":
        raise Invalid("the co-browsing session is not active", code="session_closed")


def changed(cb: CobrowseSession, agent_name: str | None, *, by: str | None) -> list[Event]:
    """The event of a session's new state (recorded in the transaction that changed it)."""
    return [
        CobrowseChanged(
            session_id=cb.id,
            conversation_id=cb.conversation_id,
            visitor_id=cb.visitor_id,
            agent_id=cb.agent_id,
            status=cb.status,
            control=cb.control,
            auto_follow=cb.auto_follow,
            agent_name=agent_name,
            by=by,
        )
    ]


async def do_start_by_code(rt: Runtime, who: Principal, conv: Conversation) -> CobrowseSession:
    """A phone agent entered the visitor's support code: reading it out was the consent."""
    now = rt.clock.now()
    async with rt.db.write() as s:
        cb = CobrowseSession(
            conversation_id=conv.id,
            visitor_id=conv.visitor_id,
            site_id=conv.site_id,
            agent_id=who.id,
            status="active",
            via_code=True,
            created_at=now,
            started_at=now,
        )
        s.add(cb)
        await s.flush()
        audit(s, cb, "started", who, now, "support code")
        record(s, *changed(cb, who.name, by="agent"))
        record(s, CobrowseStarted(cb.id, cb.conversation_id, cb.visitor_id, who.id, via_code=True))
    return cb
