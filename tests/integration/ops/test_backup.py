"""``tresen backup``: an online copy of the SQLite database, taken while the server writes."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
from pathlib import Path

from tests.support.actors import running_scenario
from tests.support.server import TEST_SECRET

MESSAGES = 150


async def tresen(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    """``python -m tresen ...`` as an operator runs it: its own process."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tresen",
        *args,
        env={**os.environ, "TRESEN_SECRET_KEY": TEST_SECRET, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    return proc.returncode or 0, out.decode(), err.decode()


def read_copy(path: Path) -> tuple[str, dict[int, list[int]]]:
    """The copy's integrity check and, per conversation, its message seqs."""
    db = sqlite3.connect(path)
    try:
        (check,) = db.execute("PRAGMA integrity_check").fetchone()
        seqs: dict[int, list[int]] = {}
        for conv, seq in db.execute("SELECT conversation_id, seq FROM messages ORDER BY seq"):
            seqs.setdefault(conv, []).append(seq)
        return check, seqs
    finally:
        db.close()


async def test_backup_while_messages_are_written(tmp_path: Path) -> None:
    # The visitor sends as fast as it can; the frame rate limit is not under test here.
    limits = {"frames_per_second": 100_000, "frames_burst": 100_000}
    async with running_scenario(tmp_path, **limits) as (srv, sc):
        env = {"TRESEN_DATABASE_URL": srv.settings.database_url, "TRESEN_VAR_DIR": str(tmp_path)}
        visitor = (await sc.visitor()).client()
        await visitor.start()
        try:
            first = await visitor.send("first")
            conv = (await visitor.wait_ack(first))["conversation_id"]

            async def write() -> None:
                for i in range(MESSAGES):
                    await visitor.send(f"message {i}", conv)
                    if i % 10 == 0:
                        await asyncio.sleep(0.01)

            writing = asyncio.create_task(write())
            copies: list[Path] = []
            while not writing.done() or len(copies) < 2:
                code, out, err = await tresen("backup", "--to", str(tmp_path / "bk"), env=env)
                assert code == 0, err
                copies.append(Path(out.strip().rsplit(" to ", 1)[1]))
            await writing
            await visitor.wait_for(lambda: not visitor.pending)
            code, out, err = await tresen("backup", env=env)  # default: VAR_DIR/backups
            assert code == 0, err
            final = Path(out.strip().rsplit(" to ", 1)[1])
        finally:
            await visitor.stop()

    assert final.parent == tmp_path / "backups"
    assert len(set(copies)) == len(copies), "every backup gets its own timestamped file"
    for copy in copies:
        check, seqs = read_copy(copy)
        assert check == "ok"
        # One consistent snapshot: a prefix of the conversation, no holes.
        got = seqs.get(conv, [])
        assert got == list(range(1, len(got) + 1))
        assert not copy.with_name(copy.name + "-wal").exists()
    check, seqs = read_copy(final)
    assert check == "ok"
    assert seqs[conv] == list(range(1, MESSAGES + 2))


async def test_backup_refuses_postgresql_and_prints_pg_dump(tmp_path: Path) -> None:
    url = "postgresql://tresen:secret@db.internal:5433/tresen_prod"
    code, out, err = await tresen(
        "backup", env={"TRESEN_DATABASE_URL": url, "TRESEN_VAR_DIR": str(tmp_path)}
    )
    assert code == 2 and out == ""
    assert "SQLite databases only" in err
    assert "pg_dump --format=custom" in err
    assert "--host=db.internal --port=5433 --username=tresen tresen_prod" in err
    assert "secret" not in err  # the password is never printed
    assert not (tmp_path / "backups").exists()


async def test_backup_of_a_missing_database_fails_clearly(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'nothing.db'}"
    code, _out, err = await tresen(
        "backup", env={"TRESEN_DATABASE_URL": url, "TRESEN_VAR_DIR": str(tmp_path)}
    )
    assert code == 2
    assert f"no database file at {tmp_path / 'nothing.db'}" in err
