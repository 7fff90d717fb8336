"""Email blending inside a dispatch pass: email work is handed out after the chats, and held
back (untouched items returned to the backlog) while a chat waits for the agent.

Settings (env): ``TRESEN_EMAIL_SLOTS`` (default 1), ``TRESEN_EMAIL_CHAT_RESERVE`` (default 1),
``TRESEN_EMAIL_YIELD`` (default true). They are read from the process's ``Settings`` when it
has ``email_slots`` / ``email_chat_reserve`` / ``email_yield`` fields, else from the
environment here, so the routing package owns them until they move into ``Settings``.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.routing.queue import email_items
from tresen.routing.strategies import AgentLoad, EmailRules, Request, plan_email
from tresen.storage.models import Conversation


class EmailSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TRESEN_EMAIL_", env_file=".env", extra="ignore")

    slots: int = Field(default=1, ge=0)
    chat_reserve: int = Field(default=1, ge=0)
    yield_: bool = Field(default=True, validation_alias="TRESEN_EMAIL_YIELD")


@lru_cache
def _from_env() -> EmailSettings:
    return EmailSettings()


def email_rules(settings: object) -> EmailRules:
    env = _from_env()
    return EmailRules(
        slots=int(getattr(settings, "email_slots", env.slots)),
        chat_reserve=int(getattr(settings, "email_chat_reserve", env.chat_reserve)),
        yield_untouched=bool(getattr(settings, "email_yield", env.yield_)),
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
