"""Agents (status, capacity, access, sessions) and outgoing webhook subscriptions."""

from __future__ import annotations

from dataclasses import dataclass

from tresen.events.base import Event


@dataclass(frozen=True, slots=True)
class AgentStatusChanged(Event):
    agent_id: int
    status: str
    old_status: str

    @property
    def key(self) -> object:
        return ("a", self.agent_id)


@dataclass(frozen=True, slots=True)
class CapacityChanged(Event):
    """An agent's skills, chat limit, email blending or activity changed."""

    agent_id: int

    @property
    def key(self) -> object:
        return ("a", self.agent_id)


@dataclass(frozen=True, slots=True)
class AgentAccessChanged(Event):
    """The sites an agent serves (or their role) changed: their open consoles reconnect, so
    they follow the topics of their sites from then on."""

    agent_id: int

    @property
    def key(self) -> object:
        return ("a", self.agent_id)


@dataclass(frozen=True, slots=True)
class AgentSessionsEnded(Event):
    """Sessions of an agent ended (logout, password change, deactivation): the sockets opened
    with them close. ``session_ids`` None: every session of the agent."""

    agent_id: int
    session_ids: tuple[int, ...] | None
    reason: str  # logout | password_changed | deactivated

    @property
    def key(self) -> object:
        return ("a", self.agent_id)


# ---- outgoing webhooks ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WebhookSubscriptionsChanged(Event):
    """A webhook subscription was created, changed, deleted or switched off (410 Gone): every
    node reads the active subscriptions again before it writes the next deliveries."""

    subscription_id: int
