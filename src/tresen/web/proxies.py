"""Forwarded headers, believed only from the configured proxies (``TRESEN_TRUSTED_PROXIES``).

From a trusted peer, the client address is the rightmost ``X-Forwarded-For`` hop that is not a
trusted proxy itself, the scheme comes from ``X-Forwarded-Proto`` and the ``Host`` from
``X-Forwarded-Host``. From anyone else these headers are ignored: a client cannot pick its own
address for the login limits, nor its host for the origin checks.
"""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network

from starlette.types import ASGIApp, Receive, Scope, Send

_SCHEMES = {"http": {"http", "https"}, "websocket": {"ws", "wss"}}
_WS_SCHEME = {"http": "ws", "https": "wss"}


class TrustedProxies:
    def __init__(self, app: ASGIApp, trusted: list[str]) -> None:
        self.app = app
        self.networks: list[IPv4Network | IPv6Network] = [
            ip_network(t.strip(), strict=False) for t in trusted if t.strip()
        ]

    def trusts(self, host: str) -> bool:
        try:
            address = ip_address(host)
        except ValueError:
            return False
        return any(address in net for net in self.networks)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        if scope["type"] in _SCHEMES and self.networks and client and self.trusts(client[0]):
            scope = self._forwarded(scope)
        await self.app(scope, receive, send)

    def _forwarded(self, scope: Scope) -> Scope:
        headers: list[tuple[bytes, bytes]] = list(scope["headers"])
        values = {k.lower(): v.decode("latin-1") for k, v in headers}
        scope = dict(scope)
        hops = [h.strip() for h in values.get(b"x-forwarded-for", "").split(",") if h.strip()]
        if hops:
            untrusted = [h for h in reversed(hops) if not self.trusts(h)]
            scope["client"] = (untrusted[0] if untrusted else hops[0], 0)
        proto = values.get(b"x-forwarded-proto", "").split(",")[0].strip().lower()
        if proto in _WS_SCHEME:
            scope["scheme"] = proto if scope["type"] == "http" else _WS_SCHEME[proto]
        host = values.get(b"x-forwarded-host", "").split(",")[0].strip()
        if host:
            kept = [(k, v) for k, v in headers if k.lower() != b"host"]
            scope["headers"] = [*kept, (b"host", host.encode("latin-1"))]
        return scope
