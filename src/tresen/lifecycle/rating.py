"""Ratings: the visitor rates an ended chat in the widget, or an email conversation from a
signed, expiring link in the closing mail. One rating per conversation, stored with the agent
who had it (``RatingGiven``)."""

from __future__ import annotations

from sqlalchemy import select

from tresen.conversations.queries import access_conversation_by_id
from tresen.errors import Conflict, Invalid
from tresen.events import ConversationState, RatingGiven, record
from tresen.lifecycle.settings import SCALES
from tresen.lifecycle.timers import SYSTEM
from tresen.principal import Principal
from tresen.runtime import Runtime
from tresen.security.tokens import BadToken, Signer
from tresen.storage.models import Rating

MAX_COMMENT = 2000
LINK_DAYS = 14


def link_signer(rt: Runtime) -> Signer:
    return Signer(rt.settings.secret_key, "rating-link")


def rating_link(rt: Runtime, conversation_id: int) -> str:
    """A link to the rating page for an email conversation, valid for ``LINK_DAYS``."""
    expires = rt.clock.now().timestamp() + LINK_DAYS * 86400
    token = link_signer(rt).sign({"c": conversation_id}, expires_at=expires)
    return f"{rt.settings.public_url}/rate/{token}"


def conversation_of_link(rt: Runtime, token: str) -> int:
    try:
        payload = link_signer(rt).unsign(token, now=rt.clock.now().timestamp())
    except BadToken:
        raise Invalid("this rating link is not valid or has expired", code="bad_link") from None
    return int(payload["c"])


async def check_rate(
    rt: Runtime, who: Principal, conversation_id: int, score: int, comment: str = ""
) -> Rating:
    """A visitor's rating of their own chat, once it ended."""
    if who.kind != "visitor":
        raise Invalid("only the visitor rates a conversation", code="not_visitor")
    return await _rate(rt, who, conversation_id, score, comment, must_have_ended=True)


async def check_rate_by_link(rt: Runtime, token: str, score: int, comment: str = "") -> Rating:
    """A rating from the link in a closing mail (the signed link is the visitor's proof)."""
    conversation_id = conversation_of_link(rt, token)
    return await _rate(rt, SYSTEM, conversation_id, score, comment, must_have_ended=False)


async def _rate(
    rt: Runtime,
    who: Principal,
    conversation_id: int,
    score: int,
    comment: str,
    *,
    must_have_ended: bool,
) -> Rating:
    if not 1 <= score <= 5:
        raise Invalid("score: 1 to 5", code="bad_score")
    comment = comment.strip()[:MAX_COMMENT]
    if "\x00" in comment:
        raise Invalid("comment contains a NUL character", code="bad_characters")
    now = rt.clock.now()
    async with rt.db.write() as s:
        conv = await access_conversation_by_id(s, who, conversation_id, lock=True)
        if must_have_ended and conv.status != "resolved":
            raise Conflict("the chat has not ended yet", code="not_ended")
        existing = await s.execute(select(Rating.id).where(Rating.conversation_id == conv.id))
        if existing.first() is not None:
            raise Conflict("this conversation was rated already", code="already_rated")
        scale = str((conv.meta.get("ended") or {}).get("scale") or "stars")
        scale = scale if scale in SCALES else "stars"
        if scale == "thumbs" and score not in (1, 5):
            raise Invalid("thumbs: score 1 (down) or 5 (up)", code="bad_score")
        # who had it: the assignee, else who the visitor was told of, else who resolved it
        agent_id = (
            conv.assignee_id
            or (conv.meta.get("agent") or {}).get("id")
            or (conv.meta.get("ended") or {}).get("agent_id")
        )
        rating = Rating(
            conversation_id=conv.id,
            site_id=conv.site_id,
            agent_id=agent_id,
            score=score,
            scale=scale,
            comment=comment,
            channel=conv.channel,
            created_at=now,
        )
        s.add(rating)
        await s.flush()
        conv.meta = {
            **conv.meta,
            "rating": {"score": score, "scale": scale, "comment": comment, "at": now.isoformat()},
        }
        record(
            s,
            RatingGiven(
                ConversationState.of(conv),
                rating.id,
                agent_id,
                score,
                scale,
                comment,
                conv.channel,
            ),
        )
    return rating
