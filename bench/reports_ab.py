"""The reports benchmark A/B: another checkout's code (``--base``, e.g. main) against this one,
alternating in one run on the same data, on SQLite and PostgreSQL.

    git archive main src | tar -x -C /tmp/main-src
    .venv/bin/python -m bench.reports_ab --base /tmp/main-src [--rounds 2]
        [--conversations 100000] [--messages 1000000] [--databases sqlite,postgres]

Seeds one database with the base's code (``bench.reports --url``, its migrations), copies it
(a file copy; PostgreSQL ``CREATE DATABASE .. TEMPLATE``), lets this checkout's migrations
upgrade the copy, then measures base, this, base, this, ... (``--rounds``; ``--head``:
another checkout instead of this one), each in its own process, printing each query's slowest
wall and CPU time with the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent


def run(code: Path | None, url: str, args: argparse.Namespace, label: str) -> None:
    """``bench.reports --url`` with ``code``'s ``tresen`` (None: this checkout's)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([*([str(code / "src")] if code else []), str(HERE)])
    cmd = [sys.executable, "-m", "bench.reports", "--url", url, "--repeat", str(args.repeat)]
    cmd += ["--conversations", str(args.conversations), "--messages", str(args.messages)]
    out = subprocess.run(cmd, env=env, cwd=HERE, capture_output=True, text=True, check=False)
    print(f"--- {label} (load average {os.getloadavg()[0]:.1f})", flush=True)
    print(out.stdout + out.stderr, flush=True)


async def _copy_pg(server_url: str, source: str, target: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(f'CREATE DATABASE "{target}" TEMPLATE "{source}"')
    finally:
        await conn.close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--base", type=Path, required=True, help="a checkout with src/tresen")
    p.add_argument("--head", type=Path, help="the other checkout (default: this one)")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--conversations", type=int, default=100_000)
    p.add_argument("--messages", type=int, default=1_000_000)
    p.add_argument("--databases", default="sqlite,postgres")
    p.add_argument("--keep", type=Path, help="SQLite: keep the base's a.db here and reuse it")
    args = p.parse_args()
    base, head = args.base.resolve(), args.head.resolve() if args.head else None
    for db in args.databases.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            server = None
            if db == "sqlite":
                folder = args.keep or Path(tmp)
                folder.mkdir(parents=True, exist_ok=True)
                a, b = folder / "a.db", Path(tmp) / "b.db"
                urls = f"sqlite+aiosqlite:///{a}", f"sqlite+aiosqlite:///{b}"
            else:
                sys.path.insert(0, str(HERE))
                from tests.support.services import PostgresServer

                server = PostgresServer()
                server.start()
                urls = server.create_database("a"), server.url("b")
            try:
                run(base, urls[0], args, f"{db}: seeded by base, base")
                if server is None:
                    shutil.copyfile(a, b)
                else:
                    plain = server.url("postgres").replace("+asyncpg", "")
                    asyncio.run(_copy_pg(plain, "a", "b"))
                for i in range(args.rounds):
                    run(head, urls[1], args, f"{db} round {i + 1}: head")
                    run(base, urls[0], args, f"{db} round {i + 1}: base")
            finally:
                if server is not None:
                    server.stop()


if __name__ == "__main__":
    main()
