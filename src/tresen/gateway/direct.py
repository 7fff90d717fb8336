"""The WebSocket endpoints called straight from the outer middleware, past the HTTP stack.

A socket lives for minutes or hours; through the whole stack (static files, body limit, error
pages, FastAPI's exception and dependency layers, the router) every one of those layers keeps a
coroutine frame alive for its lifetime and wraps every frame it sends. None of them does
anything for ``/ws/visitor`` and ``/ws/agent`` (they serve, limit or shape HTTP responses), so
``DirectSockets`` sits just inside ``TrustedProxies`` and ``ExposeTransport`` (which a socket
does need: the client address from a trusted proxy, and the transport to abort) and calls the
endpoint itself. Other WebSocket paths (none today) and all HTTP go on down the stack.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

Endpoint = Callable[[WebSocket], Awaitable[None]]


class DirectSockets:
    def __init__(self, app: ASGIApp, root: Any, endpoints: Mapping[str, Endpoint]) -> None:
        self.app = app
        self.root = root  # the application, which endpoints reach as ``ws.app``
        self.endpoints = endpoints

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = self.endpoints.get(scope["path"]) if scope["type"] == "websocket" else None
        if endpoint is None:
            await self.app(scope, receive, send)
            return
        scope["app"] = self.root
        await endpoint(WebSocket(scope, receive, send))
