"""A hidden input carrying a value (a CSRF token, a product id) is on most real pages: its value
is omitted and the page is relayed, never the whole snapshot dropped."""

from __future__ import annotations

from typing import Any

import pytest

from tresen.cobrowse.relay import Leak, RelayState, check_events


def _hidden(nid: int, value: str) -> dict[str, Any]:
    attrs = {"type": "hidden", "name": "csrf", "value": value}
    return {"type": 2, "id": nid, "tagName": "input", "attributes": attrs, "childNodes": []}


def _snapshot(*children: dict[str, Any]) -> dict[str, Any]:
    body = {"type": 2, "id": 2, "tagName": "body", "attributes": {}, "childNodes": list(children)}
    return {"type": 2, "data": {"node": {"type": 0, "id": 1, "childNodes": [body]}}}


def test_a_snapshot_with_hidden_values_is_relayed_without_them() -> None:
    state = RelayState()
    snapshot = _snapshot(_hidden(5, "s3cr3t-csrf-token"), _hidden(6, "sku-1234"))
    check_events(state, [snapshot])  # no Leak: the page is shown
    text = repr(snapshot)
    assert "s3cr3t-csrf-token" not in text and "sku-1234" not in text
    assert "csrf" in text  # the field itself stays, so the page is whole


def test_a_hidden_value_set_later_is_omitted_too() -> None:
    state = RelayState()
    check_events(state, [_snapshot(_hidden(5, "x"))])
    change = {
        "type": 3,
        "data": {"source": 0, "attributes": [{"id": 5, "attributes": {"value": "new-token"}}]},
    }
    check_events(state, [change])
    assert "new-token" not in repr(change)
    added = {"type": 3, "data": {"source": 0, "adds": [{"node": _hidden(9, "added-token")}]}}
    check_events(state, [added])
    assert "added-token" not in repr(added)


def test_other_unmasked_values_are_still_refused() -> None:
    field = {
        "type": 2,
        "id": 7,
        "tagName": "input",
        "attributes": {"type": "text", "value": "jana@example.com"},
        "childNodes": [],
    }
    with pytest.raises(Leak):
        check_events(RelayState(), [_snapshot(_hidden(5, "t"), field)])
