"""The app's wiring: which listener reacts to which event, and which handler takes which frame.
Read it top to bottom as "when X happened, do Y". Adding a capability means adding lines here,
not editing the actions that emit the events.

Listener kinds (``tresen.dispatcher``): ``now`` runs inline right after the commit (quick,
never blocking); ``queued`` runs in the background, per conversation in order; ``everywhere``
runs on every node.
"""

from __future__ import annotations

from functools import partial

from tresen.assist import bot
from tresen.assist import frames as assist_frames
from tresen.channels.imap import ImapService
from tresen.channels.outbox import OutboxWorker, wants_delivery
from tresen.cobrowse import frames as cobrowse_frames
from tresen.conversations import frames as conversation_frames
from tresen.events import (
    AgentAccessChanged,
    AgentSessionsEnded,
    AgentStatusChanged,
    CapacityChanged,
    CobrowseChanged,
    ConversationAbandoned,
    ConversationAssigned,
    ConversationDeclined,
    ConversationEvent,
    ConversationHandedOver,
    ConversationOffered,
    ConversationOpened,
    ConversationOverflowed,
    ConversationQueued,
    ConversationRead,
    ConversationReopened,
    ConversationResolved,
    ConversationStatusChanged,
    ConversationTransferred,
    MailboxChanged,
    MessageCreated,
    MessageDeliveryChanged,
    OfferAccepted,
    OfferDismissed,
    OfferIgnored,
    OfferShown,
    QueueChoiceMade,
    QueuePositionChanged,
    RulesChanged,
)
from tresen.gateway.delivery import Delivery
from tresen.gateway.frames import FrameRouter
from tresen.radar import frames as radar_frames
from tresen.radar.live import RadarService
from tresen.realtime.protocol import TRACK_MAX_BYTES
from tresen.reports.prometheus import Telemetry
from tresen.reports.store import ReportStore
from tresen.routing import frames as routing_frames
from tresen.routing.service import RoutingService
from tresen.runtime import Runtime
from tresen.settings import Settings

# A conversation changed hands or state: the inbox, routing and the radar care.
CONVERSATION_CHANGES: tuple[type[ConversationEvent], ...] = (
    ConversationOpened,
    ConversationReopened,
    ConversationQueued,
    ConversationOffered,
    ConversationAssigned,
    ConversationDeclined,
    ConversationTransferred,
    ConversationStatusChanged,
    ConversationResolved,
    ConversationAbandoned,
    ConversationHandedOver,
    QueueChoiceMade,
)
AGENT_CHANGES = (AgentStatusChanged, CapacityChanged)


def wire_listeners(
    rt: Runtime,
    radar: RadarService,
    routing: RoutingService,
    reports: ReportStore,
    telemetry: Telemetry,
    outbox: OutboxWorker,
    imap: ImapService,
) -> None:
    on = rt.events.on
    wire_delivery(rt)

    # ---- channels: an agent's reply in an email conversation goes out from the outbox -------
    on(
        MessageCreated,
        do=outbox.on_message_created,
        when=wants_delivery,
        name="channels.outbox.deliver",
    )
    # a mailbox's settings changed: this node reads it now (the others at their next poll)
    on(MailboxChanged, do=imap.on_mailbox_changed, mode="now")

    # ---- the FAQ bot (in the background, per conversation in order) ---------------------------
    on(
        MessageCreated,
        do=partial(bot.on_message_created, rt),
        when=bot.for_the_bot,
        name="bot.on_message_created",
    )
    on(QueueChoiceMade, do=partial(bot.on_queue_choice, rt), name="bot.on_queue_choice")

    # ---- routing: a pass whenever who waits or who is free may have changed --------------------
    on(*CONVERSATION_CHANGES, *AGENT_CHANGES, do=routing.kick, mode="now", name="routing.kick")

    # ---- Web Radar, on every node: chats starting and ending, capacity, rules ------------------
    on(*CONVERSATION_CHANGES, do=radar.on_conversation, mode="now", everywhere=True)
    on(*AGENT_CHANGES, do=radar.on_capacity, mode="now", everywhere=True)
    on(RulesChanged, do=radar.on_rules_changed, mode="now", everywhere=True)

    wire_reports(rt, reports, telemetry)


def wire_reports(rt: Runtime, reports: ReportStore, telemetry: Telemetry | None = None) -> None:
    """Reports: facts rebuilt from the record, status intervals, Prometheus counters."""
    on = rt.events.on
    on(
        *CONVERSATION_CHANGES,
        MessageCreated,
        ConversationRead,
        do=reports.on_conversation,
        mode="now",
    )
    on(AgentStatusChanged, do=reports.on_agent_status, name="reports.on_agent_status")
    if telemetry is not None:
        on(MessageCreated, do=telemetry.on_message, mode="now")
        on(
            OfferShown,
            OfferAccepted,
            OfferDismissed,
            OfferIgnored,
            do=telemetry.on_offer,
            mode="now",
        )


def wire_delivery(rt: Runtime) -> None:
    """To the sockets: inline, so frames are queued before the sender's ack."""
    on = rt.events.on
    deliver = Delivery(rt.bus)
    on(MessageCreated, do=deliver.message, mode="now")
    on(*CONVERSATION_CHANGES, do=deliver.conversation, mode="now")
    on(ConversationRead, do=deliver.read, mode="now")
    on(QueuePositionChanged, do=deliver.queue_position, mode="now")
    on(ConversationOverflowed, do=deliver.overflow, mode="now")
    on(OfferShown, do=deliver.offer, mode="now")
    on(CobrowseChanged, do=deliver.cobrowse, mode="now")
    on(MessageDeliveryChanged, do=deliver.delivery, mode="now")
    on(AgentSessionsEnded, do=deliver.sessions_ended, mode="now")
    on(AgentAccessChanged, do=deliver.access_changed, mode="now")


def frame_router(settings: Settings) -> FrameRouter:
    """Every client frame type and its handler; the gateway's own (resume, watch, ...) first."""
    router = FrameRouter()
    router.register_core()
    add = router.register
    add("send", conversation_frames.on_send)
    add("read", conversation_frames.on_read)
    add("typing", conversation_frames.on_typing)
    add("track", radar_frames.on_track, max_bytes=TRACK_MAX_BYTES)  # kept per visitor: small
    add("offer_reply", radar_frames.on_offer_reply)
    add("queue_choice", routing_frames.on_queue_choice)
    add("handover", assist_frames.on_handover)
    add("cobrowse_request", cobrowse_frames.on_request)
    add("cobrowse_reply", cobrowse_frames.on_reply)
    add("cobrowse_stop", cobrowse_frames.on_stop)
    add("cobrowse_control", cobrowse_frames.on_control)
    add("cobrowse_watch", cobrowse_frames.on_watch)
    add("cobrowse_resume", cobrowse_frames.on_resume)
    add("cobrowse_command", cobrowse_frames.on_command)
    add("cobrowse_code", cobrowse_frames.on_code)
    # Co-browse batches (full snapshots) are larger and have a rate limit of their own.
    batch = settings.cobrowse_max_frame_bytes
    add("cobrowse_events", cobrowse_frames.on_events, max_bytes=batch, own_rate_limit=True)
    return router
