"""Reading ``TRESEN_REDIS_URL`` (and ``TRESEN_REDIS_CLUSTER``) into the bus backend."""

from __future__ import annotations

import pytest

from tresen.realtime.buses import create_bus
from tresen.realtime.memory_bus import MemoryBus
from tresen.realtime.redis_bus import RedisBus
from tresen.realtime.redis_cluster_bus import RedisClusterBus
from tresen.realtime.redis_cluster_url import is_cluster_url, seeds_of


def test_seed_nodes_and_credentials() -> None:
    plain, seeds = seeds_of("redis+cluster://u:p%40ss@10.0.0.1:7000,10.0.0.2:7001, redis-3?ssl=no")
    assert seeds == [("10.0.0.1", 7000), ("10.0.0.2", 7001), ("redis-3", 6379)]
    assert plain == "redis://u:p%40ss@10.0.0.1:7000?ssl=no"


def test_tls_and_ipv6() -> None:
    plain, seeds = seeds_of("rediss+cluster://[::1]:7000,[::1]:7001")
    assert seeds == [("::1", 7000), ("::1", 7001)]
    assert plain == "rediss://[::1]:7000"


@pytest.mark.parametrize(
    "url",
    ["redis+cluster://a:7000,:7001", "redis+cluster://a:port", "redis+cluster://a:7000/3", "x://a"],
)
def test_malformed_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError):
        seeds_of(url)


async def test_the_backend_follows_the_url_and_the_flag() -> None:
    assert is_cluster_url("REDIS+CLUSTER://a:1") and not is_cluster_url("redis://a:1")
    assert isinstance(create_bus(None, "n"), MemoryBus)
    single = create_bus("redis://127.0.0.1:6390/0", "n")
    assert isinstance(single, RedisBus)
    await single.close()  # never connected: nothing to wait for
    for bus in (
        create_bus("redis+cluster://127.0.0.1:7000,127.0.0.1:7001", "n"),
        create_bus("redis://127.0.0.1:7000", "n", cluster=True),
    ):
        assert isinstance(bus, RedisClusterBus)
        await bus.client.aclose()
