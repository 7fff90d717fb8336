"""The FAQ bot: answers a visitor's messages while a conversation is in bot mode, and hands
over to a person (queued with priority, with a summary note) when it cannot help.

Listeners (``tresen.wiring``): ``on_message_created`` for a visitor's message in a bot-mode
conversation, ``on_queue_choice`` when a waiting visitor chooses the bot. Every bot reply is
written here, in one transaction with the conversation's state; its events go out after commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.assist.faq import Match, best_match, fold, guess_language, tokens
from tresen.assist.text import plain_text
from tresen.conversations.actions import add_message
from tresen.conversations.queries import access_conversation_by_id
from tresen.conversations.queueing import prepare_queue
from tresen.conversations.wire import BOT_NAME
from tresen.errors import Conflict, Forbidden
from tresen.events import (
    ConversationHandedOver,
    ConversationQueued,
    ConversationState,
    MessageCreated,
    QueueChoiceMade,
    record,
)
from tresen.principal import Principal
from tresen.runtime import Runtime
from tresen.storage.models import Conversation, FaqEntry, KbArticle, Message

MAX_MISSES = 2  # unanswered questions before the bot hands over by itself
PERSON_WORDS = frozenset(
    {
        "human",
        "person",
        "agent",
        "operator",
        "mensch",
        "menschen",
        "mitarbeiter",
        "menneske",
        "medarbejder",
        "support",
    }
)
Reason = Literal["asked", "no_answer", "button"]
REASONS = {
    "asked": "the visitor asked for a person",
    "no_answer": f"the bot could not answer {MAX_MISSES} questions",
    "button": 'the visitor pressed "Talk to a person"',
}
TEXTS: dict[str, dict[str, str]] = {
    "greeting": {
        "en": "Hi, I am the Tresen bot. Ask me a question, or press “Talk to a person”.",
        "de": "Hallo, ich bin der Tresen-Bot. Stellen Sie mir eine Frage oder wählen Sie "
        "„Mit einem Menschen sprechen“.",
        "da": "Hej, jeg er Tresen-botten. Stil mig et spørgsmål, eller tryk på "
        "„Tal med et menneske“.",
    },
    "miss": {
        "en": "Sorry, I do not know that one. Could you put it another way? Or press "
        "“Talk to a person”.",
        "de": "Das weiß ich leider nicht. Können Sie es anders formulieren? Oder wählen Sie "
        "„Mit einem Menschen sprechen“.",
        "da": "Det ved jeg desværre ikke. Kan du formulere det anderledes? Eller tryk på "
        "„Tal med et menneske“.",
    },
    "handover": {
        "en": "I am connecting you with a person. They see everything you wrote, so you do not "
        "need to repeat yourself.",
        "de": "Ich verbinde Sie mit einem Menschen. Er sieht alles, was Sie geschrieben haben. "
        "Sie müssen nichts wiederholen.",
        "da": "Jeg sætter dig i forbindelse med et menneske. De kan se alt, hvad du har skrevet, "
        "så du behøver ikke at gentage dig selv.",
    },
}
__all__ = ["BOT_NAME", "check_handover", "on_message_created", "on_queue_choice"]


def in_bot_mode(conv: Conversation) -> bool:
    return bool(
        (conv.meta or {}).get("bot")
        and conv.assignee_id is None
        and conv.queued_at is None
        and conv.status == "open"
    )


def wants_person(body: str) -> bool:
    return any(w in PERSON_WORDS for w in fold(body).replace("-", " ").split()) or any(
        t in PERSON_WORDS for t in tokens(body)
    )


BOT_LANGS = ("en", "de", "da")


def current_language(rt: Runtime, conv: Conversation) -> str | None:
    """The language of the page (and so of the widget) the visitor has open now, if the bot
    speaks it: a visitor who switches the shop to another language mid-chat gets the bot's next
    replies in it unless their words say otherwise. None when unknown (no page view here)."""
    radar = getattr(rt, "radar", None)
    if radar is None or conv.visitor_id is None:
        return None
    base = radar.page_language(conv.visitor_id).lower().split("-")[0].split("_")[0]
    return base if base in BOT_LANGS else None


def for_the_bot(event: MessageCreated) -> bool:
    """A visitor's message in a conversation the bot has (checked again under lock)."""
    return event.author_kind == "visitor" and event.conversation.in_bot_mode


async def on_message_created(rt: Runtime, event: MessageCreated) -> None:
    """After commit, in the background: the visitor's ack is not held up by the bot."""
    await do_bot_turn(rt, event.conversation.id, event.body)


async def on_queue_choice(rt: Runtime, event: QueueChoiceMade) -> None:
    if event.choice == "bot":
        await do_bot_start(rt, event.conversation.id)


async def do_bot_turn(rt: Runtime, conv_id: int, body: str) -> None:
    """One visitor message in bot mode: the best FAQ answer, a "did not understand", or (asked
    for a person, or the second miss) the handover."""
    now = rt.clock.now()
    handover: Reason | None = "asked" if wants_person(body) else None
    async with rt.db.write() as s:
        conv = await _lock_bot_conversation(s, conv_id)
        if conv is not None and not handover:
            # The visitor's words decide when they are clear; else the page they have open now
            # (they may have switched the shop's language), else the chat's language so far.
            fallback = current_language(rt, conv) or conv.meta.get("bot_lang") or "en"
            lang = guess_language(body, fallback)
            match = await bot_match(s, conv.site_id, body, lang)
            misses = int(conv.meta.get("bot_misses", 0)) + (match is None)
            conv.meta = {**conv.meta, "bot_lang": lang, "bot_misses": misses}
            if match is None and misses >= MAX_MISSES:
                handover = "no_answer"
            else:
                reply = match.entry.answer if match else TEXTS["miss"][lang]
                await add_message(s, conv, now, author_kind="bot", body=reply)
    if handover and conv is not None:
        await do_handover(rt, conv_id, handover)


async def do_bot_start(rt: Runtime, conv_id: int) -> None:
    """The visitor chose the bot while waiting: answer what they already asked, if the FAQ
    knows it, else greet them."""
    now = rt.clock.now()
    async with rt.db.write() as s:
        conv = await _lock_bot_conversation(s, conv_id)
        if conv is None:
            return
        asked = " ".join(m.body for m in await _history(s, conv_id) if m.author_kind == "visitor")
        lang = guess_language(asked, current_language(rt, conv) or "en")
        match = await bot_match(s, conv.site_id, asked, lang) if asked else None
        conv.meta = {**conv.meta, "bot_lang": lang, "bot_misses": 0}
        reply = match.entry.answer if match else TEXTS["greeting"][lang]
        await add_message(s, conv, now, author_kind="bot", body=reply)


async def check_handover(rt: Runtime, who: Principal, conv_id: int) -> Conversation:
    """The visitor pressed "Talk to a person"."""
    if who.kind != "visitor":
        raise Forbidden("only the visitor asks the bot for a person")
    async with rt.db.read() as s:
        await access_conversation_by_id(s, who, conv_id)
    conv = await do_handover(rt, conv_id, "button")
    if conv is None:
        raise Conflict("this conversation is not with the bot", code="not_bot")
    return conv


async def do_handover(rt: Runtime, conv_id: int, reason: Reason) -> Conversation | None:
    """Bot mode ends: the visitor is told, agents get a summary note, and the chat is queued
    with priority (the visitor is not sent to the back). None if it was not in bot mode."""
    now = rt.clock.now()
    async with rt.db.write() as s:
        conv = await _lock_bot_conversation(s, conv_id)
        if conv is None:
            return None
        note = handover_note(await _history(s, conv_id), reason)
        lang = conv.meta.get("bot_lang") or "en"
        conv.meta = {**conv.meta, "bot": False, "bot_handover": reason}
        await prepare_queue(s, rt.settings, conv, now)
        conv.priority, conv.updated_at = max(conv.priority, 1), now
        await add_message(s, conv, now, author_kind="bot", body=TEXTS["handover"][lang])
        await add_message(s, conv, now, author_kind="system", body=note, internal=True)
        state = ConversationState.of(conv)
        record(s, ConversationHandedOver(state, reason), ConversationQueued(state, "handover"))
    return conv


def handover_note(history: Sequence[Message], reason: Reason) -> str:
    """What the visitor asked and what the bot answered, for the agent who takes over."""
    lines = [f"Handed over by the bot: {REASONS[reason]}."]
    asked = [m.body for m in history if m.author_kind == "visitor"]
    answered = [m.body for m in history if m.author_kind == "bot"]
    if asked:
        lines.append("The visitor asked:")
        lines += [f"- {_short(b)}" for b in asked[-5:]]
    if answered:
        lines.append("The bot answered:")
        lines += [f"- {_short(b)}" for b in answered[-5:]]
    return "\n".join(lines)


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def site_entries(s: AsyncSession, site_id: int) -> list[FaqEntry]:
    stmt = select(FaqEntry).where(FaqEntry.site_id == site_id).order_by(FaqEntry.id)
    return list((await s.execute(stmt)).scalars())


@dataclass(slots=True)
class ArticleEntry:
    """A published knowledge-base article as the bot sees it: its title is the question, its
    text (Markdown made plain, shortened) the answer."""

    question: str
    answer: str
    keywords: list[str]
    language: str


async def bot_match(s: AsyncSession, site_id: int, text: str, lang: str) -> Match | None:
    """The site's FAQ entries answer first (short, written for the bot); when none fits, its
    published knowledge-base articles do."""
    match = best_match(await site_entries(s, site_id), text, lang)
    if match is not None:
        return match
    stmt = select(KbArticle).where(KbArticle.site_id == site_id, KbArticle.published.is_(True))
    articles = [
        ArticleEntry(a.title, plain_text(a.body), list(a.keywords), a.language)
        for a in (await s.execute(stmt.order_by(KbArticle.id))).scalars()
    ]
    return best_match(articles, text, lang)


async def _history(s: AsyncSession, conv_id: int) -> list[Message]:
    stmt = (
        select(Message)
        .where(Message.conversation_id == conv_id, Message.internal.is_(False))
        .order_by(Message.seq)
    )
    return list((await s.execute(stmt)).scalars())


async def _lock_bot_conversation(s: AsyncSession, conv_id: int) -> Conversation | None:
    stmt = select(Conversation).where(Conversation.id == conv_id).with_for_update()
    conv = (await s.execute(stmt)).scalar_one_or_none()
    return conv if conv is not None and in_bot_mode(conv) else None
