"""Debian's nginx in front of a Tresen server, with a self-signed TLS certificate.

Everything lives in a temporary prefix (config, pid, logs, temp paths); nginx runs in the
foreground as the test's child. Its configuration is the one docs/deployment.md recommends.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import shutil
import ssl
import subprocess
import time
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support.services import free_port, missing, wait_port

NGINX = "/usr/sbin/nginx"

CONFIG = """
{user}daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;

    map $http_upgrade $connection_upgrade {{
        default upgrade;
        ''      '';
    }}
    upstream tresen {{
        server {upstream};
        keepalive 8;
    }}
    server {{
        listen {listen} ssl;
        server_name {server_name};
        ssl_certificate {prefix}/cert.pem;
        ssl_certificate_key {prefix}/key.pem;

        location / {{
            proxy_pass http://tresen;
            proxy_bind {proxy_bind};
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Host $http_host;
            proxy_read_timeout 120s;
            proxy_send_timeout 120s;
        }}
    }}
}}
"""


def self_signed(host: str, directory: Path) -> tuple[Path, Path]:
    """A certificate for ``host`` (a name or an IP) and its key, written as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    try:
        alt: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        alt = x509.DNSName(host)
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([alt]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class NginxProxy:
    """nginx on ``host:port`` (TLS) forwarding to ``upstream``, connecting from ``proxy_bind``."""

    def __init__(
        self,
        prefix: Path,
        upstream: str,
        *,
        host: str,
        proxy_bind: str,
        template: str = CONFIG,
        **extra: str,
    ) -> None:
        """``template``: another configuration with ``CONFIG``'s fields and ``extra`` ones."""
        self.prefix = prefix
        self.template, self.extra = template, extra
        self.host = host
        self.port = free_port()
        self.upstream = upstream
        self.proxy_bind = proxy_bind
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"wss://{self.host}:{self.port}"

    def ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts this proxy's certificate (and nothing else)."""
        return ssl.create_default_context(cafile=str(self.prefix / "cert.pem"))

    def start(self) -> None:
        if not (os.access(NGINX, os.X_OK) or shutil.which("nginx")):
            missing("nginx")
        binary = NGINX if os.access(NGINX, os.X_OK) else str(shutil.which("nginx"))
        self.prefix.mkdir(parents=True, exist_ok=True)
        self_signed(self.host, self.prefix)
        conf = self.prefix / "nginx.conf"
        conf.write_text(
            self.template.format(
                # As root, workers would switch to "nobody", who cannot enter pytest's tmp dirs.
                user="user root;\n" if os.geteuid() == 0 else "",
                prefix=self.prefix,
                upstream=self.upstream,
                listen=f"{self.host}:{self.port}",
                server_name=self.host,
                proxy_bind=self.proxy_bind,
                **self.extra,
            )
        )
        self.proc = subprocess.Popen(
            [binary, "-p", str(self.prefix), "-c", str(conf), "-e", str(self.prefix / "error.log")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
                raise RuntimeError(f"nginx exited: {err}\n{self.error_log()}")
            try:
                wait_port(self.port, timeout=0.2, host=self.host)
                return
            except TimeoutError:
                continue
        raise TimeoutError(f"nginx did not listen:\n{self.error_log()}")

    def error_log(self) -> str:
        try:
            return (self.prefix / "error.log").read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if self.proc.stderr:
            self.proc.stderr.close()
