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
from tresen.cobrowse import frames as cobrowse_frames
from tresen.conversations import frames as conversation_frames
from tresen.events import (
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
    MessageCreated,
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


def wire_listeners(rt: Runtime, radar: RadarService, routing: RoutingService) -> None:
    on = rt.events.on
    wire_delivery(rt)

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
    on(AgentSessionsEnded, do=deliver.sessions_ended, mode="now")


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
