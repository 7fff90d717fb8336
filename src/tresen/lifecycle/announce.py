"""The visitor is told: who has the chat now (the widget header, "Ben takes over" after a
transfer) and that the chat ended (with a rating request). Listeners on committed events
(``wiring.py``); the messages go through the one write path (``conversations.seq``)."""

from __future__ import annotations

from tresen.agents.queries import avatar_path
from tresen.conversations.queries import access_conversation_by_id
from tresen.conversations.sent import message_created
from tresen.conversations.seq import store_message
from tresen.events import (
    AgentIntroduced,
    ConversationAssigned,
    ConversationEnded,
    ConversationResolved,
    ConversationState,
    ConversationTransferred,
    record,
)
from tresen.lifecycle.settings import text, timers_for
from tresen.lifecycle.state import visitor_language
from tresen.lifecycle.timers import SYSTEM
from tresen.runtime import Runtime
from tresen.storage.models import Agent


def new_agent(event: ConversationAssigned | ConversationTransferred) -> int | None:
    if isinstance(event, ConversationTransferred):
        return event.to_agent_id
    return event.agent_id


def wants_introduction(event: ConversationAssigned | ConversationTransferred) -> bool:
    return new_agent(event) is not None and event.conversation.channel == "web"


async def introduce(rt: Runtime, event: ConversationAssigned | ConversationTransferred) -> None:
    """Tell the visitor who has the chat; after a change of agent, say so in the chat and keep
    the previous agent's view read-only (``meta["former_agents"]``)."""
    agent_id = new_agent(event)
    now = rt.clock.now()
    async with rt.db.write() as s:
        conv = await access_conversation_by_id(s, SYSTEM, event.conversation.id, lock=True)
        shown = (conv.meta.get("agent") or {}).get("id")
        if conv.assignee_id != agent_id or shown == agent_id or agent_id is None:
            return  # changed hands again meanwhile, or already told
        agent = await s.get(Agent, agent_id)
        if agent is None:
            return
        meta = {
            **conv.meta,
            "agent": {"id": agent.id, "name": agent.display_name, "avatar": avatar_path(agent)},
        }
        previous = shown
        if isinstance(event, ConversationTransferred) and event.from_agent_id is not None:
            previous = event.from_agent_id
        if previous is not None and previous != agent_id:
            former = [a for a in meta.get("former_agents", []) if a != agent_id]
            meta["former_agents"] = [*former, previous] if previous not in former else former
            lang = await visitor_language(s, conv)
            msg = await store_message(
                s,
                conv,
                now,
                author_kind="system",
                author_id=None,
                body=text("takes_over", lang, name=agent.display_name),
            )
            record(s, message_created(ConversationState.of(conv), msg, None))
        conv.meta = meta
        record(s, AgentIntroduced(ConversationState.of(conv), agent_id, previous))


def ended_by_agent(event: ConversationResolved) -> bool:
    return event.by_agent_id is not None and event.conversation.channel == "web"


async def announce_end(rt: Runtime, event: ConversationResolved) -> None:
    """An agent resolved the chat: the visitor reads that it ended and is asked for a rating."""
    now = rt.clock.now()
    async with rt.db.write() as s:
        conv = await access_conversation_by_id(s, SYSTEM, event.conversation.id, lock=True)
        ended = (conv.meta.get("ended") or {}).get("at")
        if conv.status != "resolved" or (
            ended is not None and ended >= event.conversation.updated_at.isoformat()
        ):
            return  # reopened meanwhile, or already told
        t = await timers_for(s, conv.site_id, conv.skill)
        lang = await visitor_language(s, conv)
        msg = await store_message(
            s, conv, now, author_kind="system", author_id=None, body=text("ended", lang)
        )
        record(s, message_created(ConversationState.of(conv), msg, None))
        conv.meta = {
            **conv.meta,
            "lifecycle": {},
            "ended": {"by": "agent", "at": now.isoformat(), "scale": t.rating_scale},
        }
        record(s, ConversationEnded(ConversationState.of(conv), "agent"))
