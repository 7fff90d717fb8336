"""Where a webhook may be sent: the target's host is resolved and every address checked before
a connection is opened, and the request is then made to the checked address (pinned), so a
name that resolves to a public address at check time cannot be re-pointed at an internal one
for the request (DNS rebinding).

Refused unless private targets are allowed: loopback, link-local (169.254.0.0/16, the cloud
metadata address among them; fe80::/10), private (10/8, 172.16/12, 192.168/16, fc00::/7),
shared (100.64/10), multicast, reserved, unspecified, and every other non-global address;
IPv4-mapped and 6to4 IPv6 addresses are checked as the IPv4 address they carry.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable

IP = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[IP]]]


class Refused(Exception):
    """The target is not allowed (or cannot be resolved)."""

    def __init__(self, message: str, *, permanent: bool = True) -> None:
        super().__init__(message)
        self.message, self.permanent = message, permanent


def forbidden_reason(ip: IP) -> str | None:
    """Why an address may not be a webhook target, or None for a public one."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is not None:
            return forbidden_reason(embedded)
    for reason in ("unspecified", "loopback", "link_local", "multicast", "reserved", "private"):
        if getattr(ip, f"is_{reason}"):
            return reason.replace("_", "-")
    return None if ip.is_global else "non-public"


async def resolve(host: str, port: int) -> list[IP]:
    """Every address ``host`` resolves to (an IP literal: itself)."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise Refused(f"cannot resolve {host}: {exc}", permanent=False) from None
    found: list[IP] = []
    for *_, sockaddr in infos:
        ip = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if ip not in found:
            found.append(ip)
    if not found:
        raise Refused(f"cannot resolve {host}", permanent=False)
    return found


async def checked_address(
    host: str, port: int, *, allow_private: bool, resolver: Resolver = resolve
) -> IP:
    """The address to connect to: the first ``host`` resolves to, once every one passed."""
    addresses = await resolver(host, port)
    if not allow_private:
        for ip in addresses:
            reason = forbidden_reason(ip)
            if reason is not None:
                raise Refused(f"{host} resolves to {ip}, a {reason} address: not allowed")
    return addresses[0]
