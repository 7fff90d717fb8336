"""Picks the bus backend from the settings (apart from the ABC, so no circle forms).

No Redis URL: the in-process bus. A ``redis://`` URL: one Redis (``RedisBus``). A
``redis+cluster://`` URL with seed nodes, or any Redis URL with ``cluster=True``
(``TRESEN_REDIS_CLUSTER``): Redis Cluster with sharded pub/sub (``RedisClusterBus``).
"""

from __future__ import annotations

from tresen.realtime.bus import Bus
from tresen.realtime.memory_bus import MemoryBus


def create_bus(redis_url: str | None, node_name: str, *, cluster: bool = False) -> Bus:
    if not redis_url:
        return MemoryBus()
    from tresen.realtime.redis_cluster_url import is_cluster_url

    if cluster or is_cluster_url(redis_url):
        from tresen.realtime.redis_cluster_bus import RedisClusterBus
        from tresen.realtime.redis_cluster_url import cluster_client

        return RedisClusterBus(cluster_client(redis_url), node_name=node_name)
    from tresen.realtime.redis_bus import RedisBus

    return RedisBus(redis_url, node_name=node_name)
