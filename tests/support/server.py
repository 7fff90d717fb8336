"""Tresen servers for tests: in-process (uvicorn in the test's loop) or a real subprocess."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from tests.support.services import free_port, wait_port
from tresen.app import create_app
from tresen.cli import HTTP_KEEP_ALIVE_S
from tresen.gateway.lean_socket import ws_protocol
from tresen.settings import Settings

TEST_SECRET = "test-secret-key-not-for-production"
LOOPBACK_ENV = {
    "TRESEN_VISITOR_SESSIONS_PER_IP_PER_MINUTE": "1000000",
    "TRESEN_LOGIN_ATTEMPTS_PER_MINUTE": "1000000",
}
"""Every test visitor and agent comes from 127.0.0.1: the per-IP limits on new visitors and on
logins are tested on their own (tests/integration/api/test_abuse_limits.py,
test_login_limits.py), not by every test (the end-to-end ones log in many times a minute)."""


def test_settings(tmp_path: Path, database_url: str | None = None, **kw: Any) -> Settings:
    port = kw.pop("port", None) or free_port()
    kw.setdefault("visitor_sessions_per_ip_per_minute", 1_000_000)  # see LOOPBACK_ENV
    return Settings(
        var_dir=tmp_path,
        database_url=database_url or f"sqlite+aiosqlite:///{tmp_path / 'tresen.db'}",
        secret_key=TEST_SECRET,
        port=port,
        public_url=f"http://127.0.0.1:{port}",
        **kw,
    ).resolved()


test_settings.__test__ = False  # type: ignore[attr-defined]  # not a test itself


class InProcessServer:
    """A real uvicorn server on loopback inside the running event loop."""

    def __init__(self, settings: Settings, clock: Any = None, scheduler: Any = None) -> None:
        self.settings = settings
        self.app = create_app(settings, clock=clock, scheduler=scheduler)
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=settings.port,
            ws=ws_protocol(settings.ws_protocol),  # as `tresen serve`
            ws_ping_interval=None,
            ws_max_size=settings.ws_max_bytes,
            log_level="warning",
            lifespan="on",
            proxy_headers=False,  # as `tresen serve`: only TRESEN_TRUSTED_PROXIES are believed
            timeout_keep_alive=HTTP_KEEP_ALIVE_S,  # as `tresen serve`: above clients' idle expiry
        )
        self.server = uvicorn.Server(config)
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.settings.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.settings.port}"

    @property
    def rt(self) -> Any:
        return self.app.state.rt

    async def start(self) -> None:
        self._task = asyncio.create_task(self.server.serve())
        while not self.server.started:
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        self.server.should_exit = True
        if self._task:
            await self._task


class ServerProcess:
    """``python -m tresen serve`` as a child process that a test can SIGKILL and restart."""

    def __init__(
        self, env: dict[str, str], port: int | None = None, command: str = "serve"
    ) -> None:
        self.port = port or free_port()
        self.command = command
        self.env = {**os.environ, **LOOPBACK_ENV, **env, "TRESEN_PORT": str(self.port)}
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tresen", self.command],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        # Deadlines only: on a busy machine the start (imports, migrations, the demo's data)
        # took over 30 s; a server that exits says why at once.
        try:
            wait_port(self.port, proc=self.proc)
        except RuntimeError as exited:
            raise RuntimeError(f"{exited}: {self._stderr()}") from None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited ({self.proc.returncode}): {self._stderr()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise TimeoutError("server did not become healthy")

    def _stderr(self) -> str:
        """The end of what an exited server wrote to stderr."""
        if self.proc is None or self.proc.stderr is None:
            return ""
        return self.proc.stderr.read().decode(errors="replace")[-2000:]

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no flushing — a crash."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        if self.proc and self.proc.stderr:
            self.proc.stderr.close()  # an unclosed pipe is a ResourceWarning, an error here
