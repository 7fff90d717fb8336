"""The server under test: a real ``tresen serve`` subprocess on a fresh SQLite var dir."""

from __future__ import annotations

import asyncio
import os
import resource
import socket
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

ORIGIN = "https://shop.example"
PASSWORD = "correct horse battery"
SECRET = "bench-secret-key-not-for-production-0123456789"


def raise_nofile(want: int) -> int:
    """Raise RLIMIT_NOFILE's soft limit toward ``want`` (capped by the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Seeded:
    site_key: str
    agents: list[str]


class BenchServer:
    """Migrate, seed, serve; report RSS and read the database."""

    def __init__(self, var_dir: Path, nofile: int, extra_env: dict[str, str]) -> None:
        self.var_dir = var_dir
        self.port = free_port()
        self.nofile = nofile
        self.db_path = var_dir / "tresen.db"
        self.env = {
            **os.environ,
            "TRESEN_VAR_DIR": str(var_dir),
            "TRESEN_DATABASE_URL": f"sqlite+aiosqlite:///{self.db_path}",
            "TRESEN_SECRET_KEY": SECRET,
            "TRESEN_HOST": "127.0.0.1",
            "TRESEN_PORT": str(self.port),
            "TRESEN_PUBLIC_URL": f"http://127.0.0.1:{self.port}",
            "TRESEN_LOG_LEVEL": "warning",
            "TRESEN_VISITOR_SESSIONS_PER_IP_PER_MINUTE": "1000000",  # every visitor is local
            **extra_env,
        }
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = var_dir / "server.log"
        self.stall_log: Path | None = None  # set: run under bench._stall_probe, gaps go here

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def prepare(self, agents: int) -> Seeded:
        """``tresen migrate`` then a site and ``agents`` agents through the actions."""
        subprocess.run(
            [sys.executable, "-m", "tresen", "migrate"],
            env=self.env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        code = (
            "import asyncio, sys, json\n"
            "from bench._server import seed_in_process\n"
            f"print(json.dumps(asyncio.run(seed_in_process({agents}))))\n"
        )
        root = str(Path(__file__).resolve().parent.parent)
        env = {**self.env, "PYTHONPATH": root + os.pathsep + self.env.get("PYTHONPATH", "")}
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True
        ).stdout
        import json

        data = json.loads(out.strip().splitlines()[-1])
        return Seeded(data["site_key"], data["agents"])

    def start(self) -> None:
        nofile = self.nofile

        def limits() -> None:
            raise_nofile(nofile)

        log = self.log_path.open("ab")
        cmd, env = [sys.executable, "-m", "tresen", "serve"], self.env
        root = str(Path(__file__).resolve().parent.parent)  # for servers run from bench/
        with_bench = {**env, "PYTHONPATH": env.get("PYTHONPATH", "") + os.pathsep + root}
        if os.environ.get("BENCH_SERVER") == "granian":  # the same app under Granian (ASGI)
            cmd = [sys.executable, "-m", "granian", "--interface", "asgi", "--factory"]
            cmd += ["--host", "127.0.0.1", "--port", str(self.port), "--workers", "1"]
            cmd += ["--loop", "uvloop", "--log-level", "warning", "bench._granian_app:app"]
            env = with_bench
        if self.stall_log is not None:  # bench._stall_probe runs tresen serve with the probe
            cmd, env = [sys.executable, "-m", "bench._stall_probe", str(self.stall_log)], with_bench
        self.proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=log, preexec_fn=limits)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited; see {self.log_path}")
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise TimeoutError("server did not become healthy")

    def rss(self) -> int:
        assert self.proc is not None
        server = psutil.Process(self.proc.pid)
        return sum(int(p.memory_info().rss) for p in [server, *server.children(recursive=True)])

    def cpu_seconds(self) -> float:
        assert self.proc is not None
        server = psutil.Process(self.proc.pid)
        total = 0.0
        for proc in [server, *server.children(recursive=True)]:  # Granian: a worker process
            try:
                t = proc.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += t.user + t.system
        return total

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def query(self, sql: str, *args: object) -> list[tuple[object, ...]]:
        with sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=30) as con:
            return list(con.execute(sql, args))


async def seed_in_process(agents: int) -> dict[str, object]:
    """Runs in a helper process with the server's environment, before the server starts."""
    from tresen.agents.actions import check_create_agent
    from tresen.runtime import build_runtime
    from tresen.settings import Settings
    from tresen.sites.actions import do_create_site

    rt = build_runtime(Settings().resolved())
    try:
        site = await do_create_site(rt, "Bench shop", [ORIGIN])
        names = [f"agent{i}" for i in range(agents)]
        await asyncio.gather(
            *(
                check_create_agent(rt, n, PASSWORD, display_name=n.title(), max_chats=20)
                for n in names
            )
        )
        return {"site_key": site.widget_key, "agents": names}
    finally:
        await rt.close()
