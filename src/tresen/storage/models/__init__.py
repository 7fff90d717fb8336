"""Every model, imported so that ``Base.metadata`` knows all tables."""

from tresen.storage.models.access import AgentSite, ApiToken, AuditEntry, Team, TeamMember
from tresen.storage.models.agent import Agent, AgentSession
from tresen.storage.models.assist import (
    CannedResponse,
    KbArticle,
    KbCategory,
    KbRead,
    SuggestionPick,
)
from tresen.storage.models.base import Base
from tresen.storage.models.cobrowse import CobrowseAudit, CobrowseSession, SupportCode
from tresen.storage.models.contact import (
    Contact,
    ContactIdentity,
    ContactNote,
    SitePrivacy,
)
from tresen.storage.models.conversation import Conversation
from tresen.storage.models.digest import DigestMail, ReportDigest
from tresen.storage.models.email import InboundMail, Mailbox, Outbox
from tresen.storage.models.faq import FaqEntry
from tresen.storage.models.inbox import Callback, ConversationTag
from tresen.storage.models.invite import ChatInvite
from tresen.storage.models.lifecycle import LifecycleSettings, Rating
from tresen.storage.models.message import Message, MessageSearchPosition
from tresen.storage.models.messaging import (
    ChannelAccount,
    ChannelEvent,
    ChannelMedia,
    MessageTemplate,
)
from tresen.storage.models.radar import CapacitySample, PageView, RadarOffer, RadarRule
from tresen.storage.models.report import (
    ReportAgentStatus,
    ReportConversation,
    ReportHourly,
    ReportHourlyAgent,
)
from tresen.storage.models.site import Site
from tresen.storage.models.visit import Visit
from tresen.storage.models.visitor import Visitor
from tresen.storage.models.webhook import WebhookAttempt, WebhookDelivery, WebhookSubscription

__all__ = [
    "Agent",
    "AgentSession",
    "AgentSite",
    "ApiToken",
    "AuditEntry",
    "Base",
    "Callback",
    "CannedResponse",
    "CapacitySample",
    "ChannelAccount",
    "ChannelEvent",
    "ChannelMedia",
    "ChatInvite",
    "CobrowseAudit",
    "CobrowseSession",
    "Contact",
    "ContactIdentity",
    "ContactNote",
    "Conversation",
    "ConversationTag",
    "DigestMail",
    "FaqEntry",
    "InboundMail",
    "KbArticle",
    "KbCategory",
    "KbRead",
    "LifecycleSettings",
    "Mailbox",
    "Message",
    "MessageSearchPosition",
    "MessageTemplate",
    "Outbox",
    "PageView",
    "RadarOffer",
    "RadarRule",
    "Rating",
    "ReportAgentStatus",
    "ReportConversation",
    "ReportDigest",
    "ReportHourly",
    "ReportHourlyAgent",
    "Site",
    "SitePrivacy",
    "SuggestionPick",
    "SupportCode",
    "Team",
    "TeamMember",
    "Visit",
    "Visitor",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookSubscription",
]
