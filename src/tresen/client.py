"""A resilient Python client for the Tresen WebSocket protocol.

Used by integrations (bots, bridges), the load benchmark and the reliability tests. It keeps
what a browser client keeps: the last seq per conversation and every unacknowledged send. On any
disconnect it reconnects (trying each URL in turn, with jittered exponential backoff; on the next
URL, within ``restart_spread`` seconds at random, when the server closed with 1012 "service
restart", so a rolling restart is not a stampede), resumes from its positions and resends its
unacknowledged messages with the same ``client_msg_id``, so nothing is lost or stored twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import websockets

log = logging.getLogger(__name__)
UrlFactory = Callable[[], Awaitable[str]]
RESTART_CODES = frozenset({1001, 1012})
"""Close codes of a node going away (docs/protocol.md): reconnect soon, elsewhere."""
RETRY_CAP = 3.0
"""The longest wait between failed connection attempts (seconds)."""


def retry_delay(base: float, failures: int, cap: float = RETRY_CAP) -> float:
    """Exponential from ``base`` up to ``cap``, with jitter (50-100 %): clients that failed
    together do not all come back together."""
    return min(cap, base * 2 ** min(failures, 16)) * random.uniform(0.5, 1.0)


def restart_delay(spread: float) -> float:
    """After a restart close: a random moment within ``spread`` seconds, so the sockets of a
    node that stops reach the other nodes spread over that window, not all at once."""
    return random.uniform(0.0, spread) if spread > 0 else 0.0


@dataclass
class ClientStats:
    connects: int = 0
    restarts: int = 0  # sessions the server ended with a restart close (1012, 1001)
    duplicates: int = 0
    out_of_order: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)


class TresenClient:
    def __init__(
        self,
        url_factories: list[UrlFactory],
        *,
        origin: str | None = None,
        track: dict[int, int] | None = None,
        retry_delay: float = 0.2,
        restart_spread: float = 1.0,
        expect_seq_holes: bool = False,
    ) -> None:
        self._factories = url_factories
        self._origin = origin
        self._retry_delay = retry_delay
        self._restart_spread = restart_spread
        # Visitors never see internal notes, so their seqs may skip; agents see every seq.
        self._expect_holes = expect_seq_holes
        self.positions: dict[int, int] = dict(track or {})
        self.messages: dict[int, list[dict[str, Any]]] = {}
        self.pending: dict[str, dict[str, Any]] = {}
        self.acks: dict[str, dict[str, Any]] = {}
        self.stats = ClientStats()
        self.on_frame: Callable[[dict[str, Any]], None] | None = None
        self._ws: Any = None
        self._task: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        self._ack_waiters: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._changed = asyncio.Condition()
        self._stopping = False

    async def start(self, timeout: float = 10) -> None:
        self._task = asyncio.create_task(self._run_forever())
        await asyncio.wait_for(self._connected.wait(), timeout)

    async def stop(self) -> None:
        self._stopping = True
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    async def send(
        self,
        body: str,
        conversation_id: int | None = None,
        *,
        internal: bool = False,
        client_msg_id: str | None = None,
        skill: str | None = None,
    ) -> str:
        """Queue a message; it is (re)sent until acknowledged. Returns its client_msg_id."""
        cmid = client_msg_id or uuid.uuid4().hex
        frame: dict[str, Any] = {"type": "send", "client_msg_id": cmid, "body": body}
        if conversation_id is not None:
            frame["conversation_id"] = conversation_id
        if internal:
            frame["internal"] = True
        if skill is not None:
            frame["skill"] = skill
        self.pending[cmid] = frame
        self._ack_waiters[cmid] = asyncio.get_running_loop().create_future()
        await self._try_send(frame)
        return cmid

    async def wait_ack(self, cmid: str, timeout: float = 30) -> dict[str, Any]:
        if cmid in self.acks:
            return self.acks[cmid]
        return await asyncio.wait_for(asyncio.shield(self._ack_waiters[cmid]), timeout)

    async def send_raw(self, frame: dict[str, Any] | str) -> None:
        await self._try_send(frame)

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 30) -> None:
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(predicate), timeout)

    # ---- internals ---------------------------------------------------------------------------

    async def _try_send(self, frame: dict[str, Any] | str) -> None:
        if self._ws is None:
            return  # sent on reconnect
        try:
            await self._ws.send(frame if isinstance(frame, str) else json.dumps(frame))
        except Exception:
            pass  # the reader notices the broken socket and reconnects

    async def _run_forever(self) -> None:
        attempt = 0
        failures = 0
        while not self._stopping:
            factory = self._factories[attempt % len(self._factories)]
            attempt += 1
            restarting = False
            try:
                url = await factory()
                headers = {"Origin": self._origin} if self._origin else None
                async with websockets.connect(
                    url,
                    additional_headers=headers,
                    open_timeout=5,
                    max_size=2**22,
                    ping_interval=None,
                ) as ws:
                    failures = 0
                    await self._session(ws)
                    restarting = ws.close_code in RESTART_CODES
                    if not restarting:
                        attempt -= 1  # a session that ended cleanly retries the same URL first
            except asyncio.CancelledError:
                raise
            except websockets.ConnectionClosed as exc:
                # The node is restarting (or shutting down): the next URL, at once.
                restarting = exc.rcvd is not None and exc.rcvd.code in RESTART_CODES
            except Exception as exc:
                log.debug("connection attempt failed: %r", exc)
            finally:
                self._ws = None
                self._connected.clear()
            if restarting:
                self.stats.restarts += 1
                await asyncio.sleep(restart_delay(self._restart_spread))
            elif not self._stopping:
                await asyncio.sleep(retry_delay(self._retry_delay, failures))
                failures += 1

    async def _session(self, ws: Any) -> None:
        self._ws = ws
        self.stats.connects += 1
        # Always first, even empty: the server holds live messages until it knows our positions.
        await ws.send(json.dumps({"type": "resume", "conversations": self.positions}))
        for frame in list(self.pending.values()):
            await ws.send(json.dumps(frame))
        self._connected.set()
        async for raw in ws:
            await self._on_frame(json.loads(raw))

    async def _on_frame(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "ping":
            await self._try_send({"type": "pong"})
        elif kind == "message":
            self._on_message(frame)
        elif kind == "ack":
            self._on_ack(frame)
        elif kind == "conversation" and frame.get("created"):
            self.positions.setdefault(frame["conversation"]["id"], 0)
        elif kind == "error":
            self.stats.errors.append(frame)
        if self.on_frame is not None:
            self.on_frame(frame)
        async with self._changed:
            self._changed.notify_all()

    def _on_message(self, frame: dict[str, Any]) -> None:
        conv, seq = frame["conversation_id"], frame["seq"]
        position = self.positions.get(conv, 0)
        if seq <= position:
            self.stats.duplicates += 1
            return
        if seq != position + 1 and not self._expect_holes:
            self.stats.out_of_order += 1
        self.positions[conv] = seq
        self.messages.setdefault(conv, []).append(frame)

    def _on_ack(self, frame: dict[str, Any]) -> None:
        cmid = frame["client_msg_id"]
        self.pending.pop(cmid, None)
        self.acks[cmid] = frame
        self.positions.setdefault(frame["conversation_id"], 0)
        waiter = self._ack_waiters.get(cmid)
        if waiter is not None and not waiter.done():
            waiter.set_result(frame)
