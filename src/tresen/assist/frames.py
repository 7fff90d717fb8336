"""Assist frames on a socket: the visitor's "Talk to a person" in a bot conversation."""

from __future__ import annotations

from tresen.assist.bot import check_handover
from tresen.peer import Peer
from tresen.realtime.protocol import HandoverIn


async def on_handover(peer: Peer, frame: HandoverIn) -> None:
    await check_handover(peer.rt, peer.who, frame.conversation_id)
