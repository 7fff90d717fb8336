"""A visitor browsing as the widget does: per browser tab one socket per page load, the tab's
id kept across navigation, each page load with a view id of its own."""

from __future__ import annotations

import json
import secrets
from typing import Any

from tests.support.actors import Visitor, next_frame, raw_socket


class Tab:
    def __init__(self, visitor: Visitor, name: str | None = None) -> None:
        self.visitor = visitor
        self.id = name or "t" + secrets.token_hex(4)
        self.ws: Any = None
        self.view = ""

    async def open(self, path: str, *, focused: bool = True, language: str = "en") -> None:
        """Navigate: the old page's socket closes, the new page connects and reports itself."""
        await self.close()
        self.ws = await raw_socket(self.visitor.ws_url() + f"&tab={self.id}")
        await next_frame(self.ws, "welcome")
        self.view = secrets.token_hex(6)
        await self.page(path, focused=focused, language=language)

    async def reconnect(self, path: str, *, focused: bool = True) -> None:
        """The same page load's socket dropped and came back (a network blip, a restart):
        the widget reports the page again, with the same view id."""
        await self.close()
        self.ws = await raw_socket(self.visitor.ws_url() + f"&tab={self.id}")
        await next_frame(self.ws, "welcome")
        await self.page(path, focused=focused)

    async def page(self, path: str, *, focused: bool = True, language: str = "en") -> None:
        await self.send(
            {
                "type": "track",
                "kind": "page",
                "url": f"https://shop.example{path}",
                "title": path,
                "device": "desktop",
                "language": language,
                "view": self.view,
                "focused": focused,
            }
        )

    async def focus(self, focused: bool = True) -> None:
        await self.send({"type": "track", "kind": "focus", "focused": focused})

    async def send(self, frame: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(frame))

    async def handled(self) -> None:
        """Everything sent so far was handled (frames are handled in order)."""
        await self.send({"type": "ping"})
        await next_frame(self.ws, "pong")

    async def reply(self, offer_id: int, outcome: str) -> None:
        await self.send({"type": "offer_reply", "offer_id": offer_id, "outcome": outcome})

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
            self.ws = None
