"""Web Radar frames on a visitor's socket: what the visitor does, and their answer to an offer."""

from __future__ import annotations

from tresen.errors import Forbidden
from tresen.peer import Peer
from tresen.realtime.protocol import OfferReplyIn, TrackIn


def _visitors_only(peer: Peer) -> None:
    if peer.who.kind != "visitor":
        raise Forbidden("only visitors send this frame")


async def on_track(peer: Peer, frame: TrackIn) -> None:
    _visitors_only(peer)
    await peer.rt.radar.track(peer.who, frame, peer.tab)


async def on_offer_reply(peer: Peer, frame: OfferReplyIn) -> None:
    _visitors_only(peer)
    await peer.rt.radar.reply(peer.who, frame.offer_id, frame.outcome)
