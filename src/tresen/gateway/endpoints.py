"""WebSocket endpoints: authenticate, join the principal's topics, run the connection.

``/ws/visitor?site=KEY&token=T`` — Origin must be on the site's allowlist.
``/ws/visitor?site=KEY&session=1[&token=T]`` — the same, and the visitor's session is opened on
                                   the handshake (a new visitor without a token, or the
                                   token's): ``welcome`` carries what ``POST
                                   /api/visitor/session`` answers (``visitors/session.py``).
``/ws/agent?ticket=T``           — a short-lived ticket from ``POST /api/auth/ws-ticket``;
                                   Origin, if sent, must be this server's own.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketState

from tresen.agents.scope import site_ids_for
from tresen.auth.sessions import agent_from_ticket
from tresen.errors import Forbidden, RateLimited, TresenError, Unauthorized
from tresen.gateway.connection import Connection
from tresen.gateway.frames import FrameRouter
from tresen.principal import Principal
from tresen.realtime.protocol import PingOut, WelcomeOut, error_frame
from tresen.realtime.topics import (
    INBOX_TOPIC,
    agent_topic,
    inbox_topic,
    site_topics,
    visitor_topic,
)
from tresen.runtime import Runtime
from tresen.scheduler import Repeating
from tresen.storage.models import Visitor
from tresen.visitors.actions import check_open_visitor_session, socket_visitor
from tresen.visitors.session import session_reply

log = logging.getLogger(__name__)
router = APIRouter()
CLOSE_RESTART = 1012  # "service restart": reconnect at once (another node, or this one again)
CLOSE_AUTH = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_RATE_LIMITED = 4429  # too many new visitors from this address: retry after a while
SWEEP_SLICES = 25
"""The sweep's work is spread over the heartbeat period: every ``heartbeat_seconds /
SWEEP_SLICES`` one slice of the connections is pinged (each connection still once a period).
One pass over every socket was one loop turn of about 4 us a socket (20 ms for 5,000, 200 ms
for 50,000), and the pongs of widgets came back all at once."""


class Gateway:
    """Holds this process's connections and sweeps them: pings, idle timeouts."""

    def __init__(self, rt: Runtime, router: FrameRouter) -> None:
        self.rt = rt
        self.router = router
        self.connections: set[Connection] = set()
        self._slices: list[set[Connection]] = [set() for _ in range(SWEEP_SLICES)]
        self._joined = 0  # connections are dealt to the slices in turn
        self._turn = 0  # the slice the sweeper takes next
        self._sweeper: Repeating | None = None

    def start(self) -> None:
        every = self.rt.settings.heartbeat_seconds / SWEEP_SLICES
        self._sweeper = Repeating(self.rt.scheduler, self.rt.clock, every, self.sweep_slice)
        self.rt.bus.reconnected.append(self.catch_up)

    def catch_up(self) -> None:
        """The bus came back: every socket fills its tracked conversations from the database."""
        for conn in list(self.connections):
            conn.catch_up()

    async def stop(self) -> None:
        """Every socket still open is told to reconnect elsewhere at once. (Under ``tresen
        serve``, uvicorn has already sent the same 1012 to each when SIGTERM came.)"""
        if self._sweeper:
            self._sweeper.cancel()
        for conn in list(self.connections):
            conn.close(CLOSE_RESTART, "server restarting")

    async def serve(
        self,
        ws: WebSocket,
        who: Principal,
        topics: list[str],
        tab: str = "",
        sites: frozenset[int] | None = None,
        session: dict[str, Any] | None = None,
    ) -> None:
        conn = Connection(ws, who, self.rt, self.router)
        conn.tab = tab
        conn.sites = sites
        self.connections.add(conn)
        bucket = self._slices[self._joined % SWEEP_SLICES]
        self._joined += 1
        bucket.add(conn)
        try:
            for topic in topics:
                await self.rt.hub.join(topic, conn)
            conn.send(
                WelcomeOut(
                    node=self.rt.settings.node_name,
                    principal=who.as_dict(),
                    heartbeat_seconds=self.rt.settings.heartbeat_seconds,
                    max_message_chars=self.rt.settings.max_message_chars,
                    session=session,
                ).frame()
            )
            conn.write_queued()  # now: with the handshake's answer, if that waits (lean_socket)
            session = None  # sent: not kept while the socket lives
            await conn.run()
        except Exception as exc:
            if not _is_disconnect(exc):
                log.exception("connection failed")
        finally:
            conn.closed = True
            self.connections.discard(conn)
            bucket.discard(conn)
            for topic in [*topics, *conn.topics]:
                await self.rt.hub.leave(topic, conn)

    def sweep_slice(self) -> None:
        """The sweeper's tick: the next slice of the connections."""
        bucket, self._turn = self._slices[self._turn], (self._turn + 1) % SWEEP_SLICES
        self._sweep(bucket)

    def sweep(self) -> None:
        """Every connection at once."""
        self._sweep(self.connections)

    def _sweep(self, connections: set[Connection]) -> None:
        """Close connections silent for longer than the idle timeout; ping the others."""
        now = self.rt.clock.monotonic()
        ping = PingOut().frame()
        for conn in list(connections):
            if now - conn.last_recv > self.rt.settings.idle_timeout_seconds:
                conn.close(4000, "idle timeout")
            else:
                conn.send(ping)


def _is_disconnect(exc: Exception) -> bool:
    return type(exc).__name__ in {"WebSocketDisconnect", "ConnectionClosed", "ClientDisconnected"}


async def _refuse(ws: WebSocket, exc: TresenError) -> None:
    log.info("refused websocket: %s (%s)", exc.code, exc.message)
    if ws.application_state == WebSocketState.CONNECTING:
        await ws.accept()  # the error frame and the close code need an open socket
    await ws.send_text(error_frame(exc.code, exc.message))
    await ws.close(_close_code(exc), exc.code)


def _close_code(exc: TresenError) -> int:
    if isinstance(exc, Forbidden):
        return CLOSE_FORBIDDEN
    return CLOSE_RATE_LIMITED if isinstance(exc, RateLimited) else CLOSE_AUTH


def _tab_id(given: str) -> str:
    """The browser tab the socket belongs to (the widget keeps it per tab); a socket that names
    none is a tab of its own."""
    if given and len(given) <= 40 and given.replace("-", "").replace("_", "").isalnum():
        return given
    return "s-" + secrets.token_hex(6)


@router.websocket("/ws/visitor")
async def visitor_socket(ws: WebSocket) -> None:
    """The handshake is answered once the visitor is known and its visit started, just before
    the ``welcome``: with the lean protocol both go out in one write (``lean_socket.py``)."""
    rt: Runtime = ws.app.state.rt
    # The session for the welcome, given away by pop(): not kept for the socket's lifetime.
    session: list[dict[str, Any]] = []
    new = False
    try:
        if ws.query_params.get("session") == "1":
            who, visitor, new = await _session_of(rt, ws, session)
        else:
            who, visitor = await _visitor_of(rt, ws)
    except TresenError as exc:
        return await _refuse(ws, exc)
    tab = _tab_id(ws.query_params.get("tab", ""))
    await rt.routing.visitor_connected(who.id)
    await rt.radar.visitor_connected(who, tab, visitor, new=new)
    del visitor  # rows are not kept for the socket's lifetime
    try:
        await ws.accept()
        await ws.app.state.gateway.serve(
            ws, who, [visitor_topic(who.id)], tab, session=session.pop() if session else None
        )
    finally:
        await rt.radar.visitor_disconnected(who, tab)
        await rt.routing.visitor_disconnected(who.id)


async def _visitor_of(rt: Runtime, ws: WebSocket) -> tuple[Principal, Visitor]:
    """The site, the Origin check, the token and the visitor: one work in a grouped read."""
    q = ws.query_params
    work = socket_visitor(
        rt, q.get("site", ""), ws.headers.get("origin"), ws.headers.get("host"), q.get("token", "")
    )
    return await rt.db.read_grouped(work)


async def _session_of(
    rt: Runtime, ws: WebSocket, out: list[dict[str, Any]]
) -> tuple[Principal, Visitor, bool]:
    """The session opened on the handshake, by the code ``POST /api/visitor/session`` runs
    (site key, Origin allowlist, the per-IP limit of new visitors; a missing, stale or foreign
    token starts a new visitor). Identities and chat links stay on the POST path. The bool:
    a new visitor, created just now."""
    q = ws.query_params
    vs = await check_open_visitor_session(
        rt,
        q.get("site", ""),
        ws.headers.get("origin"),
        ws.headers.get("host"),
        q.get("token") or None,
        client_ip=ws.client.host if ws.client else "unknown",
    )
    who = Principal("visitor", vs.visitor.id, name=vs.visitor.name, site_id=vs.visitor.site_id)
    out.append(await session_reply(rt, vs))
    return who, vs.visitor, vs.created


@router.websocket("/ws/agent")
async def agent_socket(ws: WebSocket) -> None:
    rt: Runtime = ws.app.state.rt
    await ws.accept()
    try:
        origin = ws.headers.get("origin")
        if origin and urlsplit(origin).netloc != ws.headers.get("host"):
            raise Forbidden("agent sockets are only opened from the console", code="bad_origin")
        ticket = ws.query_params.get("ticket")
        if not ticket:
            raise Unauthorized("a ticket is required", code="bad_ticket")
        who = await agent_from_ticket(rt, ticket)
        async with rt.db.read() as s:
            sites = await site_ids_for(s, who)
    except TresenError as exc:
        return await _refuse(ws, exc)
    # The inbox of the agent's sites only (admins: every site's); when the agent's sites
    # change, the socket is closed with 4002 and the console reconnects to the new ones.
    topics = [*site_topics(INBOX_TOPIC, inbox_topic, sites), agent_topic(who.id)]
    await rt.routing.agent_connected(who.id)
    try:
        await ws.app.state.gateway.serve(ws, who, topics, sites=sites)
    finally:
        await rt.routing.agent_disconnected(who.id)


SOCKETS = {"/ws/visitor": visitor_socket, "/ws/agent": agent_socket}
"""Called straight from ``DirectSockets`` (``gateway/direct.py``), past the HTTP stack; the
router's routes above stay for the docs and any other ASGI use."""
