"""The suggestion index at start (docs/assist.md, "The index"): start returns after the canned
responses and picks; articles and past answers fill in the background, newest conversation
first, while suggestions come from what is indexed so far and listeners keep indexing what
happens meanwhile. The fill is held at each of its breaths here (the injected ``pause``)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.integration.api.helpers import start_conversation
from tests.integration.assist.test_assist_api import eventually, site_id
from tests.support.actors import Scenario, running_scenario

from tresen.assist.suggest import Suggester
from tresen.wiring import wire_assist

PAIRS = [
    ("Do you ship parcels to Norway?", "Yes, Norway takes 5 days."),
    ("Can I pay by invoice?", "Invoices are fine for companies."),
    ("Is the lamp available in grey?", "The grey lamp is back next week."),
    ("How long is the warranty on sofas?", "Sofas have a 5 year warranty."),
    ("Where do I find my tracking number?", "The tracking number is in your mail."),
]


async def answered(sc: Scenario, question: str, answer: str) -> int:
    conv = await start_conversation(await sc.visitor(), question)
    r = await sc.ben.post(f"/api/conversations/{conv}/messages", json={"body": answer})
    assert r.status_code == 201, r.text
    r = await sc.ben.patch(f"/api/conversations/{conv}", json={"status": "resolved"})
    assert r.status_code == 200, r.text
    return conv


def found(sg: Suggester, site: int, question: str) -> int | None:
    """The conversation whose past answer is suggested for ``question``, if any."""
    for s in sg.suggest(question, site, agent_id=None, sources=("answer",)):
        return s.item.conversation_id
    return None


async def test_start_does_not_wait_for_past_answers(tmp_path: Path, database_url: str) -> None:
    async with running_scenario(tmp_path, database_url) as (srv, sc):
        site = await site_id(sc)
        convs = [await answered(sc, q, a) for q, a in PAIRS]  # oldest first
        spec = {"site_id": site, "title": "Gift wrapping", "body": "We wrap gifts for 3 euros."}
        art = (await sc.anna.post("/api/kb/articles", json=spec)).json()["id"]
        app_sg: Suggester = srv.app.state.suggester

        async def app_has_them() -> bool:
            return found(app_sg, site, PAIRS[0][0]) == convs[0]

        await eventually(app_has_them)

        # A restart's suggester: its fill parks at every breath until the test lets it on.
        parked: asyncio.Queue[asyncio.Future[None]] = asyncio.Queue()
        free = asyncio.Event()

        async def pause() -> None:
            if free.is_set():
                return
            step = asyncio.get_running_loop().create_future()
            parked.put_nowait(step)
            await step

        sg = Suggester(batch=2, pause=pause)
        rt = srv.app.state.rt
        wire_assist(rt, sg)
        await sg.start(rt)
        assert sg.filling  # start is back; nothing of the past answers read yet
        assert all(found(sg, site, q) is None for q, _ in PAIRS)

        step = await parked.get()  # the articles are in
        assert [s.item.id for s in sg.suggest("gift wrapping", site, None)] == [art]
        assert found(sg, site, PAIRS[-1][0]) is None
        step.set_result(None)

        step = await parked.get()  # the first batch: the two newest conversations
        assert found(sg, site, PAIRS[4][0]) == convs[4]
        assert found(sg, site, PAIRS[3][0]) == convs[3]
        assert found(sg, site, PAIRS[0][0]) is None
        # What happens meanwhile is indexed by the listeners at once.
        late = await answered(
            sc, "Do you deliver on Saturdays?", "Saturday delivery costs 5 euros."
        )

        async def late_found() -> bool:
            return found(sg, site, "deliver on saturday") == late

        await eventually(late_found)
        assert sg.filling
        step.set_result(None)

        free.set()  # the rest runs through
        while not parked.empty():
            parked.get_nowait().set_result(None)
        await sg.wait_filled()
        assert not sg.filling
        for conv, (question, _answer) in zip(convs, PAIRS, strict=True):
            assert found(sg, site, question) == conv
        assert found(sg, site, "deliver on saturday") == late
        await sg.stop()
