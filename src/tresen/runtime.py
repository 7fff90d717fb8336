"""What every action needs, built once per process and passed explicitly."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tresen.clock import Clock
from tresen.dispatcher import Dispatcher
from tresen.realtime.bus import Bus
from tresen.realtime.buses import create_bus
from tresen.realtime.hub import Hub
from tresen.realtime.presence import MemoryPresence, Presence
from tresen.scheduler import LoopScheduler, Scheduler
from tresen.security.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from tresen.security.tokens import Signer
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
    scheduler: Scheduler = None  # type: ignore[assignment]  # LoopScheduler when not given
    hub: Hub = field(init=False)
    events: Dispatcher = field(init=False)
    visitor_signer: Signer = field(init=False)
    ticket_signer: Signer = field(init=False)
    device_signer: Signer = field(init=False)
    radar: RadarService = field(init=False)  # set by the app's lifespan
    routing: RoutingService = field(init=False)  # set by the app's lifespan

    def __post_init__(self) -> None:
        self.hub = Hub(self.bus)
        self.events = Dispatcher(self.bus)
        # Committed events go to the dispatcher: actions never publish by hand.
        self.db.on_commit = self.events.emit
        if self.scheduler is None:
            self.scheduler = LoopScheduler(self.clock)
        self.visitor_signer = Signer(self.settings.secret_key, "visitor-token")
        self.ticket_signer = Signer(self.settings.secret_key, "agent-ws-ticket")
        self.device_signer = Signer(self.settings.secret_key, "login-device")

    async def close(self) -> None:
        await self.events.stop()
        await self.bus.close()
        await self.db.dispose()


def build_runtime(
    settings: Settings, clock: Clock | None = None, scheduler: Scheduler | None = None
) -> Runtime:
    bus = create_bus(settings.redis_url, settings.node_name, cluster=settings.redis_cluster)
    limiter: RateLimiter = MemoryRateLimiter()
    presence: Presence = MemoryPresence()
    if settings.redis_url:
        from tresen.realtime.redis_presence import RedisPresence

        limiter = RedisRateLimiter(bus.client)  # type: ignore[attr-defined]
        presence = RedisPresence(bus.client, settings.node_name)  # type: ignore[attr-defined]
    return Runtime(
        settings=settings,
        db=Database(settings.database_url),
        bus=bus,
        clock=clock or Clock(),
        limiter=limiter,
        presence=presence,
        scheduler=scheduler,  # type: ignore[arg-type]  # None: a LoopScheduler on the clock
    )
