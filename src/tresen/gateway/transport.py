"""The TCP transport under a WebSocket, for the one thing ASGI cannot do: abort it.

A close frame waits until the socket is writable; a peer that stopped reading never lets it
through, and the connection would stay open forever. ``ExposeTransport`` (outermost ASGI
middleware) puts the server protocol's transport into the WebSocket scope so the gateway can
abort it when a close does not complete (uvicorn's protocols pass their bound ``send`` method
and keep the transport on ``self.transport``; other servers simply give none).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

TRANSPORT_SCOPE_KEY = "tresen.transport"
PROTOCOL_SCOPE_KEY = "tresen.protocol"
"""The server's protocol object itself: with ``gateway/lean_socket.py``'s protocol the gateway
writes the frames of one loop turn in one go (``write_texts``)."""


class ExposeTransport:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            protocol = getattr(send, "__self__", None)
            scope[TRANSPORT_SCOPE_KEY] = getattr(protocol, "transport", None)
            scope[PROTOCOL_SCOPE_KEY] = protocol
        await self.app(scope, receive, send)
