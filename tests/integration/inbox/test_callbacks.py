"""Callbacks as work items: a waiting visitor's request becomes a row (number validated, E.164),
agents take, note, reschedule and close it, and the reminder reaches the owner's console at its
exact second on the injected clock."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from tests.integration.inbox.helpers import armed_at, get, until, visitor_writes
from tests.support.actors import next_frame, raw_socket, running_scenario

from tresen.clock import ManualClock
from tresen.scheduler import ManualScheduler


async def choose_callback(ws: Any, conv_id: int, phone: str, when: str = "") -> dict[str, Any]:
    await ws.send(
        json.dumps(
            {
                "type": "queue_choice",
                "conversation_id": conv_id,
                "choice": "callback",
                "phone": phone,
                "when": when,
            }
        )
    )
    return await next_frame(ws)


async def test_callback_reminds_its_owner_at_the_exact_time(
    tmp_path: Path, database_url: str
) -> None:
    clock = ManualClock()
    scheduler = ManualScheduler(clock)
    # the console stays connected through the two hours the test skips (no heartbeat closes it)
    quiet = {"heartbeat_seconds": 86_400.0, "idle_timeout_seconds": 86_400.0 * 3}
    async with running_scenario(
        tmp_path, database_url, clock=clock, scheduler=scheduler, **quiet
    ) as (_, sc):
        ws, conv = await visitor_writes(sc, "Please call me")
        bad = await choose_callback(ws, conv, "12345")
        assert bad["type"] == "error" and "phone" in bad["message"]

        at = clock.now() + timedelta(hours=2)
        note = await choose_callback(ws, conv, "030 1234567", at.isoformat())
        assert note["type"] == "message" and "030 1234567" in note["body"]
        [cb] = await get(sc.anna, "/api/callbacks", list="unassigned")
        assert cb["phone"] == "+49301234567" and cb["conversation_id"] == conv
        assert cb["remind_at"] == at.isoformat() and cb["status"] == "open"
        assert await get(sc.anna, "/api/callbacks", list="due") == []

        console = await raw_socket(await sc.anna.ws_url(), origin=sc.base_url)
        await next_frame(console, "welcome")
        r = await sc.anna.patch(f"/api/callbacks/{cb['id']}", json={"take": True, "notes": "VIP"})
        assert r.status_code == 200 and r.json()["owner_id"] == sc.anna.id
        assert [c["id"] for c in await get(sc.anna, "/api/callbacks", list="mine")] == [cb["id"]]
        assert await get(sc.ben, "/api/callbacks", list="mine") == []

        async def armed() -> bool:
            return armed_at(scheduler, at.timestamp())

        await until(armed)
        scheduler.advance(2 * 3600 - 1)
        assert (await get(sc.anna, "/api/callbacks", list="mine"))[0]["reminded_at"] is None
        scheduler.advance(1)  # the reminder's second
        due = await next_frame(console, "callback")
        while not due["due"]:
            due = await next_frame(console, "callback")
        assert due["callback"]["id"] == cb["id"] and due["callback"]["phone"] == "+49301234567"
        [row] = await get(sc.anna, "/api/callbacks", list="due")
        assert row["reminded_at"] == at.isoformat()

        # nobody answered: again in 30 minutes
        later = clock.now() + timedelta(minutes=30)
        r = await sc.anna.patch(f"/api/callbacks/{cb['id']}", json={"remind_at": later.isoformat()})
        assert r.status_code == 200 and r.json()["reminded_at"] is None

        async def rearmed() -> bool:
            return armed_at(scheduler, later.timestamp())

        await until(rearmed)
        scheduler.advance(30 * 60)
        due = await next_frame(console, "callback")
        while not due["due"]:
            due = await next_frame(console, "callback")
        assert due["callback"]["id"] == cb["id"]

        r = await sc.anna.patch(f"/api/callbacks/{cb['id']}", json={"status": "done"})
        assert r.status_code == 200 and r.json()["done_at"] is not None
        assert await get(sc.anna, "/api/callbacks", list="open") == []
        assert [c["id"] for c in await get(sc.anna, "/api/callbacks", list="done")] == [cb["id"]]
        await console.close()
        await ws.close()


async def test_a_callback_without_a_time_is_due_at_once_for_everyone(tmp_path: Path) -> None:
    clock = ManualClock()
    scheduler = ManualScheduler(clock)
    async with running_scenario(tmp_path, clock=clock, scheduler=scheduler) as (_srv, sc):
        console = await raw_socket(await sc.ben.ws_url(), origin=sc.base_url)
        await next_frame(console, "welcome")
        ws, conv = await visitor_writes(sc, "ring me")
        await choose_callback(ws, conv, "+44 20 7946 0958", "tomorrow morning")
        [cb] = await get(sc.ben, "/api/callbacks", list="due")
        assert cb["preferred_text"] == "tomorrow morning" and cb["phone"] == "+442079460958"

        async def armed() -> bool:
            return armed_at(scheduler, clock.now().timestamp())

        await until(armed)
        scheduler.advance(0)
        due = await next_frame(console, "callback")
        while not due["due"]:
            due = await next_frame(console, "callback")
        assert due["callback"]["owner_id"] is None

        for body, code in (
            ({"status": "maybe"}, 422),
            ({"remind_at": "2026-01-01T10:00:00"}, 422),
            ({"owner_id": 999_999}, 422),
            ({"notes": "x" * 5000}, 422),
        ):
            r = await sc.ben.patch(f"/api/callbacks/{cb['id']}", json=body)
            assert r.status_code in (code, 404), (body, r.text)
        r = await sc.ben.patch("/api/callbacks/424242", json={"take": True})
        assert r.status_code == 404
        r = await sc.ben.http.get("/api/callbacks", params={"list": "nope"})
        assert r.status_code == 422
        await console.close()
        await ws.close()
