"""The write path for routing: queueing, agents accepting or declining, transfers, and the
visitor's choice when the wait is long or nobody is online."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.agents.scope import ensure_agent_serves
from tresen.conversations.actions import add_message
from tresen.conversations.queries import access_conversation_by_id
from tresen.errors import Conflict, Forbidden, Invalid
from tresen.events import (
    ConversationAbandoned,
    ConversationAssigned,
    ConversationDeclined,
    ConversationQueued,
    ConversationState,
    ConversationTransferred,
    QueueChoiceMade,
    record,
)
from tresen.principal import Principal
from tresen.routing.callbacks import add_requested_callback, parse_phone, record_requested
from tresen.routing.dispatcher import LOCK_KEY
from tresen.routing.queue import agent_loads, waiting_filter
from tresen.runtime import Runtime
from tresen.storage.models import Agent, Conversation, Visitor

Choice = Literal["wait", "message", "callback", "bot", "leave"]


async def check_answer_offer(
    rt: Runtime, who: Principal, conv_id: int, accept: bool
) -> Conversation:
    """The agent a chat was offered to accepts it, or declines it back to the queue."""
    now = rt.clock.now()
    async with rt.db.write() as s:
        conv = await access_conversation_by_id(s, who, conv_id, lock=True)
        if conv.offered_to != who.id:
            raise Conflict("this chat is not offered to you (any more)", code="not_offered")
        conv.offered_to, conv.offered_at, conv.updated_at = None, None, now
        if accept:
            conv.assignee_id, conv.assigned_at = who.id, now
        else:
            conv.declined_by = [*conv.declined_by, who.id]
        state = ConversationState.of(conv)
        if accept:
            record(s, ConversationAssigned(state, who.id, by="accept", by_agent_id=who.id))
        else:
            record(s, ConversationDeclined(state, who.id, expired=False))
    return conv


async def check_transfer(
    rt: Runtime,
    who: Principal,
    conv_id: int,
    *,
    agent_id: int | None = None,
    skill: str | None = None,
    department: str | None = None,
    note: str = "",
) -> Conversation:
    """Hand a chat to another agent (if they have room) or back to a skill/department queue,
    keeping its place; the note is an internal note, so the next agent reads why."""
    if agent_id is None and skill is None and department is None:
        raise Invalid("transfer to an agent_id, a skill or a department")
    now = rt.clock.now()
    async with rt.db.write() as s:
        if agent_id is not None and not rt.db.is_sqlite:
            # The dispatcher's lock: a pass cannot fill this agent's last slot meanwhile.
            await s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
        conv = await access_conversation_by_id(s, who, conv_id, lock=True)
        previous = conv.assignee_id
        if agent_id is not None:
            await ensure_agent_serves(s, agent_id, conv.site_id)
            await _check_room(s, agent_id)
            if conv.assigned_at is not None and "first_assigned_at" not in conv.meta:
                conv.meta = {**conv.meta, "first_assigned_at": conv.assigned_at.isoformat()}
            conv.assignee_id, conv.assigned_at = agent_id, now
        else:
            conv.skill = skill or conv.skill
            conv.department = department or conv.department
            conv.assignee_id, conv.offered_to, conv.declined_by = None, None, []
            conv.queued_at = conv.queued_at or now
            conv.priority = max(conv.priority, 1)  # a transferred visitor is not sent to the back
        conv.updated_at = now
        conv.meta = {**conv.meta, "transfers": int(conv.meta.get("transfers", 0)) + 1}
        target = f"agent {agent_id}" if agent_id else (skill or department)
        told = f"Transferred to {target} by {who.name}" + (f": {note}" if note else "")
        await add_message(s, conv, now, author_kind="system", body=told, internal=True)
        state = ConversationState.of(conv)
        record(
            s,
            ConversationTransferred(
                state, previous, agent_id, skill, department, by_agent_id=who.id, note=note
            ),
        )
        if agent_id is None:
            record(s, ConversationQueued(state, "transfer"))
    return conv


async def _check_room(s: AsyncSession, agent_id: int) -> None:
    agent = await s.get(Agent, agent_id)
    if agent is None or not agent.is_active:
        raise Invalid(f"no agent {agent_id}")
    load = next((a for a in await agent_loads(s, online_only=False) if a.id == agent_id), None)
    if agent.status != "online" or load is None or load.load >= load.max_chats:
        raise Conflict(f"{agent.display_name} is not online with a free slot", code="no_room")


async def check_queue_choice(
    rt: Runtime, who: Principal, conv_id: int, choice: Choice, details: dict[str, Any]
) -> Conversation:
    """What a waiting visitor chose: keep waiting, leave a message (answered by email),
    ask for a callback, continue with the bot, or leave the queue (counted as abandoned)."""
    if who.kind != "visitor":
        raise Forbidden("only the waiting visitor chooses")
    now = rt.clock.now()
    async with rt.db.write() as s:
        conv = await access_conversation_by_id(s, who, conv_id, lock=True)
        if conv.queued_at is None or conv.assignee_id is not None or conv.status != "open":
            raise Conflict("this conversation is not waiting in the queue", code="not_queued")
        phone = ""
        if choice == "callback":  # a number we can call (stored as E.164), or a clear error now
            raw = _field(details, "phone", 40, required=True)
            phone = parse_phone(raw, rt.settings.callback_region)
        summary = _apply_choice(conv, choice, details, now)
        if choice == "callback":  # a work item of its own (routing/callbacks.py)
            cb = add_requested_callback(s, conv, phone, _field(details, "when", 100), now)
            await s.flush()
            record_requested(s, cb)
        if choice == "message" and details.get("email"):
            visitor = await s.get(Visitor, who.id)
            if visitor is not None and not visitor.email:
                visitor.email = str(details["email"])[:320]
        if summary:
            await add_message(s, conv, now, author_kind="system", body=summary)
        state = ConversationState.of(conv)
        record(s, QueueChoiceMade(state, choice))  # "bot": the bot takes it (a listener)
        if choice == "leave":
            record(s, ConversationAbandoned(state, "left_queue"))
    return conv


def _apply_choice(conv: Conversation, choice: Choice, d: dict[str, Any], now: datetime) -> str:
    if choice == "wait":
        return ""
    conv.meta = {**conv.meta, "overflow_choice": choice, **_left_queue(conv)}
    conv.queued_at, conv.updated_at = None, now
    if choice == "leave":
        conv.status, conv.closed_at = "abandoned", now
        return "The visitor left the queue."
    if choice == "bot":
        conv.meta = {**conv.meta, "bot": True, "bot_misses": 0}
        return "The visitor continues with the bot."
    conv.status = "pending"
    if choice == "message":
        email = _field(d, "email", 320, required=True)
        conv.channel, conv.meta = "email", {**conv.meta, "reply_to": email}
        return f"Message left; we answer by email to {email}."
    phone, when = _field(d, "phone", 40, required=True), _field(d, "when", 100)
    conv.meta = {**conv.meta, "callback": {"phone": phone, "when": when}}
    return f"Callback requested: {phone}" + (f", {when}" if when else "") + "."


def _left_queue(conv: Conversation) -> dict[str, str]:
    """When it joined the queue it leaves now (reports measure waits and abandons by it)."""
    return {"queued_since": conv.queued_at.isoformat()} if conv.queued_at else {}


def _field(d: dict[str, Any], key: str, limit: int, required: bool = False) -> str:
    value = str(d.get(key) or "").strip()
    if required and not value:
        raise Invalid(f"{key} is required for this choice")
    if len(value) > limit:
        raise Invalid(f"{key}: at most {limit} characters")
    return value


async def do_abandon_gone(rt: Runtime, visitor_id: int) -> list[Conversation]:
    """The visitor left the site while waiting: their queued chats count as abandoned (an
    agent is never handed a chat with nobody on the other end)."""
    now = rt.clock.now()
    async with rt.db.write() as s:
        stmt = (
            select(Conversation)
            .where(*waiting_filter())  # type: ignore[arg-type]
            .where(Conversation.visitor_id == visitor_id)
            .with_for_update()
        )
        convs = list((await s.execute(stmt)).scalars())
        for conv in convs:
            conv.meta = {**conv.meta, "abandoned": "left the site", **_left_queue(conv)}
            conv.status, conv.closed_at, conv.queued_at, conv.updated_at = (
                "abandoned",
                now,
                None,
                now,
            )
            record(s, ConversationAbandoned(ConversationState.of(conv), "left_site"))
    return convs
