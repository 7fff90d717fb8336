"""The widget resumes from its last gap-free seq (docs/protocol.md, "Delivery guarantees").

A lost frame is simulated between the server and the widget frame (Playwright routes the
visitor's WebSocket): the widget must notice the gap from the seq numbers and fetch what it
missed, live and after a reconnect, and an internal note's skipped seq must not stall it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from tests.e2e.test_widget import (
    AgentSide,
    _bodies,
    _open_page,
    _open_panel,
    _send_from_visitor,
    _wait_body,
    shop_url,
)
from tests.support.server import ServerProcess


class LossyLink:
    """Forwards the visitor's socket both ways, dropping what the test asks it to."""

    def __init__(self) -> None:
        self.drop_bodies: set[str] = set()  # server -> widget message frames, dropped once
        self.drop_resumes = False  # widget -> server resume frames
        self.pages: list[Any] = []
        self.resumes: list[dict[str, Any]] = []
        self.resumed = 0  # `resumed` frames the server sent

    def route(self, ws: Any) -> None:
        server = ws.connect_to_server()
        self.pages.append(ws)

        def to_server(message: str | bytes) -> None:
            if isinstance(message, str) and '"resume"' in message:
                frame = json.loads(message)
                if frame.get("type") == "resume":
                    self.resumes.append(frame)
                    if self.drop_resumes:
                        return
            server.send(message)

        def to_page(message: str | bytes) -> None:
            if isinstance(message, str) and '"resumed"' in message:
                self.resumed += 1
            if isinstance(message, str) and '"message"' in message:
                frame = json.loads(message)
                if frame.get("type") == "message" and frame.get("body") in self.drop_bodies:
                    self.drop_bodies.discard(frame["body"])
                    return
            ws.send(message)

        ws.on_message(to_server)
        server.on_message(to_page)


@pytest.fixture
def agent(demo_server: ServerProcess) -> Iterator[AgentSide]:
    side = AgentSide(demo_server.url)
    side.set_status("online")
    side.connect()
    yield side
    side.close()


def test_widget_resumes_from_its_last_gap_free_seq(
    demo_server: ServerProcess, browser: Any, agent: AgentSide
) -> None:
    link = LossyLink()
    context, page, dialogs = _open_page(browser, viewport={"width": 1280, "height": 800})
    context.route_web_socket(lambda url: "/ws/visitor" in url, link.route)
    page.goto(shop_url(demo_server))
    _open_panel(page)
    _send_from_visitor(page, "Is the lamp in stock?")
    first = agent.wait_message("Is the lamp in stock?")
    conv = first["conversation_id"]
    # Whoever routing gives the chat to, this console follows it (its read receipts included).
    agent.raw({"type": "watch", "conversation_id": conv, "seq": first["seq"]})

    # Live: a message frame is lost; the next one shows the gap and the widget fetches it.
    link.drop_bodies.add("Let me check the shelf.")
    agent.send(conv, "Let me check the shelf.")
    agent.send(conv, "Yes, three left.")
    _wait_body(page, "Yes, three left.")
    _wait_body(page, "Let me check the shelf.")
    assert link.drop_bodies == set()  # the frame really was lost once

    # An internal note skips a seq for the visitor: nothing to fetch, and the widget moves on
    # (its position passes the note: the resume after the reconnect below names that seq).
    resumed = link.resumed
    agent.run(agent.client.send("visitor seems keen", conv, internal=True))
    last = agent.send(conv, "Shall I reserve one?")
    _wait_body(page, "Shall I reserve one?")
    for _ in range(300):  # the server answers the widget's gap resume (a deadline, 15 s)
        if link.resumed > resumed:
            break
        page.wait_for_timeout(50)  # lets Playwright deliver the socket's frames to the route
    assert link.resumed > resumed, "the widget did not resume over the note's gap"

    # After a reconnect: a frame is lost and so is the widget's live resume; the resume after
    # the reconnect starts from the last gap-free seq, not the newest, and brings it.
    link.drop_resumes = True
    link.drop_bodies.add("It is the oak one, right?")
    agent.send(conv, "It is the oak one, right?")
    agent.send(conv, "Reserved until Friday.")
    _wait_body(page, "Reserved until Friday.")
    assert "It is the oak one, right?" not in _bodies(page)
    link.drop_resumes = False
    link.pages[-1].close(code=4008, reason="test: reconnect")
    _wait_body(page, "It is the oak one, right?")
    assert link.resumes[-1]["conversations"][str(conv)] == last["seq"]

    bodies = _bodies(page)
    assert "visitor seems keen" not in bodies
    assert bodies == [
        "Is the lamp in stock?",
        "Let me check the shelf.",
        "Yes, three left.",
        "Shall I reserve one?",
        "It is the oak one, right?",
        "Reserved until Friday.",
    ]
    assert dialogs == []
    context.close()
