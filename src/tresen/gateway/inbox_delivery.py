"""The inbox's news to the consoles of the conversation's site (docs/inbox.md; admins hear
every site): tags of a conversation changed (views by tag and their counts), a callback was
requested or changed (the callback lists), a callback is due (its owner's consoles; unowned, the
site's). Snoozes and wake-ups change the conversation's state and go out as ``conversation``
frames (``Delivery.conversation``)."""

from __future__ import annotations

from tresen.events import CallbackChanged, CallbackDue, ConversationTagged
from tresen.realtime.bus import Bus
from tresen.realtime.protocol import CallbackOut, TagsOut
from tresen.realtime.topics import agent_topic, inbox_topics


class InboxDelivery:
    def __init__(self, bus: Bus) -> None:
        self.bus = bus

    def tags(self, event: ConversationTagged) -> None:
        frame = TagsOut(conversation_id=event.conversation.id, tags=list(event.tags)).frame()
        self._to_site(event.conversation.site_id, frame)

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
        self._to_site(event.site_id, frame)

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
        if event.owner_id is not None:
            self.bus.publish_nowait(agent_topic(event.owner_id), frame)
        else:
            self._to_site(event.site_id, frame)

    def _to_site(self, site_id: int, frame: str) -> None:
        """The consoles of the site's agents (and admins, on every site's topic)."""
        for topic in inbox_topics(site_id):
            self.bus.publish_nowait(topic, frame)
