"""Which addresses a webhook may target, and the signature receivers check."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress

import pytest

from tresen.storage.leases import backoff_seconds
from tresen.webhooks.send import signature_header, verify
from tresen.webhooks.ssrf import IP, Refused, checked_address, forbidden_reason


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("fd00::1", "private"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("100.64.0.1", "non-public"),  # carrier-grade NAT
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
        ("::ffff:10.0.0.1", "private"),
        ("::ffff:169.254.169.254", "link-local"),
        ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
    ],
)
def test_internal_addresses_are_refused(address: str, reason: str) -> None:
    assert forbidden_reason(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize("address", ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    assert forbidden_reason(ipaddress.ip_address(address)) is None


async def test_every_resolved_address_must_pass() -> None:
    async def mixed(host: str, port: int) -> list[IP]:
        return [ipaddress.ip_address("93.184.216.34"), ipaddress.ip_address("10.0.0.7")]

    with pytest.raises(Refused, match=r"10\.0\.0\.7, a private address"):
        await checked_address("hooks.example.com", 443, allow_private=False, resolver=mixed)
    got = await checked_address("hooks.example.com", 443, allow_private=True, resolver=mixed)
    assert str(got) == "93.184.216.34"


async def test_localhost_resolves_to_loopback_and_is_refused() -> None:
    with pytest.raises(Refused, match="loopback"):
        await checked_address("localhost", 80, allow_private=False)


def test_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    body = b'{"id":"d1","type":"message.created"}'
    header = signature_header("whsec_test", 1764450000, body)
    expected = hmac.new(b"whsec_test", b"1764450000." + body, hashlib.sha256).hexdigest()
    assert header == f"t=1764450000,v1={expected}"
    assert verify("whsec_test", header, body, now=1764450000 + 299)
    assert not verify("whsec_test", header, body, now=1764450000 + 301)  # too old: replay
    assert not verify("whsec_test", header, body + b" ", now=1764450000)
    assert not verify("whsec_other", header, body, now=1764450000)
    assert not verify("whsec_test", "v1=" + expected, body, now=1764450000)  # no timestamp


def test_backoff_doubles_up_to_an_hour() -> None:
    waits = [backoff_seconds(30, n) for n in range(1, 10)]
    assert waits == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
