"""Composing mails and the tokens replies carry back: escaping, header safety, forgery."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tresen.channels.email_out import (
    Reply,
    compose,
    message_id,
    reply_address,
    reply_subject,
    thread_token,
    token_conversation,
)
from tresen.security.secretbox import SecretBox, SecretUnreadable
from tresen.storage.leases import backoff_seconds

SECRET = "unit-secret"


def _reply(**kw: object) -> Reply:
    base: dict[str, object] = dict(
        from_address="support@shop.example",
        from_name="Shop",
        agent_name="Anna",
        to="kunde@example.com",
        subject="Re: x",
        body="hi",
        message_id="<a@shop.example>",
        in_reply_to=None,
        references=[],
        reply_to="support+1-abc@shop.example",
    )
    return Reply(**{**base, **kw})  # type: ignore[arg-type]


def test_thread_tokens_are_signed() -> None:
    token = thread_token(SECRET, 42)
    assert token_conversation(SECRET, token) == 42
    assert token_conversation(SECRET, token.replace("42-", "43-")) is None
    assert token_conversation("other-secret", token) is None
    assert token_conversation(SECRET, "x-y") is None
    assert reply_address("support@shop.example", token) == f"support+{token}@shop.example"


def test_message_ids_are_stable_per_message() -> None:
    a = message_id(SECRET, 1, 2, "shop.example")
    assert a == message_id(SECRET, 1, 2, "shop.example") != message_id(SECRET, 1, 3, "shop.example")
    assert a.startswith("<tresen.1.2.") and a.endswith("@shop.example>")


def test_subject_keeps_one_re_and_one_tag() -> None:
    token = thread_token(SECRET, 7)
    once = reply_subject("AW: Re: Lieferung", "fallback", token)
    assert once == f"Re: Lieferung [#{token}]"
    assert reply_subject(once, "fallback", token) == once
    assert reply_subject(None, "Your message", token) == f"Re: Your message [#{token}]"


def test_header_injection_is_flattened() -> None:
    msg = compose(_reply(agent_name="Anna\r\nBcc: evil@x", subject="a\r\nBcc: evil@x"), date=NOW)
    assert msg["Bcc"] is None
    assert "\n" not in msg["Subject"]


def test_html_part_is_escaped() -> None:
    msg = compose(_reply(body='<img src="http://track/x"> <a href="javascript:x">'), date=NOW)
    html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "<img" not in html and "&lt;img" in html and "<a " not in html


def test_references_are_capped_keeping_root_and_newest() -> None:
    refs = [f"<{i}@x>" for i in range(50)]
    msg = compose(_reply(references=refs, in_reply_to=refs[-1]), date=NOW)
    kept = msg["References"].split()
    assert len(kept) == 20 and kept[0] == "<0@x>" and kept[-1] == "<49@x>"


def test_backoff_doubles_up_to_an_hour() -> None:
    assert [backoff_seconds(30, n) for n in (1, 2, 3)] == [30, 60, 120]
    assert backoff_seconds(30, 30) == 3600


def test_secret_box_seals_and_refuses_another_key() -> None:
    box = SecretBox(SECRET, "mailbox-password")
    secret = "correct horse battery staple"  # long: base64 cannot contain it by chance
    sealed = box.seal(secret)
    assert secret not in sealed and box.open(sealed) == secret
    assert box.seal("") == "" and box.open("") == ""
    with pytest.raises(SecretUnreadable):
        SecretBox("another", "mailbox-password").open(sealed)
    with pytest.raises(SecretUnreadable):
        SecretBox(SECRET, "other-purpose").open(sealed)


NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)
