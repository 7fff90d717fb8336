"""What every action needs, built once per process and passed explicitly."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tresen.auth.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from tresen.auth.tokens import Signer
from tresen.clock import Clock
from tresen.realtime.bus import Bus, create_bus
from tresen.realtime.hub import Hub
from tresen.realtime.presence import MemoryPresence, Presence, RedisPresence
from tresen.settings import Settings
from tresen.storage.db import Database

if TYPE_CHECKING:
    from tresen.radar.live import RadarService
    from tresen.routing.service import RoutingService


@dataclass
class Runtime:
    settings: Settings
    db: Database
    bus: Bus
    clock: Clock = field(default_factory=Clock)
    limiter: RateLimiter = field(default_factory=MemoryRateLimiter)
    presence: Presence = field(default_factory=MemoryPresence)
    hub: Hub = field(init=False)
    visitor_signer: Signer = field(init=False)
    ticket_signer: Signer = field(init=False)
    radar: RadarService = field(init=False)  # set by the app's lifespan
    routing: RoutingService = field(init=False)  # set by the app's lifespan

    def __post_init__(self) -> None:
        self.hub = Hub(self.bus)
        self.visitor_signer = Signer(self.settings.secret_key, "visitor-token")
        self.ticket_signer = Signer(self.settings.secret_key, "agent-ws-ticket")

    async def publish(self, topic: str, frame: str) -> None:
        """Events go out only after their transaction committed: call this after ``write()``."""
        await self.bus.publish(topic, frame)

    async def close(self) -> None:
        await self.bus.close()
        await self.db.dispose()


def build_runtime(settings: Settings, clock: Clock | None = None) -> Runtime:
    bus = create_bus(settings.redis_url, settings.node_name)
    limiter: RateLimiter = MemoryRateLimiter()
    presence: Presence = MemoryPresence()
    if settings.redis_url:
        limiter = RedisRateLimiter(bus.client)  # type: ignore[attr-defined]
        presence = RedisPresence(bus.client, settings.node_name)  # type: ignore[attr-defined]
    return Runtime(
        settings=settings,
        db=Database(settings.database_url),
        bus=bus,
        clock=clock or Clock(),
        limiter=limiter,
        presence=presence,
    )


# Topics on the bus. The producer of an event picks them, and so names its recipients.
AGENTS_TOPIC = "agents"
CAPACITY_TOPIC = "capacity"  # an agent's status or load changed: free capacity may differ


def visitor_topic(visitor_id: int) -> str:
    return f"v:{visitor_id}"


def agent_topic(agent_id: int) -> str:
    return f"a:{agent_id}"
