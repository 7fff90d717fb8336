"""A real Dovecot IMAP server (Debian's ``dovecot-imapd``), started from the installed binary
for a test, holding the support mailbox in a Maildir; plus a plain IMAP client (the standard
library's imaplib) to put mail into it as another mail client would."""

from __future__ import annotations

import imaplib
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.support.services import free_port, missing, wait_port

DOVECOT = "/usr/sbin/dovecot"
USER, PASSWORD = "support@shop.example", "imap-secret"

CONFIG = """
base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{dir}/mail/%u
first_valid_uid = {uid}
first_valid_gid = {gid}
default_login_user = dovenull
default_internal_user = dovecot
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {dir}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {dir}/users
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


class DovecotServer:
    def __init__(self, users: tuple[str, ...] = (USER,)) -> None:
        self.users = users
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="tresen-dovecot-"))
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> DovecotServer:
        if not os.path.exists(DOVECOT):
            missing("Dovecot (dovecot-imapd)")
        # Dovecot refuses root as a mail user: the mailbox belongs to nobody when we are root.
        uid = os.getuid() or pwd.getpwnam("nobody").pw_uid
        gid = os.getgid() if os.getuid() else pwd.getpwnam("nobody").pw_gid
        for sub in ("run", "state", "mail", "home"):
            (self.dir / sub).mkdir()
        for sub in ("mail", "home"):
            shutil.chown(self.dir / sub, uid, gid)
        self.dir.chmod(0o755)
        (self.dir / "users").write_text(
            "".join(
                f"{u}:{{PLAIN}}{PASSWORD}:{uid}:{gid}::{self.dir}/home/{u}::\n" for u in self.users
            )
        )
        conf = self.dir / "dovecot.conf"
        conf.write_text(CONFIG.format(dir=self.dir, uid=uid, gid=gid, port=self.port))
        self.proc = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_port(self.port)
        return self

    def fill_maildir(self, n: int, shapes: tuple[str, ...], start: int = 0) -> int:
        """N mails written straight into the support mailbox's Maildir ``new/`` (what an MDA
        does; much faster than APPEND), each with its own Message-ID and sender, cycling
        through the ``.eml`` fixtures ``shapes``. Returns the bytes written."""
        from tests.support.eml import eml

        box = self.dir / "mail" / USER
        for sub in ("cur", "new", "tmp"):
            (box / sub).mkdir(parents=True, exist_ok=True)
        owner = (self.dir / "mail").stat()
        total = 0
        for i in range(start, start + n):
            raw = eml(shapes[i % len(shapes)], FROM=f"kunde{i}@example.com")
            for header in (b"Message-ID: <", b"Message-Id: <"):
                raw = raw.replace(header, header + f"bulk{i}.".encode(), 1)
            (box / "new" / f"{1700000000 + i}.M{i}P1.tresen").write_bytes(raw)
            total += len(raw)
        for root, dirs, files in os.walk(box):
            for name in [*dirs, *files]:
                os.chown(Path(root) / name, owner.st_uid, owner.st_gid)
        os.chown(box, owner.st_uid, owner.st_gid)
        return total

    def client(self, user: str = USER) -> imaplib.IMAP4:
        imap = imaplib.IMAP4("127.0.0.1", self.port)
        imap.login(user, PASSWORD)
        return imap

    def deliver(self, *raws: bytes, folder: str = "INBOX", user: str = USER) -> None:
        """Put mails into a mailbox (IMAP APPEND), unread, as the MTA would."""
        imap = self.client(user)
        try:
            for raw in raws:
                typ, data = imap.append(folder, None, None, raw)
                assert typ == "OK", data
        finally:
            imap.logout()

    def messages(self, user: str, folder: str = "INBOX") -> list[bytes]:
        """Every mail in a mailbox, oldest first (read-only: flags untouched)."""
        imap = self.client(user)
        try:
            imap.select(folder, readonly=True)
            _, data = imap.uid("SEARCH", None, "ALL")
            uids = data[0].split() if data and data[0] else []
            out = []
            for uid in uids:
                _, parts = imap.uid("FETCH", uid, "(BODY.PEEK[])")
                out.append(bytes(parts[0][1]))  # type: ignore[index]
            return out
        finally:
            imap.logout()

    def seen(self, folder: str = "INBOX") -> list[int]:
        """The UIDs marked read."""
        imap = self.client()
        try:
            imap.select(folder, readonly=True)
            _, data = imap.uid("SEARCH", None, "SEEN")
            return [int(x) for x in data[0].split()] if data and data[0] else []
        finally:
            imap.logout()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)
