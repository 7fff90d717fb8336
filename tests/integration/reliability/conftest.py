"""Reliability tests drive real server subprocesses; their audit lives in tests/support."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.support.cluster import Node


@pytest.fixture
def nodes() -> Iterator[list[Node]]:
    """Register nodes here; each is stopped (or killed) when the test ends, its log shown."""
    started: list[Node] = []
    yield started
    for node in started:
        node.stop()
