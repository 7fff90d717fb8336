from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, LargeBinary, String, true
from sqlalchemy.orm import Mapped, mapped_column

from tresen.storage.models.base import Base


class Agent(Base):
    """A person answering chats: an agent or an admin."""

    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="agent")
    skills: Mapped[list[str]] = mapped_column(default=list)
    skill_levels: Mapped[dict[str, Any]] = mapped_column(
        default=dict
    )  # skill -> level, 1 if absent
    departments: Mapped[list[str]] = mapped_column(default=list)
    max_chats: Mapped[int] = mapped_column(default=4)
    status: Mapped[str] = mapped_column(String(16), default="offline")
    is_active: Mapped[bool] = mapped_column(default=True)
    # Email blending: False keeps the agent on chats only (the supervisor's toggle).
    takes_email: Mapped[bool] = mapped_column(default=True, server_default=true())
    created_at: Mapped[datetime]
    idle_since: Mapped[datetime | None] = mapped_column(default=None)
    # An optional picture shown to visitors (bounded, type-checked: agents/avatar.py).
    avatar: Mapped[bytes | None] = mapped_column(LargeBinary, default=None, deferred=True)
    avatar_type: Mapped[str | None] = mapped_column(String(32), default=None)
    avatar_at: Mapped[datetime | None] = mapped_column(default=None)


class AgentSession(Base):
    """A logged-in browser. Only the token's hash is stored."""

    __tablename__ = "agent_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
