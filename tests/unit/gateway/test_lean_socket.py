"""The lighter per-socket pieces of the WebSocket protocol behave as the asyncio ones they
replace: first in first out to one consumer, a waiting send resumes when writing may go on."""

from __future__ import annotations

import asyncio

import pytest

from tresen.gateway.lean_socket import Flag, Inbox, LeanWebSocketProtocol, ws_protocol


async def test_inbox_hands_events_over_in_order_and_wakes_its_consumer() -> None:
    inbox = Inbox()
    assert inbox.empty() and inbox.qsize() == 0
    inbox.put_nowait(1)
    inbox.put_nowait(2)
    assert inbox.qsize() == 2
    assert [await inbox.get(), await inbox.get()] == [1, 2]
    assert inbox.empty()
    waiting = asyncio.create_task(inbox.get())
    await asyncio.sleep(0)
    assert not waiting.done()
    inbox.put_nowait("later")
    inbox.put_nowait("after")
    assert await waiting == "later"
    assert await inbox.get() == "after"


async def test_inbox_consumer_cancelled_then_next_get_still_works() -> None:
    inbox = Inbox()
    waiting = asyncio.create_task(inbox.get())
    await asyncio.sleep(0)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    inbox.put_nowait("x")
    assert await inbox.get() == "x"


async def test_flag_holds_senders_while_cleared() -> None:
    flag = Flag()
    assert flag.is_set() and await flag.wait()
    flag.clear()
    senders = [asyncio.create_task(flag.wait()) for _ in range(3)]
    await asyncio.sleep(0)
    assert not any(s.done() for s in senders)
    senders[0].cancel()
    await asyncio.sleep(0)
    flag.set()
    assert await asyncio.gather(*senders[1:]) == [True, True]
    assert flag.is_set()


def test_the_sansio_setting_runs_the_lean_protocol() -> None:
    assert ws_protocol("websockets-sansio") is LeanWebSocketProtocol
    assert ws_protocol("wsproto") == "wsproto"
