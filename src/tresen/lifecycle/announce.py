"""The visitor is told: who has the chat now (the widget header, "Ben takes over" after a
transfer) and that the chat ended (with a rating request); when the visitor ended it, the agent
reads so in the chat (an internal line). Listeners on committed events
(``wiring.py``); the messages go through the one write path (``conversations.seq``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

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
from tresen.lifecycle.rating import rating_link
from tresen.lifecycle.settings import text, timers_for
from tresen.lifecycle.state import visitor_language
from tresen.lifecycle.timers import SYSTEM
from tresen.runtime import Runtime
from tresen.storage.models import Agent, Conversation, Mailbox, Outbox
from tresen.storage.outbox import outbox_values


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


def wants_end_notice(event: ConversationResolved) -> bool:
    """Resolved by an agent (a web chat or an email conversation) or by the visitor (a web
    chat); the timer's close tells the visitor itself (``timers.py``)."""
    if event.by == "visitor":
        return event.conversation.channel == "web"
    return event.by_agent_id is not None and event.conversation.channel in ("web", "email")


async def announce_end(rt: Runtime, event: ConversationResolved) -> None:
    """An agent resolved the chat: the visitor reads that it ended and is asked for a rating.
    The visitor ended it: the agent reads "The visitor ended the chat" (an internal line, in
    the visitor's language like the other lines of the chat), the visitor is asked for a
    rating."""
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
        by_visitor = event.by == "visitor"
        if conv.channel == "email":
            await _closing_mail(rt, s, conv, event.by_agent_id, lang, now)
        elif by_visitor:
            note = await store_message(
                s,
                conv,
                now,
                author_kind="system",
                author_id=None,
                body=text("ended_by_visitor", lang),
                internal=True,
            )
            record(s, message_created(ConversationState.of(conv), note, None))
        else:
            msg = await store_message(
                s, conv, now, author_kind="system", author_id=None, body=text("ended", lang)
            )
            record(s, message_created(ConversationState.of(conv), msg, None))
        conv.meta = {
            **conv.meta,
            "lifecycle": {},
            "ended": {
                "by": "visitor" if by_visitor else "agent",
                "agent_id": conv.assignee_id if by_visitor else event.by_agent_id,
                "at": now.isoformat(),
                "scale": t.rating_scale,
            },
        }
        record(s, ConversationEnded(ConversationState.of(conv), event.by))


async def _closing_mail(
    rt: Runtime, s: AsyncSession, conv: Conversation, agent_id: int | None, lang: str, now: datetime
) -> None:
    """An email conversation was resolved: the customer gets a closing mail (in the agent's
    name, from the outbox like every reply) with a signed link to rate the answer."""
    if (
        agent_id is None
        or await s.scalar(select(Mailbox.id).where(Mailbox.site_id == conv.site_id)) is None
    ):
        return  # no mailbox: nothing can be sent
    agent = await s.get(Agent, agent_id)
    body = text("rate_mail", lang, link=rating_link(rt, conv.id))
    msg = await store_message(s, conv, now, author_kind="agent", author_id=agent_id, body=body)
    values = outbox_values(
        channel=conv.channel,
        author_kind="agent",
        internal=False,
        conversation_id=conv.id,
        message_id=msg.id,
        now=now,
    )
    if values is not None:
        s.add(Outbox(**values))
    name = agent.display_name if agent else None
    record(s, message_created(ConversationState.of(conv), msg, name))
