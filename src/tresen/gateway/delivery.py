"""Delivering committed events to the sockets that need them: the WebSocket fan-out.

Listeners (``tresen.wiring``) render each event into a wire frame once and publish it on the bus
topics of its recipients (``realtime/topics.py``), so its cost does not grow with the number of
agents online:

- a message reaches its visitor's sockets (never an internal note), the consoles of the agent
  who has the conversation (or is offered it), consoles watching it, and while nobody has it
  (and not the bot) the consoles of its site's agents, who may take it;
- a conversation change (opened, queued, assigned, resolved, ...) reaches the inbox of its
  site (the consoles of agents who serve it, and admins') and the visitor;
- read receipts go where the messages go; queue news and offers to the visitor alone;
- a co-browsing state to the visitor, the requesting agent, watchers and the session's mirror;
- ended agent sessions to that agent's consoles on every node, which close the sockets opened
  with them (``CLOSE_SESSION_ENDED``).
"""

from __future__ import annotations

from tresen.cobrowse.actions import gate_topic, session_topic
from tresen.conversations.wire import conversation_dict, message_out_of
from tresen.events import (
    AgentAccessChanged,
    AgentSessionsEnded,
    CobrowseChanged,
    ConversationEvent,
    ConversationOpened,
    ConversationOverflowed,
    ConversationRead,
    ConversationState,
    MessageCreated,
    MessageDeliveryChanged,
    OfferShown,
    QueuePositionChanged,
)
from tresen.realtime.bus import Bus
from tresen.realtime.cobrowse_frames import CobrowseOut
from tresen.realtime.hub import (
    tag_access_changed,
    tag_conversation,
    tag_message,
    tag_sessions_ended,
)
from tresen.realtime.protocol import (
    ConversationOut,
    DeliveryOut,
    OfferOut,
    OverflowOut,
    PingOut,
    QueueOut,
    ReadOut,
    error_frame,
)
from tresen.realtime.topics import agent_topic, inbox_topics, visitor_topic, watch_topic

SESSION_END_MESSAGES = {
    "logout": "you logged out; log in again",
    "password_changed": "the password was changed; log in again",
    "deactivated": "this account was deactivated",
}
LAST_SENT = 10_000  # conversations whose last published state is remembered


def agent_topics(conv: ConversationState) -> list[str]:
    """The consoles that follow a conversation's messages."""
    topics = [watch_topic(conv.id)]
    if conv.assignee_id is not None:
        topics.append(agent_topic(conv.assignee_id))
    if conv.offered_to is not None and conv.offered_to != conv.assignee_id:
        topics.append(agent_topic(conv.offered_to))
    if conv.assignee_id is None and not conv.in_bot_mode:
        topics += inbox_topics(conv.site_id)
    return topics


class Delivery:
    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        self._last: dict[int, ConversationState] = {}

    def message(self, event: MessageCreated) -> None:
        conv = event.conversation
        out = message_out_of(event)
        payload = tag_message(out.frame(), conv.id, event.seq)
        for topic in agent_topics(conv):
            self.bus.publish_nowait(topic, payload)
        if not event.internal:
            self.bus.publish_nowait(visitor_topic(conv.visitor_id), payload)

    def conversation(self, event: ConversationEvent) -> None:
        """One frame per new state: several events of one change (opened and queued) send it
        once."""
        conv = event.conversation
        created = isinstance(event, ConversationOpened)
        if not created and self._last.get(conv.id) == conv:
            return
        self._remember(conv)
        for_agents = ConversationOut(conversation=conversation_dict(conv), created=created)
        for_visitor = ConversationOut(
            conversation=conversation_dict(conv, for_visitor=True), created=created
        )
        tag = (conv.id, conv.visitor_id, conv.assignee_id, created)
        payload = tag_conversation(for_agents.frame(), *tag)
        for topic in inbox_topics(conv.site_id):
            self.bus.publish_nowait(topic, payload)
        self.bus.publish_nowait(
            visitor_topic(conv.visitor_id), tag_conversation(for_visitor.frame(), *tag)
        )

    def conversation_for_agents(self, event: ConversationEvent) -> None:
        """A change only consoles show (the lifecycle's silent and waiting marks)."""
        conv = event.conversation
        self._remember(conv)
        frame = ConversationOut(conversation=conversation_dict(conv), created=False).frame()
        tag = (conv.id, conv.visitor_id, conv.assignee_id, False)
        payload = tag_conversation(frame, *tag)
        for topic in inbox_topics(conv.site_id):
            self.bus.publish_nowait(topic, payload)

    def _remember(self, conv: ConversationState) -> None:
        self._last.pop(conv.id, None)
        self._last[conv.id] = conv
        if len(self._last) > LAST_SENT:
            self._last.pop(next(iter(self._last)))

    def read(self, event: ConversationRead) -> None:
        conv = event.conversation
        frame = ReadOut(conversation_id=conv.id, reader=event.reader, seq=event.seq).frame()
        for topic in [*agent_topics(conv), visitor_topic(conv.visitor_id)]:
            self.bus.publish_nowait(topic, frame)

    def delivery(self, event: MessageDeliveryChanged) -> None:
        """A message's channel delivery: to the consoles that follow it, never the visitor."""
        conv = event.conversation
        frame = DeliveryOut(
            conversation_id=conv.id,
            message_id=event.message_id,
            seq=event.seq,
            channel=event.channel,
            state=event.state,  # type: ignore[arg-type]
            attempts=event.attempts,
            error=event.error,
        ).frame()
        for topic in agent_topics(conv):
            self.bus.publish_nowait(topic, frame)

    def queue_position(self, event: QueuePositionChanged) -> None:
        out = QueueOut(
            conversation_id=event.conversation_id,
            position=event.position,
            estimated_wait_seconds=event.wait_seconds,
        )
        self.bus.publish_nowait(visitor_topic(event.visitor_id), out.frame())

    def overflow(self, event: ConversationOverflowed) -> None:
        out = OverflowOut(
            conversation_id=event.conversation_id,
            reason=event.reason,
            estimated_wait_seconds=event.wait_seconds,
            options=list(event.options),
        )
        self.bus.publish_nowait(visitor_topic(event.visitor_id), out.frame())

    def offer(self, event: OfferShown) -> None:
        out = OfferOut(
            offer_id=event.offer_id,
            kind=event.kind,  # type: ignore[arg-type]
            text=event.text,
            auto_open=event.auto_open,
            quiet=event.quiet,
            agent_name=event.agent_name,
            agent_photo=event.agent_photo,
            tab=event.tab,
        )
        self.bus.publish_nowait(visitor_topic(event.visitor_id), out.frame())

    def cobrowse(self, event: CobrowseChanged) -> None:
        frame = CobrowseOut(
            session_id=event.session_id,
            conversation_id=event.conversation_id,
            status=event.status,  # type: ignore[arg-type]
            control=event.control,
            auto_follow=event.auto_follow,
            agent_name=event.agent_name,
            by=event.by,  # type: ignore[arg-type]
        ).frame()
        topics = []
        if event.status in ("ended", "declined"):
            # First the relay's gate on the recording socket: it closes and forgets the
            # session, so the page's next batch (sent once it hears "ended") is refused.
            topics.append(gate_topic(event.session_id))
        topics += [
            visitor_topic(event.visitor_id),
            watch_topic(event.conversation_id),
            session_topic(event.session_id),
        ]
        if event.agent_id is not None:
            topics.append(agent_topic(event.agent_id))
        for topic in topics:
            self.bus.publish_nowait(topic, frame)

    def access_changed(self, event: AgentAccessChanged) -> None:
        """The agent's consoles close (4002) and reconnect, joining their new sites' topics."""
        payload = tag_access_changed(PingOut().frame())  # nothing to say: the close says it
        self.bus.publish_nowait(agent_topic(event.agent_id), payload)

    def sessions_ended(self, event: AgentSessionsEnded) -> None:
        message = SESSION_END_MESSAGES.get(event.reason, "the session ended; log in again")
        frame = error_frame("session_ended", message)
        payload = tag_sessions_ended(frame, event.session_ids)
        self.bus.publish_nowait(agent_topic(event.agent_id), payload)
