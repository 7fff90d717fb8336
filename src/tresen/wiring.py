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
from tresen.assist.suggest import Suggester
from tresen.channels.imap import ImapService
from tresen.channels.outbox import OutboxWorker, wants_delivery
from tresen.cobrowse import frames as cobrowse_frames
from tresen.conversations import frames as conversation_frames
from tresen.conversations import organize
from tresen.events import (
    AgentAccessChanged,
    AgentIntroduced,
    AgentSessionsEnded,
    AgentStatusChanged,
    ArticleChanged,
    CallbackChanged,
    CallbackDue,
    CannedChanged,
    CapacityChanged,
    CobrowseChanged,
    ConversationAbandoned,
    ConversationAssigned,
    ConversationDeclined,
    ConversationEnded,
    ConversationEvent,
    ConversationFlagged,
    ConversationHandedOver,
    ConversationOffered,
    ConversationOpened,
    ConversationOverflowed,
    ConversationQueued,
    ConversationRead,
    ConversationReopened,
    ConversationResolved,
    ConversationSnoozed,
    ConversationsPurged,
    ConversationStatusChanged,
    ConversationTagged,
    ConversationTransferred,
    ConversationWoke,
    MailboxChanged,
    MessageCreated,
    MessageDeliveryChanged,
    OfferAccepted,
    OfferDismissed,
    OfferIgnored,
    OfferShown,
    QueueChoiceMade,
    QueuePositionChanged,
    RatingGiven,
    RulesChanged,
    SuggestionPicked,
    TranscriptRequested,
    WebhookSubscriptionsChanged,
)
from tresen.gateway.delivery import Delivery
from tresen.gateway.frames import FrameRouter
from tresen.gateway.inbox_delivery import InboxDelivery
from tresen.lifecycle import announce
from tresen.lifecycle import frames as lifecycle_frames
from tresen.radar import frames as radar_frames
from tresen.radar.live import RadarService
from tresen.realtime.protocol import TRACK_MAX_BYTES
from tresen.reports.prometheus import Telemetry
from tresen.reports.store import ReportStore
from tresen.routing import callbacks
from tresen.routing import frames as routing_frames
from tresen.routing.service import RoutingService
from tresen.runtime import Runtime
from tresen.scheduler import Alarm
from tresen.settings import Settings
from tresen.webhooks.catalogue import event_classes
from tresen.webhooks.worker import WebhookWorker

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
    webhooks: WebhookWorker | None = None,
) -> None:
    on = rt.events.on
    wire_delivery(rt)
    if webhooks is not None:
        wire_webhooks(rt, webhooks)

    # ---- channels: an agent's reply in an email conversation goes out from the outbox -------
    on(
        MessageCreated,
        do=outbox.on_message_created,
        when=wants_delivery,
        name="channels.outbox.deliver",
    )
    # a chat's transcript by email was asked for: its outbox row goes out now
    on(TranscriptRequested, do=outbox.on_message_created, name="channels.outbox.transcript")
    # a mailbox's settings changed: its reader (whichever node holds the lease) reads it now
    on(MailboxChanged, do=imap.on_mailbox_changed, mode="now", everywhere=True)

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

    # ---- the visitor is told: who has the chat, a transfer, the end (then a rating) ------------
    on(
        ConversationAssigned,
        ConversationTransferred,
        do=partial(announce.introduce, rt),
        when=announce.wants_introduction,
        name="lifecycle.introduce",
    )
    on(
        ConversationResolved,
        do=partial(announce.announce_end, rt),
        when=announce.wants_end_notice,
        name="lifecycle.announce_end",
    )

    wire_reports(rt, reports, telemetry)


def wire_assist(rt: Runtime, suggester: Suggester) -> None:
    """Answer suggestions: the index of every node follows the knowledge base, canned
    responses, resolved conversations and the agents' picks (docs/assist.md)."""
    on = rt.events.on
    on(
        ArticleChanged,
        do=partial(suggester.on_article_changed, rt),
        everywhere=True,
        name="assist.index.article",
    )
    on(
        CannedChanged,
        do=partial(suggester.on_canned_changed, rt),
        everywhere=True,
        name="assist.index.canned",
    )
    on(
        ConversationResolved,
        do=partial(suggester.on_resolved, rt),
        everywhere=True,
        name="assist.index.answers",
    )
    on(SuggestionPicked, do=suggester.on_picked, mode="now", everywhere=True)


def wire_inbox(rt: Runtime, snoozes: Alarm, reminders: Alarm) -> None:
    """The inbox: snoozes end at their time or when the visitor writes; callbacks remind their
    owner at their time; consoles hear of tags, snoozes and callbacks (docs/inbox.md)."""
    on = rt.events.on
    deliver = InboxDelivery(rt.bus)
    on(ConversationSnoozed, ConversationWoke, do=Delivery(rt.bus).conversation, mode="now")
    on(ConversationTagged, do=deliver.tags, mode="now")
    on(CallbackChanged, do=deliver.callback, mode="now")
    on(CallbackDue, do=deliver.callback_due, mode="now")
    # the times to keep changed: arm the alarm at the earliest one again
    on(ConversationSnoozed, ConversationWoke, do=snoozes.rearm, mode="now", name="inbox.snoozes")
    on(CallbackChanged, do=reminders.rearm, mode="now", name="inbox.reminders")
    on(
        MessageCreated,
        do=partial(wake_on_visitor_message, rt),
        when=lambda e: e.author_kind == "visitor" and e.conversation.snoozed_until is not None,
        name="inbox.wake_on_visitor",
    )


async def wake_on_visitor_message(rt: Runtime, event: MessageCreated) -> None:
    await organize.do_wake(rt, event.conversation.id, "visitor")


def inbox_alarms(rt: Runtime) -> tuple[Alarm, Alarm]:
    """(snooze ends, callback reminders), on the injected scheduler."""
    snoozes = Alarm(
        rt.scheduler,
        partial(organize.next_snooze_end, rt),
        partial(organize.do_wake_due, rt),
        "inbox.snoozes",
    )
    reminders = Alarm(
        rt.scheduler,
        partial(callbacks.next_reminder, rt),
        partial(callbacks.do_remind_due, rt),
        "inbox.reminders",
    )
    return snoozes, reminders


def wire_webhooks(rt: Runtime, webhooks: WebhookWorker) -> None:
    """Outgoing webhooks: deliveries are written in the transaction of each catalogued event
    (``WebhookWorker.install``: ``Database.before_commit``); after the commit, send them."""
    on = rt.events.on
    webhooks.install()
    on(*event_classes(durable=True), do=webhooks.kick_if_staged, mode="now", name="webhooks.kick")
    # the subscriptions changed: this node reads them again at once, the others when they hear
    changed = webhooks.on_subscriptions_changed
    on(WebhookSubscriptionsChanged, do=changed, mode="now", name="webhooks.targets")
    on(WebhookSubscriptionsChanged, do=changed, mode="now", everywhere=True, name="webhooks.peers")
    # facts emitted from memory have no transaction: their deliveries are written right after
    on(*event_classes(durable=False), do=webhooks.on_memory_event, name="webhooks.memory")


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
    on(ConversationsPurged, do=reports.on_purged, name="reports.on_purged")
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
    # lifecycle marks (silent, waiting), who has the chat, its end and rating: a new state
    on(AgentIntroduced, ConversationEnded, RatingGiven, do=deliver.conversation, mode="now")
    on(ConversationFlagged, do=deliver.conversation_for_agents, mode="now")
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
    add("rate", lifecycle_frames.on_rate)
    add("end_chat", conversation_frames.on_end_chat)
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
