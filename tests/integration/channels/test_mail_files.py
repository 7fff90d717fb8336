"""The files of a customer's mail, shown to agents from the stored original (SQLite and
PostgreSQL): listed by the message they came with, served safely (the type from the bytes,
nosniff, a sandbox), within the size limit; broken MIME shows no files and breaks nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
from tests.support.actors import Scenario, running_scenario
from tests.support.channel_world import site_id
from tests.support.server import InProcessServer

from tresen.channels.email_receive import check_receive_mail

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 200
HTML = b"<html><script>alert(1)</script></html>"


@pytest.fixture
async def shop(
    tmp_path: Path, database_url: str
) -> AsyncIterator[tuple[InProcessServer, Scenario]]:
    async with running_scenario(tmp_path, database_url, attachment_max_bytes=2048) as setup:
        yield setup


def mail_with_files() -> bytes:
    msg = EmailMessage()
    msg["From"] = "Kunde <kunde@example.com>"
    msg["To"] = "support@shop.example"
    msg["Subject"] = "Broken lid"
    msg["Message-ID"] = "<files-1@example.com>"
    msg.set_content("The lid broke, photos attached.")
    msg.add_attachment(PNG, maintype="image", subtype="png", filename="lid.png")
    # HTML that claims to be an image, and a file over the limit
    msg.add_attachment(HTML, maintype="image", subtype="jpeg", filename="../../photo.jpg")
    msg.add_attachment(b"x" * 5000, maintype="application", subtype="pdf", filename="big.pdf")
    return msg.as_bytes()


async def test_a_mails_files_are_listed_and_served_safely(
    shop: tuple[InProcessServer, Scenario],
) -> None:
    srv, sc = shop
    receipt = await check_receive_mail(srv.rt, await site_id(sc), mail_with_files())
    conv_id = receipt.conversation_id
    assert conv_id is not None
    r = await sc.anna.http.get(f"/api/conversations/{conv_id}/mail-files")
    assert r.status_code == 200, r.text
    files = r.json()
    assert [(f["seq"], f["name"], f["type"]) for f in files] == [
        (1, "lid.png", "image/png"),
        (1, "photo.jpg", "application/octet-stream"),  # not what it claims: bytes to download
    ]
    first, second = files
    got = await sc.anna.http.get(f"/api/mail-files/{first['mail_id']}/{first['index']}")
    assert got.status_code == 200 and got.content == PNG
    assert got.headers["content-type"] == "image/png"
    assert got.headers["content-disposition"] == 'inline; filename="lid.png"'
    assert got.headers["x-content-type-options"] == "nosniff"
    hostile = await sc.anna.http.get(f"/api/mail-files/{second['mail_id']}/{second['index']}")
    assert hostile.headers["content-type"] == "application/octet-stream"
    assert hostile.headers["content-disposition"].startswith("attachment;")
    assert hostile.headers["content-security-policy"] == "default-src 'none'; sandbox"
    missing = await sc.anna.http.get(f"/api/mail-files/{first['mail_id']}/2")  # the big one
    assert missing.status_code == 404
    async with httpx.AsyncClient(base_url=sc.base_url) as anonymous:
        assert (await anonymous.get(f"/api/mail-files/{first['mail_id']}/0")).status_code == 401


async def test_broken_mime_shows_no_files(shop: tuple[InProcessServer, Scenario]) -> None:
    srv, sc = shop
    raw = (
        b"From: a@example.com\r\nTo: support@shop.example\r\nSubject: x\r\n"
        b"Message-ID: <broken-1@example.com>\r\n"
        b'Content-Type: multipart/mixed; boundary="zzz"\r\n\r\n'
        b"--zzz\r\nContent-Type: text/plain\r\n\r\nhello\r\n--zzz\r\n"
        b"Content-Type: image/png; name=a.png\r\nContent-Transfer-Encoding: base64\r\n"
        b"Content-Disposition: attachment; filename=a.png\r\n\r\n!!!not base64!!!"
    )
    receipt = await check_receive_mail(srv.rt, await site_id(sc), raw)
    r = await sc.anna.http.get(f"/api/conversations/{receipt.conversation_id}/mail-files")
    assert r.status_code == 200 and all(f["type"] != "image/png" for f in r.json())
