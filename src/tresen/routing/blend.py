"""Email blending inside a dispatch pass: email work is handed out after the chats, and held
back (untouched items returned to the backlog) while a chat waits for the agent.

Settings: ``TRESEN_EMAIL_SLOTS`` (default 1), ``TRESEN_EMAIL_CHAT_RESERVE`` (default 1),
``TRESEN_EMAIL_YIELD`` (default true).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from tresen.routing.queue import email_items
from tresen.routing.strategies import AgentLoad, EmailRules, Request, plan_email
from tresen.settings import Settings
from tresen.storage.models import Conversation


def email_rules(settings: Settings) -> EmailRules:
    return EmailRules(
        slots=settings.email_slots,
        chat_reserve=settings.email_chat_reserve,
        yield_untouched=settings.email_yield,
    )


async def blend_email(
    s: AsyncSession,
    rules: EmailRules,
    agents: list[AgentLoad],
    waiting: list[Request],
    now: datetime,
) -> list[Conversation]:
    """Return untouched items of held agents, then assign backlog items to agents with room.
    ``agents``: loads after this pass's chat assignments; ``waiting``: the chats that waited
    when the pass began. Returns the conversations that changed."""
    items = await email_items(s, lock=True)
    if not items:
        return []
    back, pairs = plan_email(agents, [i for _, i in items], waiting, rules)
    by_id = {c.id: c for c, _ in items}
    changed: dict[int, Conversation] = {}
    for conv_id in back:
        conv = by_id[conv_id]
        conv.assignee_id, conv.assigned_at, conv.updated_at = None, None, now
        changed[conv_id] = conv
    for conv_id, agent_id in pairs:
        conv = by_id[conv_id]
        conv.assignee_id, conv.assigned_at, conv.updated_at = agent_id, now, now
        changed[conv_id] = conv
    return list(changed.values())
