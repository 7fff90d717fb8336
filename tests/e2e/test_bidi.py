# ruff: noqa: F811  (the fixtures of test_console.py, imported by name)
"""User text with bidi controls is shown isolated everywhere in the console (issue #10).

A visitor whose name, page title, attributes, typing and messages carry RIGHT-TO-LEFT OVERRIDE
(U+202E) must not reorder the console's text around them: every text node that holds such a
control sits in an element isolated by ``<bdi>`` or a ``dir`` attribute, or is wrapped in FIRST
STRONG ISOLATE ... POP DIRECTIONAL ISOLATE (interpolated into a sentence).
"""

from __future__ import annotations

import uuid
from typing import Any

from tests.e2e.test_console import (  # noqa: F401 (fixtures)
    Guest,
    Loop,
    anna,
    guests,
    login,
    loop,
    open_conversation,
    page,
    site,
)
from tests.support.actors import Visitor
from tests.support.server import ServerProcess

from tresen.security.identity import identity_hash

RLO = "\u202e"
AUDIT = """() => {
  const controls = /[\\u202a-\\u202e]/;
  const isolated = (node) => {
    const el = node.parentElement;
    if (!el) return true;
    if (el.tagName === 'BDI' || el.hasAttribute('dir')) return true;
    const t = node.data;
    return t.indexOf('\\u2068') >= 0 && t.indexOf('\\u2068') < t.search(/[\\u202a-\\u202e]/)
      && t.lastIndexOf('\\u2069') > t.search(/[\\u202a-\\u202e]/);
  };
  const out = [];
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    if (controls.test(n.data) && !isolated(n))
      out.push(n.parentElement.outerHTML.slice(0, 200));
  }
  return out;
}"""


def test_bidi_overrides_are_isolated_in_the_console(
    page: Any,
    loop: Loop,
    demo_server: ServerProcess,
    site: dict[str, Any],
    guests: list[Guest],
) -> None:
    user_id = "bidi-" + uuid.uuid4().hex[:8]
    name = f"{RLO}Petra Override"
    identity = {"id": user_id, "hash": identity_hash(site["identity_secret"], user_id)}
    identity |= {"name": name, "email": "bidi@example.com"}
    loop.run(
        Visitor.arrive(
            demo_server.url, site["widget_key"], origin=demo_server.url, identity=identity
        )
    )
    attrs = {"segment": f"{RLO}gold", f"{RLO}tariff": "Mobile L"}
    g = Guest(loop, demo_server, site["widget_key"], identity={**identity, "attributes": attrs})
    guests.append(g)
    title = f"{RLO}Override page title"
    g.raw(
        {
            "type": "track",
            "kind": "page",
            "url": f"{demo_server.url}/shop/products/nord-lamp",
            "title": title,
            "view": "bidi1",
        }
    )
    g.say(f"{RLO}evil message, read backwards", new=True)

    login(page)
    page.evaluate("() => window.scrollTo(0, 0)")
    pane = open_conversation(page, g.conversation_id)  # type: ignore[arg-type]
    context = page.locator(".context")
    context.locator("[data-field=name]", has_text="Petra Override").wait_for()
    context.locator(".page-title", has_text="Override page title").first.wait_for()
    pane.locator(".msg-body", has_text="evil message").wait_for()
    g.raw({"type": "typing", "conversation_id": g.conversation_id, "is_typing": True})
    pane.locator(".typing-line", has_text="is typing").wait_for()

    offenders = page.evaluate(AUDIT)
    assert offenders == [], "\n".join(offenders)
    assert page.errors == []
