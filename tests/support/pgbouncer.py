"""PgBouncer in transaction mode in front of the test PostgreSQL, from the installed binary."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.support.services import PostgresServer, free_port, missing, wait_port

POOL_SIZE = 3  # few server connections, so every client connection shares them


class PgBouncerServer:
    def __init__(self, postgres: PostgresServer) -> None:
        self.postgres = postgres
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="tresen-pgbouncer-"))
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("pgbouncer") or shutil.which("/usr/sbin/pgbouncer")
        if not binary:
            missing("pgbouncer")
        (self.dir / "userlist.txt").write_text('"tresen" ""\n')
        (self.dir / "pgbouncer.ini").write_text(
            "[databases]\n"
            f"* = host=127.0.0.1 port={self.postgres.port}\n"
            "[pgbouncer]\n"
            "listen_addr = 127.0.0.1\n"
            f"listen_port = {self.port}\n"
            "unix_socket_dir =\n"
            "auth_type = trust\n"
            f"auth_file = {self.dir / 'userlist.txt'}\n"
            "pool_mode = transaction\n"
            f"default_pool_size = {POOL_SIZE}\n"
            "max_client_conn = 1000\n"
            f"logfile = {self.dir / 'pgbouncer.log'}\n"
        )
        as_user: list[str] = []
        if os.geteuid() == 0:  # pgbouncer refuses to run as root
            shutil.chown(self.dir, "postgres")
            for name in ("userlist.txt", "pgbouncer.ini"):
                shutil.chown(self.dir / name, "postgres")
            as_user = ["runuser", "-u", "postgres", "--"]
        self.proc = subprocess.Popen(
            [*as_user, binary, str(self.dir / "pgbouncer.ini")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_port(self.port)

    def url(self, db: str, *, pgbouncer_setting: bool = True) -> str:
        """The database through PgBouncer; with Tresen's setting for it, or without."""
        url = f"postgresql+asyncpg://tresen@127.0.0.1:{self.port}/{db}"
        return url + "?pgbouncer=true" if pgbouncer_setting else url

    def log(self) -> str:
        try:
            return (self.dir / "pgbouncer.log").read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc:
            self.proc.terminate()
            self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)
