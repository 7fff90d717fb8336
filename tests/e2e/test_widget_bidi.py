# ruff: noqa: F811  (the agent fixture, imported by name)
"""User text with bidi controls is shown isolated in the widget (issue #17, as test_bidi.py does
for the console): an agent whose name starts with RIGHT-TO-LEFT OVERRIDE (U+202E) invites the
visitor with text carrying overrides (RLO, LEFT-TO-RIGHT OVERRIDE U+202D), both sides write
messages with them; every text node holding such a control in the frame sits in an element
isolated by ``<bdi>`` or a ``dir`` attribute, or is wrapped in FIRST STRONG ISOLATE ... POP
DIRECTIONAL ISOLATE. Checked in Chromium on the shop page, before and after the chat opens.
"""

from __future__ import annotations

import uuid
from typing import Any

from tests.e2e.conftest import DEMO_PASSWORD
from tests.e2e.test_bidi import AUDIT
from tests.e2e.test_widget import (
    AgentSide,
    _frame,
    _frame_obj,
    _open_page,
    _send_from_visitor,
    _wait_body,
    agent,  # noqa: F401 (a fixture)
    shop_url,
)
from tests.e2e.test_widget_lazy import Watch, _wait
from tests.support.server import ServerProcess

RLO, LRO = "\u202e", "\u202d"


def test_bidi_overrides_are_isolated_in_the_widget(
    demo_server: ServerProcess, browser: Any, agent: AgentSide
) -> None:
    site = agent.api("GET", "/api/sites")[0]
    username = "bidi" + uuid.uuid4().hex[:6]
    made = agent.api(
        "POST",
        "/api/agents",
        json={
            "username": username,
            "display_name": f"{RLO}Sven Override",
            "password": DEMO_PASSWORD,
            "site_ids": [site["id"]],
        },
    )
    sven = AgentSide(demo_server.url, username)
    sven.connect()
    context, page, dialogs = _open_page(browser, viewport={"width": 1280, "height": 800})
    watch = Watch(context, page)
    conv = None
    try:
        page.goto(shop_url(demo_server))
        _wait(page, lambda: watch.got('"welcome"'))
        invitation = f"{RLO}Questions? {LRO}We help{RLO} gladly " + uuid.uuid4().hex[:4]
        sven.api(
            "POST",
            f"/api/radar/visitors/{watch.session['visitor_id']}/invite",
            json={"text": invitation},
        )
        frame = _frame(page)
        frame.locator(".invite .itext").wait_for()
        frame.locator(".invite", has_text="Sven Override").wait_for()
        offenders = _frame_obj(page).evaluate(AUDIT)
        assert offenders == [], "\n".join(offenders)

        frame.get_by_role("button", name="Chat now").click()
        frame.locator(".panel").wait_for()
        _wait_body(page, invitation)
        mine = f"{RLO}my message, read backwards {LRO}or not " + uuid.uuid4().hex[:4]
        _send_from_visitor(page, mine)
        conv = sven.wait_message(mine)["conversation_id"]  # the inviting agent has the chat
        answer = f"{LRO}the answer{RLO} reversed " + uuid.uuid4().hex[:4]
        sven.send(conv, answer)
        _wait_body(page, answer)
        frame.locator(".head h1", has_text="Sven Override").wait_for()
        sven.raw({"type": "typing", "conversation_id": conv, "is_typing": True})
        frame.get_by_text("is typing", exact=False).wait_for()

        offenders = _frame_obj(page).evaluate(AUDIT)
        assert offenders == [], "\n".join(offenders)
        assert dialogs == []
    finally:
        context.close()
        sven.close()
        if conv is not None:
            agent.api("PATCH", f"/api/conversations/{conv}", json={"status": "resolved"})
        agent.api("PATCH", f"/api/agents/{made['id']}", json={"is_active": False})
