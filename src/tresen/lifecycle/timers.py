"""The lifecycle timers: a pass every second marks chats whose visitor has gone silent (and
sends the gentle message if configured), closes chats silent for the configured minutes, and
highlights chats whose visitor waits for a reply.

Nothing is kept in memory: each pass derives where every chat stands from its stored messages
(``state.py``) and its marks (``meta["lifecycle"]``), and each change is made under the
conversation's row lock after looking again, so a restart loses nothing and two nodes running
passes side by side act once."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from tresen.aio import spawn
from tresen.conversations.queries import access_conversation_by_id
from tresen.conversations.sent import message_created
from tresen.conversations.seq import store_message
from tresen.events import (
    ConversationEnded,
    ConversationFlagged,
    ConversationResolved,
    ConversationState,
    ConversationStatusChanged,
    record,
)
from tresen.lifecycle.settings import Table, Timers, read_table
from tresen.lifecycle.state import (
    NUDGE_PREFIX,
    Standing,
    read_standings,
    standings,
    visitor_language,
)
from tresen.principal import Principal
from tresen.runtime import Runtime
from tresen.scheduler import Repeating
from tresen.storage.models import Agent, Conversation

log = logging.getLogger(__name__)
TICK_SECONDS = 1.0
SYSTEM = Principal("agent", 0, name="system", role="admin")  # sees every conversation


def due(st: Standing, t: Timers, now: datetime) -> str | None:
    """What this chat needs now: close, silent, waiting, or nothing."""
    # After an automatic gentle message the visitor is still the silent one: count from the
    # agent's own unanswered message, so the mark stays.
    since = st.silent_since if st.last_is_nudge and st.silent_since else st.last_at
    age = (now - since).total_seconds()
    if st.last_kind == "agent":
        silent_for = (now - (st.silent_since or st.last_at)).total_seconds()
        if t.close_after_minutes > 0 and silent_for >= t.close_after_minutes * 60:
            return "close"
        if age >= t.silent_after_seconds:
            return "silent"
        return None
    return "waiting" if age >= t.wait_highlight_seconds else None


def marks(meta: dict[str, Any]) -> dict[str, Any]:
    return dict(meta.get("lifecycle") or {})


class LifecycleService:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self._tick: Repeating | None = None
        self._running = False
        self._task: asyncio.Task[None] | None = None
        self.passes = 0

    def start(self) -> None:
        every = self.rt.settings.lifecycle_pass_seconds or TICK_SECONDS
        self._tick = Repeating(self.rt.scheduler, self.rt.clock, every, self._kick)

    def stop(self) -> None:
        if self._tick is not None:
            self._tick.cancel()

    def _kick(self) -> None:
        if not self._running:  # a slow pass is not stacked on
            self._running = True
            self._task = spawn(self._pass(), name="lifecycle-pass")

    async def settle(self) -> None:
        """Wait for the pass the scheduler started, if any (tests advance time, then settle)."""
        await asyncio.sleep(0)
        if self._task is not None:
            await asyncio.shield(self._task)

    async def _pass(self) -> None:
        try:
            await self.run_once()
        except Exception:
            log.exception("lifecycle pass failed")
        finally:
            self._running = False

    async def run_once(self) -> int:
        """One pass; returns how many chats it changed."""
        now = self.rt.clock.now()
        # A grouped read (SQLite: on the loop's own connection): every second, two statements
        # through aiosqlite's thread cost more than the statements do.
        table, stands = await self.rt.db.read_grouped(_read_pass)
        changed = 0
        for st in stands:
            want = due(st, table.get(st.site_id, st.skill), now)
            if want == "waiting" and st.assignee_id is None:
                want = None  # the queue has its own waiting times (routing overview)
            if _already(st.marks, want, st):
                continue
            changed += await self._apply(st.conversation_id, table, now)
        self.passes += 1
        return changed

    async def _apply(self, conv_id: int, table: Table, now: datetime) -> int:
        """Look again under the row lock and act: idempotent, and once across nodes."""
        async with self.rt.db.write() as s:
            conv = await access_conversation_by_id(s, SYSTEM, conv_id, lock=True)
            found = await standings(s, [conv_id])
            if not found or conv.status != "open":
                return 0
            st, t = found[0], table.get(conv.site_id, conv.skill)
            want = due(st, t, now)
            if want == "waiting" and conv.assignee_id is None:
                want = None
            have = marks(conv.meta)
            if _already(have, want, st):
                return 0
            lang = await visitor_language(s, conv)
            if want == "close":
                await self._close(s, conv, t, lang, now)
                return 1
            new: dict[str, Any] = {k: v for k, v in have.items() if k == "nudged"}
            if want == "silent":
                new.update(silent=st.last_seq, since=st.last_at.isoformat(), text=t.nudge(lang))
                if t.auto_nudge and not st.last_is_nudge and have.get("nudged") != st.last_seq:
                    await self._nudge(s, conv, t.nudge(lang), st, now)
                    new["nudged"] = conv.last_seq
            elif want == "waiting":
                new.update(waiting=st.last_seq, since=st.last_at.isoformat())
            conv.meta = {**conv.meta, "lifecycle": new}
            flags = tuple(k for k in ("silent", "waiting") if k in new)
            record(s, ConversationFlagged(ConversationState.of(conv), flags))
        return 1

    async def _nudge(
        self, s: Any, conv: Conversation, body: str, st: Standing, now: datetime
    ) -> None:
        """The gentle message, in the agent's name (sent automatically)."""
        name = None
        if conv.assignee_id is not None:
            agent = await s.get(Agent, conv.assignee_id)
            name = agent.display_name if agent else None
        msg = await store_message(
            s,
            conv,
            now,
            author_kind="agent",
            author_id=conv.assignee_id,
            body=body,
            client_msg_id=f"{NUDGE_PREFIX}{st.last_seq}",
        )
        record(s, message_created(ConversationState.of(conv), msg, name))

    async def _close(self, s: Any, conv: Conversation, t: Timers, lang: str, now: datetime) -> None:
        msg = await store_message(
            s, conv, now, author_kind="system", author_id=None, body=t.closing(lang)
        )
        record(s, message_created(ConversationState.of(conv), msg, None))
        conv.status, conv.closed_at, conv.updated_at = "resolved", now, now
        conv.meta = {
            **conv.meta,
            "lifecycle": {},
            "ended": {
                "by": "timer",
                "agent_id": conv.assignee_id,
                "at": now.isoformat(),
                "scale": t.rating_scale,
            },
        }
        state = ConversationState.of(conv)
        record(
            s,
            ConversationStatusChanged(state, "open", None),
            ConversationResolved(state, None, by="timer"),
            ConversationEnded(state, "timer"),
        )


def _already(have: dict[str, Any], want: str | None, st: Standing) -> bool:
    """The marks already say what is due (nothing to write)."""
    if want == "close":
        return False
    if want == "silent":
        return have.get("silent") == st.last_seq and "waiting" not in have
    if want == "waiting":
        return have.get("waiting") == st.last_seq and "silent" not in have
    return "silent" not in have and "waiting" not in have


def _read_pass(conn: Connection) -> tuple[Table, list[Standing]]:
    return read_table(conn), read_standings(conn)
