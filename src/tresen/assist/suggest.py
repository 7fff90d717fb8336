"""Answer suggestions for agents: the knowledge base, canned responses and past agent answers
in resolved conversations, ranked by BM25 (``assist.bm25``) and by how often agents picked them.

One ``Suggester`` per process holds the indexes. ``start`` reads the canned responses and the
picks, then fills the rest in the background (articles, then past answers newest conversation
first, a batch per read) while suggestions come from what is indexed so far: a server with
100,000 past answers starts at once instead of after a minute. Listeners on committed events keep
the indexes current (``tresen.wiring``): ``ArticleChanged``, ``CannedChanged``,
``ConversationResolved`` and ``SuggestionPicked``, on every node, also while the fill runs (what
a listener wrote is newer than what the fill read, so the fill leaves it). Nothing is rebuilt per
query.

Ranking: each index's normalised BM25 score (0..1) is multiplied by
``1 + PICK_BOOST * min(picks, MAX_PICKS)`` (the item's picks) and, for articles and past answers,
by ``OTHER_LANGUAGE`` when not in the conversation's language. Below ``MIN_SCORE`` nothing is
suggested.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.assist.bm25 import Bm25Index
from tresen.assist.faq import guess_language
from tresen.assist.text import plain_text, terms
from tresen.events import (
    ArticleChanged,
    CannedChanged,
    ConversationResolved,
    SuggestionPicked,
)
from tresen.runtime import Runtime
from tresen.storage.models import (
    CannedResponse,
    Conversation,
    KbArticle,
    Message,
    SuggestionPick,
)

PICK_BOOST = 0.25
MAX_PICKS = 4
OTHER_LANGUAGE = 0.8
MIN_SCORE = 0.15
SOURCES = ("kb", "canned", "answer")
FILL_BATCH = 500  # articles or resolved conversations indexed between two breaths of the loop

log = logging.getLogger("tresen.assist")


async def _breathe() -> None:
    """Between two batches of the fill: let requests and listeners run."""
    await asyncio.sleep(0)


@dataclass(frozen=True, slots=True)
class Item:
    """What a suggestion shows: ``text`` is inserted; ``owner_id`` only for personal canned."""

    source: str
    id: int
    title: str
    text: str
    language: str
    site_id: int | None = None
    owner_id: int | None = None
    conversation_id: int | None = None


@dataclass(frozen=True, slots=True)
class Suggestion:
    item: Item
    score: float


def answer_pairs(messages: Sequence[Message]) -> list[tuple[str, Message]]:
    """(what the visitor asked, the agent's answer) for each public agent message that follows
    visitor messages, in order."""
    pairs: list[tuple[str, Message]] = []
    asked: list[str] = []
    for m in messages:
        if m.internal:
            continue
        if m.author_kind == "visitor":
            asked.append(m.body)
        elif m.author_kind == "agent" and asked:
            pairs.append((" ".join(asked), m))
            asked = []
    return pairs


class Suggester:
    def __init__(
        self, batch: int = FILL_BATCH, pause: Callable[[], Awaitable[None]] = _breathe
    ) -> None:
        self.indexes: dict[tuple[str, int | None], Bm25Index] = {}
        self.items: dict[tuple[str, int], Item] = {}
        self.picks: Counter[tuple[str, int]] = Counter()
        self.by_conversation: dict[int, list[int]] = {}
        self.batch, self.pause = batch, pause
        self.filling = False  # the background fill of articles and past answers runs
        self._fill_task: asyncio.Task[None] | None = None
        # What listeners (re)indexed while the fill runs: ("kb"|"canned"|"conv", id). The fill
        # read it earlier or will read the same, so it leaves these alone.
        self._fresh: set[tuple[str, int]] = set()

    # ---- keeping it current -------------------------------------------------------------------

    def _index(self, source: str, site_id: int | None) -> Bm25Index:
        index = self.indexes.get((source, site_id))
        if index is None:
            index = self.indexes[(source, site_id)] = Bm25Index()
        return index

    def put(self, item: Item, indexed_text: str) -> None:
        self.drop(item.source, item.id)
        scope = None if item.source == "canned" else item.site_id
        self._index(item.source, scope).add(item.id, terms(indexed_text, item.language))
        self.items[(item.source, item.id)] = item

    def drop(self, source: str, item_id: int) -> None:
        old = self.items.pop((source, item_id), None)
        if old is not None:
            scope = None if source == "canned" else old.site_id
            self._index(source, scope).remove(item_id)

    def put_article(self, a: KbArticle) -> None:
        if not a.published:
            self.drop("kb", a.id)
            return
        text = plain_text(a.body)
        item = Item("kb", a.id, a.title, text, a.language, site_id=a.site_id)
        self.put(item, " ".join([a.title, a.title, " ".join(a.keywords), text]))

    def put_canned(self, c: CannedResponse) -> None:
        item = Item("canned", c.id, c.title, c.body, c.language, owner_id=c.owner_id)
        self.put(item, f"{c.shortcut} {c.title} {c.body}")

    def put_answers(self, site_id: int, conv_id: int, messages: Sequence[Message]) -> None:
        for old in self.by_conversation.pop(conv_id, []):
            self.drop("answer", old)
        ids = []
        for question, m in answer_pairs(messages):
            lang = guess_language(question)
            title = question if len(question) <= 80 else question[:79] + "…"
            item = Item("answer", m.id, title, m.body, lang, site_id, conversation_id=conv_id)
            self.put(item, question)
            ids.append(m.id)
        self.by_conversation[conv_id] = ids

    def count_pick(self, source: str, item_id: int) -> None:
        self.picks[(source, item_id)] += 1

    async def start(self, rt: Runtime) -> None:
        """At start: the canned responses and the picks (few), then the articles and past
        answers in the background (``filling`` until done)."""
        async with rt.db.read() as s:
            for c in (await s.execute(select(CannedResponse))).scalars():
                self.put_canned(c)
            picked = select(SuggestionPick.source, SuggestionPick.item_id, func.count())
            for source, item_id, n in (
                await s.execute(picked.group_by(SuggestionPick.source, SuggestionPick.item_id))
            ).all():
                self.picks[(source, item_id)] += int(n)
        self.filling = True
        self._fill_task = asyncio.create_task(self._fill(rt), name="assist.index.fill")

    async def stop(self) -> None:
        task, self._fill_task = self._fill_task, None
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def wait_filled(self) -> None:
        if self._fill_task is not None:
            await asyncio.shield(self._fill_task)

    async def _fill(self, rt: Runtime) -> None:
        began = time.monotonic()
        try:
            async with rt.db.read() as s:
                articles = list((await s.execute(select(KbArticle))).scalars())
                resolved = select(Conversation.id).where(Conversation.status == "resolved")
                conv_ids = list(await s.scalars(resolved.order_by(Conversation.id.desc())))
            for i, a in enumerate(articles):
                if ("kb", a.id) not in self._fresh:
                    self.put_article(a)
                if (i + 1) % self.batch == 0:
                    await self.pause()
            await self.pause()
            for start in range(0, len(conv_ids), self.batch):
                async with rt.db.read() as s:
                    await self._load_answers(s, conv_ids[start : start + self.batch])
                await self.pause()
            log.info(
                "suggestion index filled: %d articles, %d resolved conversations in %.1f s",
                len(articles),
                len(conv_ids),
                time.monotonic() - began,
            )
        except Exception:
            log.exception("suggestion index: the fill failed; suggestions stay partial")
        finally:
            self.filling = False
            self._fresh.clear()

    def _touch(self, source: str, item_id: int) -> None:
        if self.filling:
            self._fresh.add((source, item_id))

    async def _load_answers(
        self, s: AsyncSession, conv_ids: Sequence[int], fresh: bool = False
    ) -> None:
        convs = select(Conversation.id, Conversation.site_id).where(
            Conversation.status == "resolved", Conversation.id.in_(conv_ids)
        )
        sites = {
            cid: site
            for cid, site in (await s.execute(convs)).all()
            if fresh or ("conv", cid) not in self._fresh
        }
        if not sites:
            return
        stmt = (
            select(Message)
            .where(
                Message.conversation_id.in_(list(sites)),
                Message.internal.is_(False),
                Message.author_kind.in_(("visitor", "agent")),
            )
            .order_by(Message.conversation_id, Message.seq)
        )
        by_conv: dict[int, list[Message]] = {}
        for m in (await s.execute(stmt)).scalars():
            by_conv.setdefault(m.conversation_id, []).append(m)
        for conv_id, messages in by_conv.items():
            # a listener may have indexed it while this read was on its way: leave theirs
            if fresh or ("conv", conv_id) not in self._fresh:
                self.put_answers(sites[conv_id], conv_id, messages)

    # ---- listeners (tresen.wiring) --------------------------------------------------------------

    async def on_article_changed(self, rt: Runtime, event: ArticleChanged) -> None:
        self._touch("kb", event.article_id)
        async with rt.db.read() as s:
            a = await s.get(KbArticle, event.article_id)
        if a is None or event.deleted:
            self.drop("kb", event.article_id)
        else:
            self.put_article(a)

    async def on_canned_changed(self, rt: Runtime, event: CannedChanged) -> None:
        self._touch("canned", event.canned_id)
        async with rt.db.read() as s:
            c = await s.get(CannedResponse, event.canned_id)
        if c is None or event.deleted:
            self.drop("canned", event.canned_id)
        else:
            self.put_canned(c)

    async def on_resolved(self, rt: Runtime, event: ConversationResolved) -> None:
        self._touch("conv", event.conversation.id)
        async with rt.db.read() as s:
            await self._load_answers(s, [event.conversation.id], fresh=True)

    def on_picked(self, event: SuggestionPicked) -> None:
        self.count_pick(event.source, event.item_id)

    # ---- asking --------------------------------------------------------------------------------

    def boost(self, source: str, language: str) -> Callable[[Hashable], float]:
        def factor(key: Hashable) -> float:
            assert isinstance(key, int)
            item = self.items[(source, key)]
            picks = min(self.picks[(source, item.id)], MAX_PICKS)
            f = 1 + PICK_BOOST * picks
            return f if item.language == language or source == "canned" else f * OTHER_LANGUAGE

        return factor

    def suggest(
        self,
        text: str,
        site_id: int,
        agent_id: int | None,
        language: str | None = None,
        limit: int = 3,
        sources: Iterable[str] = SOURCES,
    ) -> list[Suggestion]:
        """The best ``limit`` items for the text, from every source, best first."""
        lang = language or guess_language(text)
        query = terms(text, lang)
        if not query:
            return []
        found: list[Suggestion] = []
        for source in sources:
            scope = None if source == "canned" else site_id
            index = self.indexes.get((source, scope))
            if index is None:
                continue
            boost = self.boost(source, lang)
            for key, score in index.search(query, k=limit * 4, boost=boost):
                assert isinstance(key, int)
                item = self.items[(source, key)]
                if item.owner_id is not None and item.owner_id != agent_id:
                    continue  # another agent's personal canned response
                if score >= MIN_SCORE:
                    found.append(Suggestion(item, score))
        found.sort(key=lambda sg: -sg.score)
        seen: set[str] = set()
        best: list[Suggestion] = []
        for sg in found:
            said = " ".join(sg.item.text.lower().split())
            if said not in seen:
                seen.add(said)
                best.append(sg)
            if len(best) == limit:
                break
        return best
