"""Ingesting WhatsApp webhooks: N signed deliveries (the Cloud API's documented text-message
payload, one customer message each, customers cycling over ``--customers`` numbers) through
the webhook's own steps (signature check on the raw body, JSON, parsing, the store: dedupe,
threading, visitor, conversation, message) into a fresh SQLite database (or
``--database-url``); then every delivery again, as a platform retrying (all duplicates).
Prints deliveries/s for both and checks every message is stored once. Listeners are not
wired, so this measures the channel's own path, not routing or the sockets.

    .venv/bin/python -m bench.messaging [--deliveries 5000] [--customers 500]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select
from tests.support.platforms import meta_signature, wa_text

from tresen.channels.accounts import AccountIn, account_secrets, check_save_account
from tresen.channels.messaging_in import whatsapp_items
from tresen.channels.messaging_receive import check_receive
from tresen.channels.webhooks import valid_signature
from tresen.runtime import build_runtime
from tresen.settings import Settings
from tresen.sites.actions import do_create_site
from tresen.storage.migrate import upgrade_async
from tresen.storage.models import ChannelAccount, ChannelEvent, Conversation, Message

PHONE_ID, SECRET = "106540352242922", "bench-app-secret"


async def ingest(rt: object, account: ChannelAccount, bodies: list[tuple[bytes, str]]) -> int:
    stored = 0
    keys = account_secrets(rt, account)  # type: ignore[arg-type]
    for raw, signature in bodies:
        assert valid_signature(keys.app_secret, raw, signature)
        items = whatsapp_items(json.loads(raw), account.external_id)
        stored += len(await check_receive(rt, account, items))  # type: ignore[arg-type]
    return stored


async def run(n: int, customers: int, database_url: str | None) -> None:
    var = Path(tempfile.mkdtemp(prefix="tresen-bench-messaging-"))
    settings = Settings(
        var_dir=var,
        database_url=database_url or f"sqlite+aiosqlite:///{var / 'tresen.db'}",
        secret_key="bench-secret",
    ).resolved()
    await upgrade_async(settings.database_url)
    rt = build_runtime(settings)
    try:
        site = await do_create_site(rt, "Bench", ["https://shop.example"])
        account = await check_save_account(
            rt,
            site.id,
            AccountIn(
                kind="whatsapp",
                external_id=PHONE_ID,
                access_token="t",
                app_secret=SECRET,
                verify_token="v",
            ),
        )
        start = int(time.time()) - n
        bodies = []
        for i in range(n):
            payload = wa_text(
                PHONE_ID,
                f"49151{i % customers:07d}",
                f"wamid.B{i}",
                start + i,
                f"Message {i}: is the blue one in stock?",
            )
            raw = json.dumps(payload).encode()
            bodies.append((raw, meta_signature(SECRET, raw)))
        t0 = time.perf_counter()
        stored = await ingest(rt, account, bodies)
        first = time.perf_counter() - t0
        t0 = time.perf_counter()
        again = await ingest(rt, account, bodies)
        second = time.perf_counter() - t0
        async with rt.db.read() as s:
            events = (await s.execute(select(func.count()).select_from(ChannelEvent))).scalar_one()
            msgs = (await s.execute(select(func.count()).select_from(Message))).scalar_one()
            convs = (await s.execute(select(func.count()).select_from(Conversation))).scalar_one()
        print(
            f"{n} deliveries from {customers} customers stored in {first:.1f} s: "
            f"{n / first:.0f} deliveries/s"
        )
        print(
            f"the same {n} again (retries): {second:.1f} s, {n / second:.0f} deliveries/s, "
            f"{again} stored"
        )
        print(f"database: {events} channel events, {msgs} messages, {convs} conversations")
        assert stored == events == msgs == n and again == 0 and convs == customers
    finally:
        await rt.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--deliveries", type=int, default=5000)
    parser.add_argument("--customers", type=int, default=500)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    asyncio.run(run(args.deliveries, args.customers, args.database_url))


if __name__ == "__main__":
    main()
