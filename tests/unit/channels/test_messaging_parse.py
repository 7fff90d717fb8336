"""Reading the platforms' webhook payloads (their documentation's examples): what becomes a
message, a status or a comment, and what is skipped without an exception."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from tests.support.platforms import (
    fb_comment,
    fb_message,
    tg_update,
    wa_envelope,
    wa_status,
    wa_text,
)

from tresen.channels.handoff import find_ref, ref_code, wa_link
from tresen.channels.messaging_in import messenger_items, telegram_items, whatsapp_items
from tresen.channels.templates import count_variables, render
from tresen.channels.webhooks import valid_signature
from tresen.conversations.window import check_free_reply, window_state
from tresen.errors import Conflict, Invalid

PHONE = "106540352242922"


def test_whatsapp_text_status_and_other_numbers() -> None:
    [m] = whatsapp_items(wa_text(PHONE, "16505551234", "wamid.X", 1749416383, "Blue?"), PHONE)
    assert (m.kind, m.external_id, m.sender_id, m.text, m.sender_name) == (
        "message",
        "wamid.X",
        "16505551234",
        "Blue?",
        "Sheena Nelson",
    )
    assert m.at == datetime.fromtimestamp(1749416383, UTC)
    assert whatsapp_items(wa_text("999", "1", "wamid.Y", 1, "x"), PHONE) == []
    [st] = whatsapp_items(wa_status(PHONE, "wamid.X", "read", 1749416400, "16505551234"), PHONE)
    assert (st.kind, st.status, st.external_id) == ("status", "read", "wamid.X")


def test_whatsapp_image_and_failed_status() -> None:
    payload = wa_envelope(
        PHONE,
        {
            "messages": [
                {
                    "from": "1",
                    "id": "wamid.I",
                    "timestamp": "1",
                    "type": "image",
                    "image": {
                        "caption": "lid",
                        "mime_type": "image/jpeg",
                        "sha256": "x",
                        "id": "1003383421387256",
                    },
                }
            ]
        },
    )
    [m] = whatsapp_items(payload, PHONE)
    assert m.media is not None and (m.media.kind, m.media.ref) == ("image", "1003383421387256")
    assert m.text == "lid"
    failed = wa_envelope(
        PHONE,
        {
            "statuses": [
                {
                    "id": "wamid.F",
                    "status": "failed",
                    "timestamp": "2",
                    "recipient_id": "1",
                    "errors": [
                        {
                            "code": 131047,
                            "title": "Re-engagement message",
                            "error_data": {"details": "More than 24 hours have passed"},
                        }
                    ],
                }
            ]
        },
    )
    [st] = whatsapp_items(failed, PHONE)
    assert st.status == "failed" and st.error is not None and "131047" in st.error


@pytest.mark.parametrize(
    "payload",
    [
        None,
        [],
        "x",
        {"object": "whatsapp_business_account", "entry": "nope"},
        {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "metadata": {"phone_number_id": PHONE},
                                "messages": [{"id": 5}],
                            },
                        }
                    ]
                }
            ],
        },
    ],
)
def test_malformed_payloads_are_skipped(payload: object) -> None:
    assert whatsapp_items(payload, PHONE) == []
    assert messenger_items(payload, "1") == []
    assert telegram_items(payload) == []


def test_messenger_message_echo_delivery_read_and_comment() -> None:
    [m] = messenger_items(fb_message("77", "PSID", "mid.1", 1458692752478, "hello, world!"), "77")
    assert (m.sender_id, m.text, m.at.year) == ("PSID", "hello, world!", 2016)
    echo = fb_message("77", "PSID", "mid.2", 1, "ours")
    echo["entry"][0]["messaging"][0]["message"]["is_echo"] = True
    assert messenger_items(echo, "77") == []
    delivered = {
        "object": "page",
        "entry": [
            {
                "id": "77",
                "messaging": [
                    {
                        "sender": {"id": "PSID"},
                        "recipient": {"id": "77"},
                        "timestamp": 1458668856463,
                        "delivery": {
                            "mids": ["mid.1458668856218:ed81099e15d3f4f233"],
                            "watermark": 1458668856253,
                        },
                    }
                ],
            }
        ],
    }
    [d] = messenger_items(delivered, "77")
    assert (d.kind, d.status, d.external_id) == (
        "status",
        "delivered",
        "mid.1458668856218:ed81099e15d3f4f233",
    )
    [c] = messenger_items(fb_comment("77", "44", "Erik", "1_2", "9_1", 1700000000, "Hi"), "77")
    assert (c.kind, c.extra) == ("comment", {"comment_id": "1_2", "post_id": "9_1"})


def test_telegram_private_only() -> None:
    [m] = telegram_items(tg_update(1, 1111111, 1365, 1441645532, "Hallo"))
    assert (m.external_id, m.sender_id, m.sender_name) == ("1111111:1365", "1111111", "Jonas Berg")
    group = tg_update(2, -100, 1, 1, "x")
    group["message"]["chat"]["type"] = "group"
    assert telegram_items(group) == []


def test_signature_is_checked_on_the_raw_body() -> None:
    raw = b'{"a": 1}'
    from tests.support.platforms import meta_signature

    assert valid_signature("s", raw, meta_signature("s", raw))
    assert not valid_signature("s", raw + b" ", meta_signature("s", raw))
    assert not valid_signature("s", raw, None) and not valid_signature("", raw, "sha256=")


def test_window_states() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    wa = {
        "reply_window": {
            "free_until": (t0 + timedelta(hours=24)).isoformat(),
            "tag_until": None,
            "after": "template",
        }
    }
    assert window_state(wa, t0)["mode"] == "free"  # type: ignore[index]
    assert window_state(wa, t0 + timedelta(hours=25))["mode"] == "template"  # type: ignore[index]
    with pytest.raises(Conflict):
        check_free_reply(wa, t0 + timedelta(hours=25))
    assert window_state({}, t0) is None
    check_free_reply(None, t0)


def test_templates_and_handoff_references() -> None:
    assert count_variables("Hi {{1}}, order {{2}}") == 2
    with pytest.raises(Invalid):
        count_variables("{{2}}")
    assert render("Hi {{1}}, {{1}}!", ["Ana"]) == "Hi Ana, Ana!"
    assert find_ref("k", f"please {ref_code('k', 42)}") == 42
    assert find_ref("other", ref_code("k", 42)) is None
    assert wa_link("+1 (555) 0100", "k", 7, "Go").startswith(
        "https://wa.me/15550100?text=Go%20%28ref%3A7-"
    )


@pytest.mark.parametrize(
    ("status", "body", "permanent"),
    [
        (429, {}, False),
        (500, {"error": {"message": "Service temporarily unavailable", "code": 2}}, False),
        (503, {}, False),
        (400, {"error": {"message": "(#130429) Rate limit hit", "code": 130429}}, False),
        (400, {"error": {"message": "Recipient not in allowed list", "code": 131030}}, True),
        (401, {"error": {"message": "Invalid OAuth access token", "code": 190}}, True),
        (403, {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked"}, True),
        (
            429,
            {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 5"},
            False,
        ),
    ],
)
def test_platform_refusals_are_temporary_or_permanent(
    status: int, body: dict[str, object], permanent: bool
) -> None:
    from tresen.channels.platform_http import refusal

    err = refusal(status, body)
    assert err.permanent is permanent and str(status) in err.message
