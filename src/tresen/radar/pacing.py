"""Pacing by predicted wait: invite while an accepted invitation would be answered in time.

Holding one free slot per outstanding invitation (the engine's pacing today) is safe but
wasteful: most invitations are not accepted. Here each outstanding invitation counts with its
rule's acceptance rate, and a new one is sent while the wait that its acceptance would meet,
predicted from the queue, the free slots and the handling time, stays within the target
(default 20 s, the seeds' ideal response time). ``bench/pacing.py`` compares it with no cap and
a fixed cap over a simulated day.
"""

from __future__ import annotations

from dataclasses import dataclass

TARGET_WAIT = 20.0
# A rule's acceptance rate before it has a history: (accepted + 1) / (shown + 4), a Beta(1, 3)
# prior, so a new rule starts at one in four and its own figures take over as offers are made.
PRIOR_ACCEPTED, PRIOR_SHOWN = 1.0, 4.0
PRIOR_RATE = PRIOR_ACCEPTED / PRIOR_SHOWN


def acceptance_rate(accepted: int, shown: int) -> float:
    return (accepted + PRIOR_ACCEPTED) / (shown + PRIOR_SHOWN)


@dataclass(frozen=True, slots=True)
class Load:
    slots: int  # chat slots of the agents online (agents x chats each)
    busy: int  # slots taken by chats
    queued: int  # chats waiting
    expected: float  # invitations outstanding, each weighted by its acceptance rate
    handling: float  # mean handling time of a chat, seconds


def predicted_wait(load: Load, accept_rate: float) -> float:
    """Expected wait of a chat that an invitation sent now would start, if accepted.

    The chats ahead of it are those queued and the acceptances still to come; when they
    outnumber the free slots, slots free up at ``slots / handling`` per second on average.
    """
    if load.slots <= 0:
        return float("inf")
    free = load.slots - load.busy
    ahead = load.queued + load.expected + accept_rate
    short = ahead - free
    if short <= 0:
        return 0.0
    return short * load.handling / load.slots


def may_invite(load: Load, accept_rate: float, target: float = TARGET_WAIT) -> bool:
    return predicted_wait(load, accept_rate) <= target
