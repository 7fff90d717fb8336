"""Shared fixtures: real servers on loopback, real PostgreSQL and Redis when asked for."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

# the cluster audit's asserts are rewritten wherever it is first imported (reliability, radar)
pytest.register_assert_rewrite("tests.support.cluster")

from tests.support.actors import Scenario, make_scenario  # noqa: E402
from tests.support.redis_cluster import RedisClusterServer  # noqa: E402
from tests.support.server import InProcessServer, test_settings  # noqa: E402
from tests.support.services import PostgresServer, RedisServer  # noqa: E402
from tresen.storage.migrate import upgrade_async  # noqa: E402


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[RedisClusterServer]:
    """A Redis Cluster of 3 masters and 3 replicas, shared by the session: tests that fail a
    master over start their own."""
    server = RedisClusterServer()
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(postgres: PostgresServer) -> str:
    """A fresh, empty PostgreSQL database for one test."""
    return postgres.create_database("t_" + uuid.uuid4().hex[:12])


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Run the test once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'tresen.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[InProcessServer]:
    """An in-process server on SQLite, migrated, listening on a free loopback port."""
    settings = test_settings(tmp_path)
    await upgrade_async(settings.database_url)
    srv = InProcessServer(settings)
    await srv.start()
    yield srv
    await srv.stop()


@pytest.fixture
async def scenario(server: InProcessServer) -> AsyncIterator[Scenario]:
    """A site, an admin agent (anna, Sales) and an agent (ben, Support) on ``server``."""
    sc = await make_scenario(server)
    yield sc
    await sc.close()
