"""The ASGI application: routers, gateway, error shape, lifespan wiring."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from servestatic import ServeStaticASGI
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tresen import __version__
from tresen.agents.access_api import router as access_router
from tresen.agents.api import router as agents_router
from tresen.agents.session_api import router as auth_router
from tresen.assist.api import router as assist_router
from tresen.assist.canned_api import router as canned_router
from tresen.assist.kb_api import router as kb_router
from tresen.assist.suggest import Suggester
from tresen.channels.api import router as channels_router
from tresen.channels.email import EmailChannel
from tresen.channels.followup import queue_followups
from tresen.channels.imap import ImapService
from tresen.channels.invites import router as invites_router
from tresen.channels.mail_files import router as mail_files_router
from tresen.channels.messaging_api import router as messaging_router
from tresen.channels.messaging_out import messaging_channels
from tresen.channels.outbox import OutboxWorker
from tresen.channels.smtp_listener import SmtpListener
from tresen.channels.webhooks import router as platform_hooks_router
from tresen.clock import Clock
from tresen.cobrowse.api import router as cobrowse_router
from tresen.contacts.api import router as contacts_router
from tresen.contacts.exports import router as exports_router
from tresen.contacts.imports import MAX_IMPORT_BYTES
from tresen.contacts.imports import router as imports_router
from tresen.conversations.api import router as conversations_router
from tresen.conversations.files_api import router as files_router
from tresen.conversations.search_index import SearchIndexer
from tresen.demo_shop import router as demo_shop_router
from tresen.digest.api import router as digest_router
from tresen.digest.unsubscribe import router as digest_unsubscribe_router
from tresen.digest.worker import DigestWorker
from tresen.gateway.direct import DirectSockets
from tresen.gateway.endpoints import SOCKETS, Gateway
from tresen.gateway.endpoints import router as ws_router
from tresen.gateway.transport import ExposeTransport
from tresen.health import router as health_router
from tresen.lifecycle.api import router as lifecycle_router
from tresen.lifecycle.timers import LifecycleService
from tresen.privacy.api import router as privacy_router
from tresen.privacy.retention import RetentionService
from tresen.radar.api import router as radar_router
from tresen.radar.funnel_api import router as funnel_router
from tresen.radar.live import RadarService
from tresen.reports.api import router as reports_router
from tresen.reports.prometheus import Telemetry
from tresen.reports.prometheus import router as metrics_router
from tresen.reports.store import ReportStore
from tresen.routing.api import router as routing_router
from tresen.routing.service import RoutingService
from tresen.runtime import Runtime, build_runtime
from tresen.scheduler import Scheduler
from tresen.settings import Settings, get_settings
from tresen.sites.api import router as sites_router
from tresen.visitors.api import router as visitors_router
from tresen.visitors.files_api import router as visitor_files_router
from tresen.web.assets import STATIC, static_options
from tresen.web.console import router as console_router
from tresen.web.errors import CatchAll, bounded_numbers, error_response, install_error_handlers
from tresen.web.headers import NoSniff
from tresen.web.proxies import TrustedProxies
from tresen.web.widget import router as widget_router
from tresen.webhooks.api import router as webhooks_router
from tresen.webhooks.worker import WebhookWorker
from tresen.wiring import frame_router, inbox_alarms, wire_assist, wire_inbox, wire_listeners

log = logging.getLogger(__name__)
MAX_BODY = 1024 * 1024
UPLOAD_BYTES = 25 * 1024 * 1024  # files on messages: the handler applies the configured cap
LARGE_BODIES = {
    "/api/contacts/import": MAX_IMPORT_BYTES,  # CSV files
    "/api/files": UPLOAD_BYTES,
    "/api/visitor/files": UPLOAD_BYTES,
}
SHUTDOWN_FLUSH_SECONDS = 10.0
"""After SIGTERM: uvicorn closes every socket with 1012 and gives requests 5 s to finish; then
the app flushes for at most this long. Keep systemd's TimeoutStopSec above the sum."""


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    scheduler: Scheduler | None = None,
) -> FastAPI:
    """The app. ``clock`` and ``scheduler`` are injected time (tests pass a manual pair)."""
    settings = (settings or get_settings()).resolved()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        rt: Runtime = build_runtime(settings, clock, scheduler)
        await rt.bus.start()
        await rt.presence.start()
        gateway = Gateway(rt, frame_router(settings))
        gateway.start()
        rt.radar = RadarService(rt)
        rt.routing = RoutingService(rt)
        reports, telemetry = ReportStore(rt), Telemetry(rt)
        outbox = OutboxWorker(
            rt, [EmailChannel(rt), *messaging_channels(rt)], producers=[queue_followups]
        )
        imap = ImapService(rt)
        webhooks = WebhookWorker(rt)
        wire_listeners(rt, rt.radar, rt.routing, reports, telemetry, outbox, imap, webhooks)
        suggester = Suggester()
        wire_assist(rt, suggester)
        await suggester.start(rt)  # past answers fill in the background
        snoozes, reminders = inbox_alarms(rt)
        wire_inbox(rt, snoozes, reminders)
        retention = RetentionService(rt)
        await rt.events.start()
        await rt.radar.start()
        await rt.routing.start()
        reports.start()
        indexer = SearchIndexer(rt)
        indexer.start()
        lifecycle = LifecycleService(rt)
        lifecycle.start()
        await outbox.start()
        digest = DigestWorker(rt)
        await digest.start()
        app.state.digest = digest
        await webhooks.start()
        smtp = SmtpListener(rt) if settings.smtp_enabled else None
        if smtp is not None:
            await smtp.start()
        await imap.start()
        snoozes.rearm()
        reminders.rearm()
        app.state.rt, app.state.gateway, app.state.outbox = rt, gateway, outbox
        app.state.reports, app.state.telemetry = reports, telemetry
        app.state.smtp, app.state.imap, app.state.webhooks = smtp, imap, webhooks
        app.state.suggester = suggester
        retention.start()
        app.state.retention = retention
        app.state.lifecycle = lifecycle
        log.info("tresen %s node %s up", __version__, settings.node_name)
        try:
            yield
        finally:
            await suggester.stop()
            snoozes.stop()
            reminders.stop()
            lifecycle.stop()
            indexer.stop()
            try:  # flush what must be (radar visits, report facts, a sweep in flight), bounded
                async with asyncio.timeout(SHUTDOWN_FLUSH_SECONDS):
                    await gateway.stop()
                    await retention.stop()
                    await imap.stop()
                    if smtp is not None:
                        await smtp.stop()
                    await digest.stop()
                    await outbox.stop()
                    await webhooks.stop()
                    await reports.stop()
                    await rt.routing.stop()
                    await rt.radar.stop()
                    await rt.presence.stop()
            except TimeoutError:
                log.error(
                    "shutdown: flushing took over %s s, exiting without it", SHUTDOWN_FLUSH_SECONDS
                )
            await rt.close()

    app = FastAPI(
        title="Tresen",
        version=__version__,
        lifespan=lifespan,
        dependencies=[Depends(bounded_numbers)],
    )
    for router in (
        health_router,
        auth_router,
        agents_router,
        access_router,
        sites_router,
        visitors_router,
        imports_router,
        contacts_router,
        exports_router,
        privacy_router,
        conversations_router,
        radar_router,
        routing_router,
        cobrowse_router,
        assist_router,
        canned_router,
        kb_router,
        reports_router,
        funnel_router,
        digest_router,
        digest_unsubscribe_router,
        lifecycle_router,
        metrics_router,
        channels_router,
        invites_router,
        messaging_router,
        files_router,
        visitor_files_router,
        mail_files_router,
        webhooks_router,
        platform_hooks_router,
        ws_router,
        console_router,
        widget_router,
        demo_shop_router,
    ):
        app.include_router(router)
    install_error_handlers(app)
    app.add_middleware(CatchAll)  # innermost of ours: sees every fault of a route
    app.add_middleware(BodyLimit)
    if STATIC.is_dir():  # /static: precompressed, hashed names cached for a year
        app.add_middleware(ServeStaticASGI, **static_options())
    app.add_middleware(NoSniff)
    app.add_middleware(DirectSockets, root=app, endpoints=SOCKETS)  # sockets skip the above
    app.add_middleware(TrustedProxies, trusted=settings.trusted_proxies)
    app.add_middleware(ExposeTransport)  # outermost: it needs the server's own ``send``
    return app


class BodyLimit:
    """Refuse request bodies over 1 MiB: by Content-Length before reading, and while reading
    (chunked bodies have no Content-Length)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = LARGE_BODIES.get(scope.get("path", ""), MAX_BODY)
        length = dict(scope["headers"]).get(b"content-length")
        if length and length.isdigit() and int(length) > limit:
            response = error_response(413, "too_large", f"request body over {limit} bytes")
            return await response(scope, receive, send)
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise HTTPException(413, f"request body over {limit} bytes")
            return message

        await self.app(scope, limited, send)
