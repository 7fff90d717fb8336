"""Lifecycle frames on a socket: the visitor rates an ended chat."""

from __future__ import annotations

from tresen.lifecycle.rating import check_rate
from tresen.peer import Peer
from tresen.realtime.protocol import RateIn


async def on_rate(peer: Peer, frame: RateIn) -> None:
    await check_rate(peer.rt, peer.who, frame.conversation_id, frame.score, frame.comment)
