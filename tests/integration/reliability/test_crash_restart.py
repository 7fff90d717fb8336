"""The server crashes (SIGKILL) mid-conversation and restarts: nothing is lost or doubled.

A visitor and an agent, each a ``TresenClient``, exchange 1,000 messages (both directions,
interleaved, never waiting for an ack before the next send). When about a third is
acknowledged the server process is SIGKILLed and started again on the same port. The clients
reconnect on their own, resume from their last seq and resend whatever was unacknowledged.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from tests.support.actors import Agent, Visitor
from tests.support.cluster import Exchange, Node, audit, prepare_database

TOTAL = 1000


@pytest.mark.slow
async def test_sigkill_and_restart_mid_exchange_loses_and_doubles_nothing(
    database_url: str, tmp_path: Path, nodes: list[Node]
) -> None:
    site_key = await prepare_database(database_url, tmp_path)
    node = Node("solo", tmp_path, database_url)
    nodes.append(node)
    await node.astart()

    anna = await Agent.login(node.url, "anna")
    visitor = await Visitor.arrive(node.url, site_key)
    ex = Exchange(visitor.client(), anna.client())
    await ex.agent.start()
    await ex.visitor.start()
    report: dict[str, object] = {}

    async def crash_and_restart() -> None:
        report["sent, acked at kill"] = await ex.crash(node, after_acked=TOTAL // 3)
        t0 = time.monotonic()
        await node.astart()
        report["restart seconds"] = round(time.monotonic() - t0, 2)

    try:
        await ex.open()
        await ex.run(visitor=TOTAL // 2 - 1, agent=TOTAL // 2, chaos=crash_and_restart)
        assert ex.total_sent == TOTAL
        await audit(ex, database_url)
        assert node.starts == 2
        assert ex.visitor.stats.connects == 2 and ex.agent.stats.connects == 2
    except BaseException:
        print(report, "\n", node.log_tail())
        raise
    finally:
        await ex.visitor.stop()
        await ex.agent.stop()
        await anna.close()
    for side, client in ex.sides():
        report[f"{side} duplicate acks"] = sum(a["duplicate"] for a in client.acks.values())
    print(report)
