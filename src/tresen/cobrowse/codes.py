"""6-digit support codes: the visitor reads one out, a phone agent enters it and joins.

Only an HMAC of the code is stored; a code lives 20 minutes and works once. Guessing is limited
per agent and per IP (a million codes, a few dozen guesses an hour).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from tresen.agents.scope import site_ids_for
from tresen.cobrowse.actions import CobrowseSession, do_start_by_code
from tresen.conversations.actions import check_assign, do_open_from_offer
from tresen.errors import Forbidden, NotFound, RateLimited
from tresen.principal import Principal
from tresen.runtime import Runtime
from tresen.storage.models import Conversation, SupportCode, Visitor

CODE_TTL = timedelta(minutes=20)
CODES_PER_VISITOR = (5, 600)  # at most 5 codes in 10 minutes
GUESSES_PER_AGENT = (10, 600)
GUESSES_PER_IP = (20, 600)


@dataclass(frozen=True)
class Joined:
    session: CobrowseSession
    conversation_id: int


def code_hash(rt: Runtime, code: str) -> str:
    key = rt.settings.secret_key.encode()
    return hmac.new(key, b"support-code:" + code.encode(), hashlib.sha256).hexdigest()


async def check_new_code(rt: Runtime, who: Principal) -> str:
    if who.kind != "visitor":
        raise Forbidden("only visitors ask for a support code")
    if not await rt.limiter.hit(f"cbcode:v:{who.id}", *CODES_PER_VISITOR):
        raise RateLimited("too many support codes; use the last one")
    now = rt.clock.now()
    for _ in range(5):
        code = f"{secrets.randbelow(1_000_000):06d}"
        try:
            async with rt.db.write() as s:
                await s.execute(delete(SupportCode).where(SupportCode.expires_at < now))
                s.add(
                    SupportCode(
                        code_hash=code_hash(rt, code),
                        visitor_id=who.id,
                        site_id=who.site_id or 0,
                        created_at=now,
                        expires_at=now + CODE_TTL,
                    )
                )
            return code
        except IntegrityError:
            continue  # the same code is live for someone else (or was used): draw again
    raise RateLimited("no free code right now; try again")


async def check_join_by_code(rt: Runtime, who: Principal, code: str, ip: str) -> Joined:
    """Redeem a code (once): the agent joins the visitor's newest chat and co-browsing starts."""
    if who.kind != "agent":
        raise Forbidden("only agents redeem support codes")
    agent_ok = await rt.limiter.hit(f"cbguess:a:{who.id}", *GUESSES_PER_AGENT)
    ip_ok = await rt.limiter.hit(f"cbguess:ip:{ip}", *GUESSES_PER_IP)
    if not (agent_ok and ip_ok):
        raise RateLimited("too many support code attempts; wait a few minutes")
    now = rt.clock.now()
    code = code.strip().replace(" ", "")
    async with rt.db.write() as s:
        sites = await site_ids_for(s, who)
        # A code of a site the agent does not serve is "no such code", and stays unused.
        of_sites = [] if sites is None else [SupportCode.site_id.in_(sorted(sites))]
        used = await s.execute(
            update(SupportCode)
            .where(
                SupportCode.code_hash == code_hash(rt, code),
                SupportCode.used_at.is_(None),
                SupportCode.expires_at > now,
                *of_sites,
            )
            .values(used_at=now, used_by=who.id)
            .returning(SupportCode.visitor_id, SupportCode.site_id)
        )
        row = used.one_or_none()
        if row is None:
            raise NotFound("no such code, or it expired or was used", code="bad_code")
        visitor_id, site_id = row
        visitor = await s.get(Visitor, visitor_id)
        conv = (
            await s.execute(
                select(Conversation)
                .where(Conversation.visitor_id == visitor_id, Conversation.status != "resolved")
                .order_by(Conversation.id.desc())
                .limit(1)
            )
        ).scalar_one_or_none()
    if conv is None:
        guest = Principal(
            "visitor", visitor_id, name=visitor.name if visitor else None, site_id=site_id
        )
        conv = await do_open_from_offer(
            rt,
            guest,
            skill=None,
            opening=f"{who.name or 'An agent'} joined by support code",
            assignee_id=who.id,
        )
    elif conv.assignee_id is None:
        conv = await check_assign(rt, who, conv.id, who.id)
    cb = await do_start_by_code(rt, who, conv)
    return Joined(cb, conv.id)
