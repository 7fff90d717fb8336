"""Pure parts of access: which resource a path is, what scopes allow, cursors, and routing
offering an agent only the chats of their sites."""

from __future__ import annotations

import pytest

from tresen.auth.bearer import allows, resource_for
from tresen.errors import Invalid
from tresen.routing.strategies import AgentLoad, EmailItem, Request, plan, plan_email
from tresen.storage.pagination import decode_cursor, encode_cursor, page_of


@pytest.mark.parametrize(
    ("path", "resource"),
    [
        ("/api/conversations", "conversations"),
        ("/api/conversations/4", "conversations"),
        ("/api/conversations/4/messages", "messages"),
        ("/api/conversations/4/deliveries", "messages"),
        ("/api/conversations/4/transfer", "conversations"),
        ("/api/console/inbox", "conversations"),
        ("/api/sites/2/mailbox", "channels"),
        ("/api/sites", "sites"),
        ("/api/audit", "audit"),
        ("/api/auth/ws-ticket", None),
        ("/api/auth/me", None),
        ("/api/nothing", None),
        ("/console", None),
    ],
)
def test_resource_of_a_path(path: str, resource: str | None) -> None:
    assert resource_for(path) == resource


def test_read_allows_get_write_allows_all() -> None:
    read = frozenset({"conversations:read"})
    assert allows(read, "GET", "/api/conversations")
    assert not allows(read, "PATCH", "/api/conversations/1")
    assert not allows(read, "GET", "/api/conversations/1/messages")
    write = frozenset({"messages:write"})
    assert allows(write, "POST", "/api/conversations/1/messages")
    assert allows(write, "GET", "/api/conversations/1/messages")
    assert not allows(write, "GET", "/api/conversations/1")
    assert not allows(frozenset({"tokens:write"}), "POST", "/api/auth/ws-ticket")


def test_cursors_round_trip_and_bad_ones_are_invalid() -> None:
    key = {"before": 42, "at": "2026-11-29T20:00:00+00:00"}
    assert decode_cursor(encode_cursor(key)) == key
    assert decode_cursor(None) == {} and decode_cursor("") == {}
    for bad in ("%%%", "bm90IGpzb24", encode_cursor({"x": 1})[:-3] + "!!", "W10", "x" * 600):
        with pytest.raises(Invalid):
            decode_cursor(bad)
    page, cursor = page_of([1, 2, 3], 2, lambda r: {"after": r})
    assert page == [1, 2] and decode_cursor(cursor) == {"after": 2}
    assert page_of([1, 2], 2, lambda r: {"after": r}) == ([1, 2], None)


def _agent(agent_id: int, sites: frozenset[int] | None) -> AgentLoad:
    return AgentLoad(id=agent_id, skills={}, max_chats=4, load=0, idle_since=0.0, sites=sites)


def test_routing_offers_only_the_sites_an_agent_serves() -> None:
    ben, cora = _agent(1, frozenset({1})), _agent(2, frozenset({2}))
    chats = [Request(id=10, queued_at=1.0, site_id=2), Request(id=11, queued_at=2.0, site_id=1)]
    assert sorted(plan([ben, cora], chats, 10.0)) == [(10, 2), (11, 1)]
    assert plan([ben], [chats[0]], 10.0) == []  # waits for someone of site 2
    admin = _agent(3, None)
    assert plan([admin], [chats[0]], 10.0) == [(10, 3)]
    nobody = _agent(4, frozenset())
    assert plan([nobody], chats, 10.0) == []
    mail = [EmailItem(id=20, queued_at=1.0, site_id=2)]
    assert plan_email([ben], mail, [])[1] == []
    assert plan_email([cora], mail, [])[1] == [(20, 2)]
