"""Parsing real-world mail shapes: the text to show, threading headers, automated mail, and
hostile input that must give a readable result or a clear refusal."""

from __future__ import annotations

import pytest
from tests.support.eml import eml

from tresen.channels.email_in import MailRejected, html_to_text, parse_mail

MAX = 10 * 1024 * 1024
OUR_ID = "<tresen.5.2.abcdef123456@shop.example>"


def test_gmail_reply_quote_and_signature_stripped() -> None:
    mail = parse_mail(eml("gmail_reply", IN_REPLY_TO=OUR_ID, REFERENCES=OUR_ID), max_bytes=MAX)
    assert mail.in_reply_to == [OUR_ID] and mail.references == [OUR_ID]
    assert mail.display.startswith("Thanks, that helps!")
    assert "parcel left today" not in mail.display
    assert "parcel left today" in mail.text  # the full text is kept
    assert mail.sender == "kunde@example.com" and mail.sender_name == "Kunde Example"
    assert mail.automated is None


def test_outlook_broken_in_reply_to_and_quote() -> None:
    mail = parse_mail(eml("outlook_reply"), max_bytes=MAX)
    assert mail.in_reply_to and OUR_ID not in mail.in_reply_to
    assert mail.display.startswith("Hello, the parcel has arrived")
    assert "Your parcel left today" not in mail.display


@pytest.mark.parametrize("name", ["apple_reply", "thunderbird_reply"])
def test_other_clients(name: str) -> None:
    mail = parse_mail(eml(name, IN_REPLY_TO=OUR_ID, REFERENCES=OUR_ID), max_bytes=MAX)
    assert OUR_ID in mail.in_reply_to + mail.references
    assert "parcel left today" not in mail.display and mail.display


def test_latin1_german_mail() -> None:
    mail = parse_mail(eml("german_latin1"), max_bytes=MAX)
    assert mail.subject == "Grüße und eine Frage"
    assert mail.sender_name == "Jürgen Müller"
    assert "Schöne Grüße, Jürgen" in mail.text


def test_bounce_and_out_of_office_are_automated() -> None:
    assert parse_mail(eml("bounce"), max_bytes=MAX).automated == "bounce"
    assert parse_mail(eml("out_of_office", IN_REPLY_TO=OUR_ID), max_bytes=MAX).automated == (
        "auto_reply"
    )


def test_html_scripts_and_remote_images_never_survive() -> None:
    mail = parse_mail(eml("html_script"), max_bytes=MAX)
    for bad in ("<script", "alert", "document.cookie", "<img", "tracker.example", "javascript:"):
        assert bad not in mail.text
    assert "Hello team," in mail.text
    assert html_to_text("<p>a &amp; b</p><p>c</p>") == "a & b\nc"


def test_malformed_mime_and_unknown_charset_give_text() -> None:
    mail = parse_mail(eml("malformed"), max_bytes=MAX)
    assert mail.message_id == "<malformed-0001@example.com>"
    assert "\x00" not in mail.text
    mail.text.encode("utf-8")  # valid Unicode


def test_too_large_is_refused_with_552() -> None:
    with pytest.raises(MailRejected) as err:
        parse_mail(b"x" * 101, max_bytes=100)
    assert err.value.smtp_code == 552


def test_garbage_bytes_and_missing_message_id() -> None:
    mail = parse_mail(b"\xff\xfe\x00garbage without headers", max_bytes=MAX)
    assert mail.message_id.startswith("<sha256.")
    assert parse_mail(b"\xff\xfe\x00garbage without headers", max_bytes=MAX).message_id == (
        mail.message_id
    )
