"""Webhook throughput: N events committed with their webhook deliveries (the outbox rows are
written by ``Database.before_commit`` in each event's transaction, 50 events per transaction),
then delivered by one node's ``WebhookWorker`` (signed, SSRF-checked and pinned, httpx) to a
local receiver in a separate process (uvicorn, answers 204 and counts delivery ids). Prints
rows staged/s, deliveries/s, and checks the receiver saw every delivery id once; for scale,
the rate of bare httpx POSTs to the same receiver first.

    .venv/bin/python -m bench.webhooks [--deliveries 5000] [--concurrency 16]
                                       [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import socket
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from tresen.events import ConversationState, MessageCreated, record
from tresen.runtime import build_runtime
from tresen.settings import Settings
from tresen.sites.actions import do_create_site
from tresen.storage.migrate import upgrade_async
from tresen.storage.models import WebhookDelivery
from tresen.webhooks.actions import SubscriptionIn, check_create
from tresen.webhooks.worker import WebhookWorker

PER_TRANSACTION = 50


def receiver_main(port: int) -> None:
    import uvicorn

    seen: dict[str, int] = {}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        if scope["method"] == "GET":
            body = f"{len(seen)} {sum(seen.values())}".encode()
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": body})
            return
        if scope["path"] != "/hook":  # the bare-httpx baseline
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        headers = dict(scope["headers"])
        delivery = headers.get(b"tresen-delivery", b"").decode()
        seen[delivery] = seen.get(delivery, 0) + 1
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="error", access_log=False)


async def bare_httpx(http: httpx.AsyncClient, port: int, n: int, concurrency: int) -> float:
    slots = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with slots:
            await http.post(f"http://127.0.0.1:{port}/baseline", content=b"{}")

    t0 = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(n)))
    return n / (time.perf_counter() - t0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fake_message(site_id: int, i: int) -> MessageCreated:
    now = datetime.now(UTC)
    conv = ConversationState(
        id=i, site_id=site_id, visitor_id=i, status="open", channel="web", skill=None,
        department=None, assignee_id=None, offered_to=None, priority=0, queued_at=None,
        last_seq=1, visitor_read_seq=0, agent_read_seq=0, meta={}, created_at=now,
        updated_at=now,
    )  # fmt: skip
    return MessageCreated(conv, i, 1, "visitor", i, None, f"bench message {i}", False, f"m{i}", now)


async def run(n: int, concurrency: int, database_url: str | None) -> None:
    var = Path(tempfile.mkdtemp(prefix="tresen-bench-webhooks-"))
    settings = Settings(
        var_dir=var,
        database_url=database_url or f"sqlite+aiosqlite:///{var / 'tresen.db'}",
        secret_key="bench-secret",
        webhooks_concurrency=concurrency,
        webhooks_allow_private=True,
    ).resolved()
    await upgrade_async(settings.database_url)
    port = free_port()
    proc = multiprocessing.get_context("spawn").Process(target=receiver_main, args=(port,))
    proc.start()
    rt = build_runtime(settings)
    worker = WebhookWorker(rt)
    worker.install()
    try:
        async with httpx.AsyncClient() as http:
            for _ in range(100):
                try:
                    await http.get(f"http://127.0.0.1:{port}/")
                    break
                except httpx.HTTPError:
                    await asyncio.sleep(0.1)
            baseline = await bare_httpx(http, port, min(n, 1000), concurrency)
        print(f"bare httpx to the same receiver: {baseline:,.0f} requests/s (the ceiling here)")
        site = await do_create_site(rt, "Bench", [])
        await check_create(
            rt,
            SubscriptionIn(
                url=f"http://127.0.0.1:{port}/hook",
                event_types=["message.created"],
                site_id=site.id,
            ),
        )

        t0 = time.perf_counter()
        for start in range(0, n, PER_TRANSACTION):
            async with rt.db.write() as s:
                for i in range(start, min(n, start + PER_TRANSACTION)):
                    record(s, fake_message(site.id, i))
        staged = time.perf_counter() - t0
        async with rt.db.read() as s:
            rows = (await s.execute(select(func.count()).select_from(WebhookDelivery))).scalar()
        print(f"{rows} deliveries staged in {staged:.2f} s: {rows / staged:,.0f} rows/s")

        t0 = time.perf_counter()
        await worker.sweep()
        elapsed = time.perf_counter() - t0
        async with rt.db.read() as s:
            counts = dict(
                (
                    await s.execute(
                        select(WebhookDelivery.status, func.count()).group_by(
                            WebhookDelivery.status
                        )
                    )
                ).all()
            )
        async with httpx.AsyncClient() as http:
            unique, total = map(int, (await http.get(f"http://127.0.0.1:{port}/")).text.split())
        print(
            f"{n} deliveries in {elapsed:.2f} s: {n / elapsed:,.0f} deliveries/s "
            f"(concurrency {concurrency}, {'PostgreSQL' if database_url else 'SQLite'})"
        )
        print(f"states: {counts}; receiver: {unique} delivery ids, {total} requests")
        if counts != {"delivered": n} or unique != n:
            print("WARNING: not every delivery was delivered once by the end of the sweep")
        if total > unique:  # a request that timed out after the receiver took it is retried
            print(f"note: {total - unique} repeated requests (retries after timeouts)")
    finally:
        await worker.sender.close()
        await rt.close()
        proc.terminate()
        proc.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    asyncio.run(run(args.deliveries, args.concurrency, args.database_url))


if __name__ == "__main__":
    main()
