"""Contacts import benchmark: a CSV of ``--rows`` (100,000) contacts through the product's
importer (``tresen.contacts.importer.import_contacts``, what ``POST /api/contacts/import`` runs
on the uploaded body): a dry run, the import (all new), and the same file again (all updates).
Prints rows/s of each and the peak memory: the process's RSS above its level before the run
(sampled every 20 ms) and, with ``--tracemalloc``, Python's own peak allocation (slower).

    .venv/bin/python -m bench.contacts_import [--rows 100000] [--databases sqlite,postgres]
        [--tracemalloc]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import random
import sys
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import psutil
from sqlalchemy import func, select

from tresen.clock import ManualClock
from tresen.contacts.importer import import_contacts
from tresen.runtime import Runtime, build_runtime
from tresen.settings import Settings
from tresen.sites.actions import do_create_site
from tresen.storage.migrate import upgrade_async
from tresen.storage.models import Contact, ContactIdentity

FIRST = ["Ada", "Bo", "Carla", "Dagny", "Emil", "Freja", "Gustav", "Hanne", "Ib", "Jytte"]
LAST = ["Holm", "Østergaard", "Nielsen", "Lovelace", "Schmidt", "Müller", "Jensen", "Berg"]
MAPPING = {"Name": "name", "E-Mail": "email", "Mobile": "phone", "Plan": "attributes.plan"}


def make_csv(rows: int, rng: random.Random) -> bytes:
    out = io.StringIO()
    out.write("\ufeffName;E-Mail;Mobile;Plan;Customer no;tags\n")
    for i in range(rows):
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        phone = f"+45 {20_000_000 + i * 7:08d}"
        plan = rng.choice(["free", "pro", "gold"])
        out.write(f"{name};user{i}@example.com;{phone};{plan};C{i:07d};newsletter|{plan}\n")
    return out.getvalue().encode()


class PeakRss:
    """The highest RSS seen while running, above the level when started."""

    def __init__(self) -> None:
        self.proc = psutil.Process()
        self.base = self.peak = self.proc.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self.proc.memory_info().rss)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.proc.memory_info().rss)

    @property
    def mib(self) -> float:
        return (self.peak - self.base) / 2**20


async def timed(label: str, rows: int, work: Callable[[], Awaitable[Any]], trace: bool) -> Any:
    if trace:
        tracemalloc.start()
    with PeakRss() as rss:
        t0 = time.perf_counter()
        report = await work()
        took = time.perf_counter() - t0
    extra = ""
    if trace:
        extra = f", tracemalloc peak {tracemalloc.get_traced_memory()[1] / 2**20:.1f} MiB"
        tracemalloc.stop()
    print(
        f"  {label:22} {took:6.1f} s  {rows / took:8,.0f} rows/s  "
        f"peak RSS +{rss.mib:.1f} MiB{extra}  "
        f"(created {report.created:,}, updated {report.updated:,}, errors {report.error_count})"
    )
    return report


async def bench_one(url: str, args: argparse.Namespace, var: Path) -> None:
    await upgrade_async(url)
    settings = Settings(var_dir=var, database_url=url, secret_key="bench").resolved()
    rt: Runtime = build_runtime(settings, ManualClock())
    site = await do_create_site(rt, "Bench shop", ["https://shop.example"])
    data = make_csv(args.rows, random.Random(7))
    mapping = {**MAPPING, "Customer no": "attributes.customer_no"}
    print(f"  CSV: {len(data) / 2**20:.1f} MiB")

    def run(dry: bool) -> Callable[[], Awaitable[Any]]:
        return lambda: import_contacts(rt, site.id, data, mapping, dry)

    await timed("dry run", args.rows, run(True), args.tracemalloc)
    await timed("import (all new)", args.rows, run(False), args.tracemalloc)
    await timed("again (all updates)", args.rows, run(False), args.tracemalloc)
    async with rt.db.read() as s:
        contacts = (await s.execute(select(func.count()).select_from(Contact))).scalar_one()
        idents = (await s.execute(select(func.count()).select_from(ContactIdentity))).scalar_one()
    print(f"  stored: {contacts:,} contacts, {idents:,} identities")
    print(f"  load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    await rt.close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--databases", default="sqlite")
    p.add_argument("--tracemalloc", action="store_true")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        var = Path(tmp)
        for db in args.databases.split(","):
            print(f"{db}: import of {args.rows:,} contacts")
            if db == "sqlite":
                asyncio.run(bench_one(f"sqlite+aiosqlite:///{var / 'contacts.db'}", args, var))
            else:
                sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
                from tests.support.services import PostgresServer

                server = PostgresServer()
                server.start()
                try:
                    asyncio.run(bench_one(server.create_database("contacts"), args, var))
                finally:
                    server.stop()


if __name__ == "__main__":
    main()
