"""One IMAP session (aioimaplib) of a mailbox: connect, select, list new UIDs with their sizes,
fetch one mail without marking it read (``BODY.PEEK[]``), mark one read."""

from __future__ import annotations

import asyncio
import re
import ssl
from collections.abc import Awaitable, Callable
from typing import TypeVar

import aioimaplib

from tresen.channels.mailbox import ServerConfig

UIDVALIDITY_RE = re.compile(rb"UIDVALIDITY (\d+)")
T = TypeVar("T")
SIZE_RE = re.compile(rb"UID (\d+) RFC822\.SIZE (\d+)|RFC822\.SIZE (\d+) UID (\d+)")


class ImapError(Exception):
    """The server refused or the connection broke: try again later."""


def _check(response: aioimaplib.Response, what: str) -> list[bytes]:
    if response.result != "OK":
        raise ImapError(f"{what}: {response.result} {response.lines[-1:]!r}")
    return list(response.lines)


class ImapSession:
    def __init__(self, conf: ServerConfig, timeout: float = 30.0) -> None:
        self.conf, self.timeout = conf, timeout
        self.client: aioimaplib.IMAP4 | None = None
        self._lost = asyncio.Event()

    def _on_lost(self, exc: Exception | None) -> None:
        self._lost.set()

    async def _call(self, command: Awaitable[T]) -> T:
        """A command, given up as soon as the connection is lost (aioimaplib itself would
        wait for its timeout)."""
        task = asyncio.ensure_future(command)
        lost = asyncio.ensure_future(self._lost.wait())
        try:
            await asyncio.wait({task, lost}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            lost.cancel()
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            raise ImapError("the server closed the connection")
        return task.result()

    async def open(self, folder: str) -> int:
        """Log in and select ``folder``; returns its UIDVALIDITY."""
        conf = self.conf
        if conf.security == "tls":
            context = ssl.create_default_context()
            if not conf.verify_tls:
                context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
            self.client = aioimaplib.IMAP4_SSL(
                conf.host,
                conf.port,
                timeout=self.timeout,
                ssl_context=context,
                conn_lost_cb=self._on_lost,
            )
        else:
            self.client = aioimaplib.IMAP4(
                conf.host, conf.port, timeout=self.timeout, conn_lost_cb=self._on_lost
            )
        await self.client.wait_hello_from_server()
        _check(await self._call(self.client.login(conf.user, conf.password)), "login")
        lines = _check(await self._call(self.client.select(folder)), "select")
        for line in lines:
            if m := UIDVALIDITY_RE.search(bytes(line)):
                return int(m.group(1))
        raise ImapError("the server sent no UIDVALIDITY")

    @property
    def idle_offered(self) -> bool:
        return self.client is not None and self.client.has_capability("IDLE")

    async def new_uids(self, after: int) -> list[int]:
        """Every UID above ``after``, ascending (one SEARCH line, however many)."""
        assert self.client is not None
        lines = _check(await self._call(self.client.uid_search(f"UID {after + 1}:*")), "search")
        found: set[int] = set()
        for line in lines[:-1]:
            found.update(int(x) for x in bytes(line).split() if x.isdigit())
        return sorted(u for u in found if u > after)  # "n:*" names the newest even below n

    async def sizes(self, uids: list[int]) -> dict[int, int]:
        """RFC822.SIZE of a few UIDs (asked in small batches: aioimaplib cannot take a
        response of thousands of lines in one read)."""
        assert self.client is not None
        seq = ",".join(str(u) for u in uids)
        lines = _check(
            await self._call(self.client.uid("fetch", seq, "(RFC822.SIZE)")), "fetch sizes"
        )
        found: dict[int, int] = {}
        for line in lines:
            if m := SIZE_RE.search(bytes(line)):
                uid, size = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
                found[int(uid)] = int(size)
        return found

    async def fetch(self, uid: int) -> bytes:
        assert self.client is not None
        lines = _check(
            await self._call(self.client.uid("fetch", str(uid), "(BODY.PEEK[])")), "fetch"
        )
        for line in lines:
            if isinstance(line, bytearray):
                return bytes(line)
        raise ImapError(f"no body for UID {uid}")

    async def mark_seen(self, uids: list[int]) -> None:
        if not uids:
            return
        assert self.client is not None
        seq = ",".join(str(u) for u in uids)
        response = await self._call(self.client.uid("store", seq, "+FLAGS.SILENT (\\Seen)"))
        _check(response, "store")

    async def wait_for_news(
        self, seconds: float, entered: Callable[[], None] | None = None
    ) -> bool:
        """IDLE until the server announces something (True) or ``seconds`` pass (False).
        ``entered`` is called once the server confirmed the IDLE."""
        assert self.client is not None
        idle = await self.client.idle_start(timeout=seconds)
        if entered is not None:
            entered()
        try:
            pushed = await self.client.wait_server_push(timeout=seconds)
        except TimeoutError:
            pushed = []
        self.client.idle_done()
        await idle
        return any(b"EXISTS" in bytes(x) for x in (pushed if isinstance(pushed, list) else []))

    async def close(self) -> None:
        """Log out politely; whatever happens, the connection is closed."""
        if self.client is None:
            return
        try:
            if not self._lost.is_set() and not self.client.has_pending_idle():
                await asyncio.wait_for(self.client.logout(), 5)
        except Exception:
            pass
        finally:
            self.abort()

    def abort(self) -> None:
        """Close the connection now (shutting down, or it broke)."""
        client, self.client = self.client, None
        protocol = getattr(client, "protocol", None)
        transport = getattr(protocol, "transport", None)
        if transport is not None:
            transport.close()
