"""The channel adapter interface.

Outbound: the write path puts an agent's reply in a conversation on a channel into the outbox
in the message's own transaction (``storage/outbox.py``); the ``OutboxWorker`` claims it and
calls the channel's ``deliver``. Inbound: the adapter parses what arrived and hands it to
actions that find or create the contact, the conversation and the message.
"""

from __future__ import annotations

from typing import Protocol

from tresen.leased_queue import Failed, Skip
from tresen.storage.models import Outbox


class DeliveryError(Failed):
    """A delivery did not happen. ``permanent``: trying again cannot help (a refused address,
    no mailbox configured); otherwise it is retried with backoff."""


class NothingToSend(Skip):
    """The item needs no delivery any more (the customer read the reply in the chat)."""


class Channel(Protocol):
    name: str

    async def deliver(self, item: Outbox) -> str:
        """Deliver one outbox item; return the channel's id of what was sent (an email's
        Message-ID). Must use the same id on every attempt of the same item, so a receiver
        can recognise a repeat after a crash between sending and recording it. Raises
        ``DeliveryError``."""
        ...
