"""Reading the Redis Cluster form of ``TRESEN_REDIS_URL`` into a cluster client.

``redis+cluster://[user:password@]host1:port1,host2:port2[,...][?option=value]`` (``rediss+`` for
TLS) names some seed nodes of the cluster: the client learns the rest (``CLUSTER SLOTS``).
``TRESEN_REDIS_CLUSTER=true`` with a plain ``redis://host:port`` URL does the same with one seed.
Options are redis-py's URL options (``socket_timeout``, ``ssl_cert_reqs``...).
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from redis.asyncio.cluster import ClusterNode, RedisCluster

CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}


def is_cluster_url(url: str) -> bool:
    return url.split("://", 1)[0].lower() in CLUSTER_SCHEMES


def seeds_of(url: str) -> tuple[str, list[tuple[str, int]]]:
    """The URL redis-py understands (``redis://`` and the first seed) and every seed's
    ``(host, port)``. Raises ``ValueError`` on a malformed list."""
    parts = urlsplit(url)
    scheme = CLUSTER_SCHEMES.get(parts.scheme.lower(), parts.scheme.lower())
    if scheme not in ("redis", "rediss"):
        raise ValueError(f"not a redis URL: {parts.scheme}://")
    userinfo, _, hosts = parts.netloc.rpartition("@")
    seeds: list[tuple[str, int]] = []
    for item in hosts.split(","):
        host, sep, port = item.strip().rpartition(":")
        if not sep:
            host, port = item.strip(), "6379"
        host = host.strip("[]")  # an IPv6 literal
        if not host or not port.isdigit():
            raise ValueError(f"bad redis cluster node {item!r} (host:port)")
        seeds.append((host, int(port)))
    if parts.path not in ("", "/", "/0"):
        raise ValueError("a redis cluster has only database 0")
    first_host, first_port = seeds[0]
    netloc = (userinfo + "@" if userinfo else "") + _hostport(first_host, first_port)
    return urlunsplit((scheme, netloc, "", parts.query, "")), seeds


def cluster_client(url: str) -> RedisCluster:
    plain, seeds = seeds_of(url)
    others = [ClusterNode(host, port) for host, port in seeds[1:]]
    return RedisCluster.from_url(plain, startup_nodes=others or None)


def _hostport(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
