"""Conversation frames on a socket: send, typing, read, the visitor's end of a chat. Thin:
validate access, call an action, answer. Registered with the gateway in ``tresen.wiring``."""

from __future__ import annotations

from tresen.conversations import actions
from tresen.conversations.queries import access_conversation_by_id
from tresen.peer import Peer
from tresen.realtime.protocol import (
    AckOut,
    Author,
    EndChatIn,
    ReadIn,
    SendIn,
    TypingIn,
    TypingOut,
)
from tresen.realtime.topics import agent_topic, inbox_topics, visitor_topic, watch_topic


async def on_send(peer: Peer, frame: SendIn) -> None:
    sent = await actions.check_send_message(
        peer.rt,
        peer.who,
        body=frame.body,
        client_msg_id=frame.client_msg_id,
        conversation_id=frame.conversation_id,
        internal=frame.internal,
        skill=frame.skill,
        attachments=frame.attachments,
    )
    conv = sent.conversation
    peer.remember_conversation(conv.id, conv.visitor_id, conv.assignee_id)
    if frame.conversation_id is None:
        peer.track_from_start(conv.id)  # tracking starts with the sender's own ack
    peer.send(
        AckOut(
            client_msg_id=frame.client_msg_id,
            conversation_id=conv.id,
            seq=sent.seq,
            id=sent.id,
            duplicate=sent.duplicate,
        ).frame()
    )


async def on_end_chat(peer: Peer, frame: EndChatIn) -> None:
    """Nothing is answered: the conversation's change reaches every tab of the visitor."""
    await actions.check_end_chat(peer.rt, peer.who, frame.conversation_id)


async def on_read(peer: Peer, frame: ReadIn) -> None:
    await actions.check_mark_read(peer.rt, peer.who, frame.conversation_id, frame.seq)


async def on_typing(peer: Peer, frame: TypingIn) -> None:
    """Typing is not stored: it goes straight to the other side and to watchers."""
    conv_id = frame.conversation_id
    brief = peer.conversation_brief(conv_id)
    if brief is None:
        async with peer.rt.db.read() as s:
            conv = await access_conversation_by_id(s, peer.who, conv_id)
        brief = (conv.visitor_id, conv.assignee_id)
        peer.remember_conversation(conv_id, *brief)
    visitor_id, assignee_id = brief
    out = TypingOut(
        conversation_id=conv_id,
        author=Author(kind=peer.who.kind, id=peer.who.id, name=peer.who.name),
        is_typing=frame.is_typing,
    ).frame()
    topics = [watch_topic(conv_id)]
    if assignee_id:
        topics.append(agent_topic(assignee_id))
    elif peer.who.kind == "visitor" and peer.who.site_id is not None:
        topics += inbox_topics(peer.who.site_id)  # the agents of the site who may take it
    if peer.who.kind == "agent":
        topics.append(visitor_topic(visitor_id))
    for topic in topics:
        peer.rt.bus.publish_nowait(topic, out)
