"""Fixtures for the HTTP API tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from tests.support.actors import Scenario


@pytest.fixture
async def anon(scenario: Scenario) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client with no session."""
    async with httpx.AsyncClient(base_url=scenario.base_url, timeout=30) as http:
        yield http
