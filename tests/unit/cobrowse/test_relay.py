"""The relay's second line of privacy: batches carrying what masking should hide are refused."""

from __future__ import annotations

from typing import Any

import pytest

from tresen.cobrowse.actions import check_site_url
from tresen.cobrowse.relay import Leak, RelayState, check_events, masked
from tresen.errors import Invalid
from tresen.storage.models import Site


def _input(nid: int, value: str | None = None, **attrs: str) -> dict[str, Any]:
    a: dict[str, Any] = dict(attrs)
    if value is not None:
        a["value"] = value
    return {"type": 2, "id": nid, "tagName": "input", "attributes": a, "childNodes": []}


def _snapshot(*children: dict[str, Any]) -> dict[str, Any]:
    body = {"type": 2, "id": 2, "tagName": "body", "attributes": {}, "childNodes": list(children)}
    return {"type": 2, "data": {"node": {"type": 0, "id": 1, "childNodes": [body]}}}


def _typed(nid: int, text: str) -> dict[str, Any]:
    return {"type": 3, "data": {"source": 5, "id": nid, "text": text, "isChecked": False}}


def test_masked_values_pass_and_allow_listed_fields_may_show_their_value() -> None:
    state = RelayState()
    check_events(
        state, [_snapshot(_input(10, "****"), _input(11, "SPRING", **{"data-tresen-allow": ""}))]
    )
    check_events(state, [_typed(10, "*****"), _typed(11, "SPRING20")])
    assert masked("") and masked("***") and not masked("a*")


def test_an_unmasked_value_of_a_masked_field_is_refused() -> None:
    state = RelayState()
    check_events(state, [_snapshot(_input(10, ""))])
    with pytest.raises(Leak):
        check_events(state, [_typed(10, "hunter2")])
    with pytest.raises(Leak):
        check_events(RelayState(), [_snapshot(_input(10, "Jana"))])
    with pytest.raises(Leak):  # a value attribute set later, on a known input
        check_events(
            state,
            [
                {
                    "type": 3,
                    "data": {
                        "source": 0,
                        "attributes": [{"id": 10, "attributes": {"value": "Jana"}}],
                    },
                }
            ],
        )


@pytest.mark.parametrize(
    "attrs",
    [{"type": "password"}, {"autocomplete": "cc-number"}, {"data-tresen-private": ""}],
)
def test_fields_that_should_have_been_blocked_are_refused(attrs: dict[str, str]) -> None:
    with pytest.raises(Leak):
        check_events(RelayState(), [_snapshot(_input(10, "", **attrs))])
    added = {
        "type": 3,
        "data": {"source": 0, "adds": [{"parentId": 2, "node": _input(12, "", **attrs)}]},
    }
    with pytest.raises(Leak):
        check_events(RelayState(), [added])


def test_a_new_snapshot_forgets_the_previous_pages_allow_list() -> None:
    state = RelayState()
    check_events(state, [_snapshot(_input(11, "", **{"data-tresen-allow": ""}))])
    check_events(state, [_snapshot(_input(11, ""))])
    with pytest.raises(Leak):
        check_events(state, [_typed(11, "secret")])


def test_pushed_pages_stay_on_the_site() -> None:
    site = Site(allowed_origins=["https://shop.example"])
    assert check_site_url(site, "/cart") == "/cart"
    assert check_site_url(site, "https://shop.example/cart") == "https://shop.example/cart"
    for bad in ("//evil.example/x", "https://evil.example/", "javascript:alert(1)"):
        with pytest.raises(Invalid):
            check_site_url(site, bad)


def test_only_text_fields_shown_unblocked_take_typed_text() -> None:
    from tresen.cobrowse.relay import allowed_command

    blocked = {"type": 2, "id": 20, "tagName": "input", "childNodes": []}
    blocked["attributes"] = {"rr_width": "200px", "rr_height": "20px"}
    state = RelayState()
    check_events(
        state,
        [
            _snapshot(
                _input(10, "**"), _input(11, type="checkbox"), blocked, _input(12, type="email")
            )
        ],
    )
    assert allowed_command(state, {"node": 10}) and allowed_command(state, {"node": 12})
    for node in (11, 20, 99, None, "10"):
        assert not allowed_command(state, {"node": node})
    # A field that turns into a password, or is removed, takes nothing any more.
    change = {
        "type": 3,
        "data": {"source": 0, "attributes": [{"id": 12, "attributes": {"type": "password"}}]},
    }
    with pytest.raises(Leak):
        check_events(state, [change])
    assert not allowed_command(state, {"node": 12})
    removal = {"type": 3, "data": {"source": 0, "removes": [{"parentId": 2, "id": 10}]}}
    check_events(state, [removal])
    assert not allowed_command(state, {"node": 10})
