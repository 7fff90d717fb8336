"""One webhook request: signed, sent with httpx to the checked and pinned address, never
following redirects; what came back is kept (status, a bounded snippet, the duration).

Signature (docs/webhooks.md): ``Tresen-Signature: t=<unix seconds>,v1=<hex>`` where ``v1`` is
HMAC-SHA256 with the subscription's secret over ``"<t>." + body``. Receivers recompute it and
refuse a ``t`` older than a few minutes, so a captured request cannot be replayed later.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from dataclasses import dataclass

import httpx

from tresen import __version__
from tresen.webhooks.ssrf import Refused, Resolver, checked_address, resolve

SNIPPET_BYTES = 1024
ALLOW_PRIVATE = "tresen_allow_private"  # request extension read by the pinned transport


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return mac.hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def verify(secret: str, header: str, body: bytes, now: float, tolerance: float = 300) -> bool:
    """What a receiver does: the signature matches and its timestamp is recent."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(parts.get("v1", ""), signature(secret, timestamp, body))


class PinnedTransport(httpx.AsyncBaseTransport):
    """Resolves and checks the request's host (``ssrf.py``), then connects to that address
    with the name kept for the Host header and for TLS (SNI and certificate check)."""

    def __init__(self, resolver: Resolver = resolve) -> None:
        self.resolver = resolver
        self.inner = httpx.AsyncHTTPTransport(retries=0)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        extensions = dict(request.extensions)
        allow_private = bool(extensions.pop(ALLOW_PRIVATE, False))
        url = request.url
        port = url.port or (443 if url.scheme == "https" else 80)
        ip = await checked_address(
            url.host, port, allow_private=allow_private, resolver=self.resolver
        )
        headers = request.headers.copy()
        headers["Host"] = url.netloc.decode("ascii")
        if url.scheme == "https":
            extensions["sni_hostname"] = url.host
        pinned = httpx.Request(
            request.method,
            url.copy_with(host=str(ip)),
            headers=headers,
            stream=request.stream,
            extensions=extensions,
        )
        return await self.inner.handle_async_request(pinned)

    async def aclose(self) -> None:
        await self.inner.aclose()


@dataclass(frozen=True, slots=True)
class Outcome:
    status_code: int | None
    error: str | None
    response: str
    duration_ms: int
    permanent: bool = False  # refused target: retrying will not help


class Sender:
    def __init__(self, timeout: float, resolver: Resolver = resolve) -> None:
        self.timeout = timeout
        self.client = httpx.AsyncClient(
            transport=PinnedTransport(resolver),
            timeout=timeout,
            follow_redirects=False,
            headers={"User-Agent": f"Tresen-Webhooks/{__version__}"},
        )

    async def close(self) -> None:
        await self.client.aclose()

    async def send(
        self, url: str, body: bytes, headers: dict[str, str], *, allow_private: bool
    ) -> Outcome:
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.timeout):  # the whole exchange, not each read
                return await self._send(url, body, headers, allow_private, started)
        except TimeoutError:
            return Outcome(None, f"timed out after {self.timeout:g} s", "", _ms(started))

    async def _send(
        self, url: str, body: bytes, headers: dict[str, str], allow_private: bool, started: float
    ) -> Outcome:
        try:
            request = self.client.build_request(
                "POST",
                url,
                content=body,
                headers={"Content-Type": "application/json", **headers},
                extensions={ALLOW_PRIVATE: allow_private},
            )
            response = await self.client.send(request, stream=True)
            try:
                snippet = await _snippet(response)
            finally:
                await response.aclose()
        except Refused as exc:
            return Outcome(None, exc.message, "", _ms(started), permanent=exc.permanent)
        except httpx.HTTPError as exc:
            return Outcome(None, f"{type(exc).__name__}: {exc}"[:500], "", _ms(started))
        return Outcome(response.status_code, None, snippet, _ms(started))


async def _snippet(response: httpx.Response) -> str:
    data = b""
    async for chunk in response.aiter_raw():
        data += chunk
        if len(data) >= SNIPPET_BYTES:
            break
    return data[:SNIPPET_BYTES].decode("utf-8", "replace")


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
