"""Real PostgreSQL and Redis servers, started from the installed binaries for the tests."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import NoReturn

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(
    port: int,
    timeout: float = 120,
    host: str = "127.0.0.1",
    proc: subprocess.Popen[bytes] | None = None,
) -> None:
    """Until something listens on ``port``. ``timeout`` is a deadline for a server that never
    comes up, generous because a busy machine starts servers slowly; a ``proc`` that exits
    meanwhile fails at once (a crash, or the port taken by another process)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex((host, port)) == 0:
                return
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the server for port {port} exited ({proc.returncode})")
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port} after {timeout}s")


def missing(what: str) -> NoReturn:
    """Without the binary: skip on a developer machine, fail loudly in CI."""
    if os.environ.get("CI") or os.environ.get("TRESEN_REQUIRE_SERVICES"):
        pytest.fail(f"{what} is not installed, and CI must test it for real")
    pytest.skip(f"{what} is not installed")


def _pg_bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


class PostgresServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="tresen-pg-"))
        self.proc: subprocess.Popen[bytes] | None = None
        self._as_user: list[str] = []

    def start(self) -> None:
        initdb, postgres = _pg_bin("initdb"), _pg_bin("postgres")
        if not initdb or not postgres:
            missing("PostgreSQL (initdb, postgres)")
        if os.geteuid() == 0:  # postgres refuses to run as root
            shutil.chown(self.dir, "postgres")
            self._as_user = ["runuser", "-u", "postgres", "--"]
        data = self.dir / "data"
        # initdb's bootstrap server can fail for want of shared memory or semaphores while other
        # servers start on a busy machine: try again on a clean directory, then say why.
        command = [*self._as_user, initdb, "-D", str(data), "-U", "tresen", "--auth=trust"]
        for attempt in range(3):
            done = subprocess.run([*command, "-E", "UTF8"], capture_output=True)
            if done.returncode == 0:
                break
            shutil.rmtree(data, ignore_errors=True)
            time.sleep(1 + attempt)
        else:
            raise RuntimeError(f"initdb failed: {done.stderr.decode(errors='replace')[-2000:]}")
        self.proc = subprocess.Popen(
            [
                *self._as_user,
                postgres,
                "-D",
                str(data),
                "-p",
                str(self.port),
                "-k",
                str(self.dir),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
                "-c",
                "max_connections=300",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_port(self.port)
        time.sleep(0.3)

    def url(self, db: str = "postgres") -> str:
        return f"postgresql+asyncpg://tresen@127.0.0.1:{self.port}/{db}"

    def create_database(self, name: str) -> str:
        import asyncio

        import asyncpg

        async def create() -> None:
            for _ in range(50):
                try:
                    conn = await asyncpg.connect(
                        f"postgresql://tresen@127.0.0.1:{self.port}/postgres"
                    )
                    break
                except (OSError, asyncpg.CannotConnectNowError):
                    await asyncio.sleep(0.1)
            try:
                await conn.execute(f'CREATE DATABASE "{name}"')
            finally:
                await conn.close()

        asyncio.run(create())
        return self.url(name)

    def stop(self) -> None:
        if self.proc:
            self.proc.terminate()
            self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


class RedisServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if not binary:
            missing("redis-server")
        self.proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_port(self.port)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.proc:
            self.proc.terminate()
            self.proc.wait(10)
