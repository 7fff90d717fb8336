"""The inbox's news to the consoles (docs/inbox.md): tags of a conversation changed (every
console: views by tag and their counts), a callback was requested or changed (every console: the
callback lists), a callback is due (its owner's consoles; unowned, every console). Snoozes and
wake-ups change the conversation's state and go out as ``conversation`` frames
(``Delivery.conversation``)."""

from __future__ import annotations

from tresen.events import CallbackChanged, CallbackDue, ConversationTagged
from tresen.realtime.bus import Bus
from tresen.realtime.protocol import CallbackOut, TagsOut
from tresen.realtime.topics import INBOX_TOPIC, agent_topic


class InboxDelivery:
    def __init__(self, bus: Bus) -> None:
        self.bus = bus

    def tags(self, event: ConversationTagged) -> None:
        frame = TagsOut(conversation_id=event.conversation.id, tags=list(event.tags)).frame()
        self.bus.publish_nowait(INBOX_TOPIC, frame)

    def callback(self, event: CallbackChanged) -> None:
        frame = CallbackOut(
            callback={
                "id": event.callback_id,
                "site_id": event.site_id,
                "owner_id": event.owner_id,
                "status": event.status,
                "remind_at": event.remind_at.isoformat() if event.remind_at else None,
                "created": event.created,
            }
        ).frame()
        self.bus.publish_nowait(INBOX_TOPIC, frame)

    def callback_due(self, event: CallbackDue) -> None:
        frame = CallbackOut(
            callback={
                "id": event.callback_id,
                "site_id": event.site_id,
                "owner_id": event.owner_id,
                "phone": event.phone,
                "conversation_id": event.conversation_id,
            },
            due=True,
        ).frame()
        topic = agent_topic(event.owner_id) if event.owner_id is not None else INBOX_TOPIC
        self.bus.publish_nowait(topic, frame)
