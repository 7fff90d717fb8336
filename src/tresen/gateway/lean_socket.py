"""uvicorn's sans-I/O WebSocket protocol, lighter per idle socket (``TRESEN_WS_PROTOCOL``'s
default, ``websockets-sansio``, runs as this class).

A connection that only waits costs memory, not CPU, and most of a visitor's sockets only wait.
uvicorn's protocol keeps, for each socket's lifetime: an ``asyncio.Queue`` of received events
(three deques and an ``Event`` with a fourth: about 3 KiB even when empty), an ``asyncio.Event``
for write flow control (another deque), and the handshake's request and response with their
headers (2-3 KiB), which nothing reads after the handshake. Here the queue and the flag are
small slotted objects that hold a container only while something waits in them, and the
handshake's headers are let go once it is answered. Behaviour is uvicorn's: one consumer (the
application's ``receive``), first in first out, the same flow control.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterable
from typing import Any

from uvicorn.protocols.utils import ClientDisconnected
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.exceptions import InvalidState


class Inbox:
    """The part of ``asyncio.Queue`` the protocol uses (``put_nowait``, ``get``, ``empty``),
    for one consumer; its deque exists only while events wait in it."""

    __slots__ = ("_items", "_waiter")

    def __init__(self) -> None:
        self._items: deque[Any] | None = None
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, item: Any) -> None:
        if self._items is None:
            self._items = deque()
        self._items.append(item)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def get(self) -> Any:
        while not self._items:
            waiter = self._waiter = asyncio.get_running_loop().create_future()
            try:
                await waiter
            finally:
                self._waiter = None
        item = self._items.popleft()
        if not self._items:
            self._items = None
        return item

    def empty(self) -> bool:
        return not self._items

    def qsize(self) -> int:
        return len(self._items) if self._items else 0


class Flag:
    """The part of ``asyncio.Event`` the protocol uses for flow control; its list of waiters
    exists only while the transport is paused and a send waits."""

    __slots__ = ("_set", "_waiters")

    def __init__(self) -> None:
        self._set = True
        self._waiters: list[asyncio.Future[None]] | None = None

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        self._set = True
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    def clear(self) -> None:
        self._set = False

    async def wait(self) -> bool:
        if self._set:
            return True
        waiter = asyncio.get_running_loop().create_future()
        if self._waiters is None:
            self._waiters = []
        self._waiters.append(waiter)
        try:
            await waiter
        finally:
            if self._waiters is not None and waiter in self._waiters:
                self._waiters.remove(waiter)
        return True


class _Held:
    """Stands in for the transport while uvicorn answers the handshake: what it writes is
    kept (``LeanWebSocketProtocol._held``) instead of written."""

    __slots__ = ("data", "transport")

    def __init__(self, transport: Any) -> None:
        self.transport = transport
        self.data = b""

    def write(self, data: bytes) -> None:
        self.data += data

    def is_closing(self) -> bool:
        return bool(self.transport.is_closing())


class LeanWebSocketProtocol(WebSocketsSansIOProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue = Inbox()  # type: ignore[assignment]
        self.writable = Flag()  # type: ignore[assignment]
        # The handshake's answer, held until the first frame goes out (the ``welcome``, in the
        # same loop turn): one write instead of two for every new socket, the largest part of
        # opening one (bench.floor's connect phase). Written on its own at the loop's next turn
        # if no frame came.
        self._held: bytes | None = None

    async def send(self, message: Any) -> None:
        if message["type"] == "websocket.accept" and self.writable.is_set():
            transport, held = self.transport, _Held(self.transport)
            self.transport = held  # type: ignore[assignment]
            try:
                await super().send(message)  # no wait: ``writable`` is set
            finally:
                self.transport = transport
            if held.data:
                self._held = held.data
                asyncio.get_running_loop().call_soon(self._write_held)
            return
        self._write_held()
        await super().send(message)

    def _write_held(self) -> None:
        held, self._held = self._held, None
        if held is not None and not self.transport.is_closing():
            self.transport.write(held)

    def connection_lost(self, exc: Exception | None) -> None:
        self._held = None
        super().connection_lost(exc)

    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        # The scope has what the app reads. The request also lives on in the parser's frame
        # (websockets' handshake parser yields from the frame parser), so its headers are
        # emptied rather than only dropped here.
        event.headers.clear()
        self.request = None  # type: ignore[assignment]

    def start_keepalive(self) -> None:
        """Called once the socket is accepted: the handshake's response is sent."""
        super().start_keepalive()
        self.response = None  # type: ignore[assignment]

    def write_texts(self, texts: Iterable[str]) -> None:
        """Text frames in one write to the transport (the gateway's frames of one loop turn
        for this socket): what ``send`` does for one ``websocket.send`` each, without a write
        per frame. Only once accepted and while ``writable`` is set (the caller waits for it,
        as ``send`` does); raises ``ClientDisconnected`` as ``send`` does."""
        if self.disconnected or self.close_sent:
            raise ClientDisconnected()
        conn = self.conn
        try:
            for text in texts:
                conn.send_text(text.encode())
        except InvalidState:
            raise ClientDisconnected() from None
        out = conn.data_to_send()
        held, self._held = self._held, None
        if held is not None:
            out.insert(0, held)
        self.transport.write(b"".join(out))


def ws_protocol(name: str) -> Any:
    """What uvicorn's ``ws`` option gets for ``TRESEN_WS_PROTOCOL``: the sans-I/O protocol runs
    as ``LeanWebSocketProtocol``; the others as uvicorn has them."""
    return LeanWebSocketProtocol if name == "websockets-sansio" else name
