"""Every model, imported so that ``Base.metadata`` knows all tables."""

from tresen.storage.models.access import AgentSite, ApiToken, AuditEntry, Team, TeamMember
from tresen.storage.models.agent import Agent, AgentSession
from tresen.storage.models.base import Base
from tresen.storage.models.cobrowse import CobrowseAudit, CobrowseSession, SupportCode
from tresen.storage.models.conversation import Conversation
from tresen.storage.models.email import InboundMail, Mailbox, Outbox
from tresen.storage.models.faq import FaqEntry
from tresen.storage.models.invite import ChatInvite
from tresen.storage.models.message import Message
from tresen.storage.models.radar import CapacitySample, PageView, RadarOffer, RadarRule
from tresen.storage.models.report import ReportAgentStatus, ReportConversation
from tresen.storage.models.site import Site
from tresen.storage.models.visit import Visit
from tresen.storage.models.visitor import Visitor

__all__ = [
    "Agent",
    "AgentSession",
    "AgentSite",
    "ApiToken",
    "AuditEntry",
    "Base",
    "CapacitySample",
    "ChatInvite",
    "CobrowseAudit",
    "CobrowseSession",
    "Conversation",
    "FaqEntry",
    "InboundMail",
    "Mailbox",
    "Message",
    "Outbox",
    "PageView",
    "RadarOffer",
    "RadarRule",
    "ReportAgentStatus",
    "ReportConversation",
    "Site",
    "SupportCode",
    "Team",
    "TeamMember",
    "Visit",
    "Visitor",
]
