"""Co-browsing frames on a socket: thin, like every domain's frames module. Agents that request
or watch a session join its topic ``cb:<id>`` on this connection, so the mirror follows them."""

from __future__ import annotations

from tresen.cobrowse import actions, relay
from tresen.cobrowse.codes import CODE_TTL, check_new_code
from tresen.errors import Forbidden, Invalid
from tresen.peer import Peer
from tresen.realtime.cobrowse_frames import (
    CobrowseCodeIn,
    CobrowseCodeOut,
    CobrowseCommandIn,
    CobrowseControlIn,
    CobrowseEventsIn,
    CobrowseNoticeOut,
    CobrowseOut,
    CobrowseReplyIn,
    CobrowseRequestIn,
    CobrowseResumeIn,
    CobrowseStopIn,
    CobrowseWatchIn,
)
from tresen.realtime.topics import visitor_topic


async def on_request(conn: Peer, frame: CobrowseRequestIn) -> None:
    cb = await actions.check_request(conn.rt, conn.who, frame.conversation_id)
    await conn.join(actions.session_topic(cb.id))


async def on_reply(conn: Peer, frame: CobrowseReplyIn) -> None:
    await actions.check_reply(conn.rt, conn.who, frame.session_id, frame.accept, frame.auto_follow)


async def on_stop(conn: Peer, frame: CobrowseStopIn) -> None:
    relay.forget(conn, frame.session_id)
    await actions.check_stop(conn.rt, conn.who, frame.session_id)


async def on_control(conn: Peer, frame: CobrowseControlIn) -> None:
    await actions.check_control(conn.rt, conn.who, frame.session_id, frame.granted)


async def on_watch(conn: Peer, frame: CobrowseWatchIn) -> None:
    """An agent opens the mirror; the visitor's recorder is asked for a full snapshot."""
    if conn.who.kind != "agent":
        raise Forbidden("only agents watch co-browsing sessions")
    async with conn.rt.db.read() as s:
        cb = await actions.access_session_by_id(s, conn.who, frame.session_id)
    if cb.status != "active":
        raise Invalid("the co-browsing session is not active", code="session_closed")
    await conn.join(actions.session_topic(cb.id))
    notice = CobrowseNoticeOut(
        session_id=cb.id, code="snapshot_needed", message="an agent joined the mirror"
    )
    conn.rt.bus.publish_nowait(visitor_topic(cb.visitor_id), notice.frame())


async def on_resume(conn: Peer, frame: CobrowseResumeIn) -> None:
    """A visitor's new page asks whether its session is still on; answered on this socket."""
    async with conn.rt.db.read() as s:
        cb = await actions.access_session_by_id(s, conn.who, frame.session_id)
    conn.send(
        CobrowseOut(
            session_id=cb.id,
            conversation_id=cb.conversation_id,
            status=cb.status,  # type: ignore[arg-type]
            control=cb.control,
            auto_follow=cb.auto_follow,
        ).frame()
    )


async def on_code(conn: Peer, frame: CobrowseCodeIn) -> None:
    code = await check_new_code(conn.rt, conn.who)
    conn.send(CobrowseCodeOut(code=code, expires_in=int(CODE_TTL.total_seconds())).frame())


async def on_events(conn: Peer, frame: CobrowseEventsIn) -> None:
    await relay.relay_events(conn, frame, conn.frame_bytes)


async def on_command(conn: Peer, frame: CobrowseCommandIn) -> None:
    await actions.check_command(conn.rt, conn.who, frame)
