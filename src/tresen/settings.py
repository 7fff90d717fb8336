"""One typed settings object, read from the environment (``TRESEN_*``)."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TRESEN_", env_file=".env", extra="ignore")

    var_dir: Path = Path("./var")
    database_url: str = ""
    redis_url: str | None = None
    # Redis Cluster (sharded pub/sub): also implied by a redis+cluster://host:port,host:port URL
    redis_cluster: bool = False
    # Prometheus /metrics answers only "Authorization: Bearer <metrics_token>"; unset: off
    metrics_token: str | None = None
    secret_key: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = ""
    node_name: str = Field(default_factory=lambda: secrets.token_hex(3))

    max_message_chars: int = 8192
    max_frame_bytes: int = 65536
    send_queue_limit: int = 512
    frames_per_second: float = 20.0
    frames_burst: float = 60.0
    cobrowse_max_frame_bytes: int = 2 * 1024 * 1024  # a full snapshot above this is refused
    cobrowse_frames_per_second: float = 40.0  # recorder batches, on a bucket of their own
    cobrowse_frames_burst: float = 80.0
    cobrowse_bytes_per_minute: int = 20 * 1024 * 1024
    heartbeat_seconds: float = 25.0
    # uvicorn's WebSocket implementation (bench/README.md, issue #17, compares them)
    ws_protocol: Literal["websockets-sansio", "websockets", "wsproto"] = "websockets-sansio"
    idle_timeout_seconds: float = 75.0
    ticket_ttl_seconds: int = 30
    session_ttl_seconds: int = 12 * 3600
    visitor_token_ttl_seconds: int = 365 * 24 * 3600
    login_attempts_per_minute: int = 10
    api_token_requests_per_minute: int = 600  # per API token (429 with Retry-After beyond)
    visitor_sessions_per_ip_per_minute: int = 60  # new visitors (no valid token) per client IP
    new_conversations_per_visitor_per_hour: int = 10  # sends without conversation_id
    routing_strategy: str = "least_busy"
    routing_department_strategies: dict[str, str] = {}
    accept_seconds: float = 0.0  # 0: assign at once; else the agent accepts within this time
    sticky_seconds: float = 30.0  # a returning customer waits this long for their last agent
    priority_segments: list[str] = ["gold", "platinum", "vip"]
    overflow_wait_seconds: float = 180.0  # offer message/callback/bot beyond this wait
    callback_region: str = "DE"  # callback numbers without +<country> are read as from here
    auto_away_seconds: float = 60.0  # agent with no console connected turns away after this
    abandon_after_seconds: float = 60.0  # a queued visitor gone this long counts as abandoned
    # The lifecycle timers' pass (silent, waiting, closing; docs/lifecycle.md): its period.
    lifecycle_pass_seconds: float = 1.0
    email_slots: int = Field(default=1, ge=0)  # email items an agent holds beside chats
    email_chat_reserve: int = Field(default=1, ge=0)  # chat slots kept free of email work
    email_yield: bool = True  # untouched email items go back when a chat waits
    visit_timeout_seconds: float = 30 * 60.0  # a visit ends after this long without activity
    visit_grace_seconds: float = 10.0  # a visitor with no tab left stays listed this long
    # "predicted_wait": invite while an accepted invitation would be answered within the target
    # (each outstanding one weighted by its rule's acceptance rate); "slots": one slot each
    radar_pacing: Literal["predicted_wait", "slots"] = "predicted_wait"
    radar_target_wait_seconds: float = Field(default=20.0, gt=0)
    # with several nodes, each sends all its live visitors to the others this often; a row not
    # heard of for three periods (its holder died) leaves the other nodes' live lists
    radar_census_seconds: float = Field(default=10.0, gt=0)
    radar_history_days: float = 30.0  # visits, page views, capacity samples kept for replay
    outbox_retry_seconds: float = Field(default=30.0, gt=0)  # first retry; doubles, max 1 h
    outbox_max_attempts: int = Field(default=8, ge=1)  # then the delivery is marked failed
    outbox_sweep_seconds: float = Field(default=15.0, gt=0)  # due retries are looked for
    digest_sweep_seconds: float = Field(default=300.0, gt=0)  # supervisors' summaries due
    digest_language: Literal["en", "de", "da"] = "en"  # a summary whose reader chose none
    digest_unsubscribe_days: float = Field(default=90.0, gt=0)  # a mail's opt-out link works
    webhooks_retry_seconds: float = Field(default=30.0, gt=0)  # first retry; doubles, max 1 h
    webhooks_retry_hours: float = Field(default=24.0, gt=0)  # then a delivery is marked failed
    webhooks_sweep_seconds: float = Field(default=15.0, gt=0)  # due retries are looked for
    webhooks_timeout_seconds: float = Field(default=10.0, gt=0)  # one request, connect to end
    webhooks_concurrency: int = Field(default=16, ge=1)  # requests in flight per node
    webhooks_allow_private: bool = False  # loopback/private targets for every subscription
    webhooks_keep_days: float = Field(default=30.0, gt=0)  # finished deliveries and their log
    smtp_timeout_seconds: float = 30.0  # one outgoing SMTP conversation
    # extra CA certificates (PEM) trusted for outgoing SMTP, besides the system's
    mail_ca_file: str = ""
    smtp_enabled: bool = False  # the embedded SMTP listener for inbound mail (aiosmtpd)
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 2525
    # STARTTLS on the listener: a PEM certificate chain and key (both, or neither)
    smtp_tls_cert: str = ""
    smtp_tls_key: str = ""
    smtp_require_tls: bool = False  # refuse mail before STARTTLS (needs the certificate)
    # AUTH required of whoever delivers (the company's MTA forwarding to Tresen): both, or neither
    smtp_auth_user: str = ""
    smtp_auth_password: str = ""
    imap_poll_seconds: float = Field(default=60.0, gt=0)  # without IDLE, and as a safety net
    imap_idle: bool = True  # keep a connection in IDLE where the server offers it
    # one node reads each mailbox; another takes over this long after it stopped renewing
    imap_lease_seconds: float = Field(default=180.0, gt=0)
    email_max_bytes: int = 10 * 1024 * 1024  # a larger inbound mail is refused (SMTP 552)
    # agent replies unseen this long by a visitor with a known address are mailed (0: never)
    email_followup_minutes: float = Field(default=10.0, ge=0)
    email_per_sender_per_hour: int = 30  # beyond, a sender's mails are recorded, not routed
    # messaging channels (docs/channels.md): the platforms' API roots (tests point them at a fake)
    graph_api_base: str = "https://graph.facebook.com/v21.0"  # WhatsApp Cloud API, Messenger
    telegram_api_base: str = "https://api.telegram.org"
    messaging_timeout_seconds: float = Field(default=15.0, gt=0)  # one call to a platform
    channel_media_max_bytes: int = Field(default=5 * 1024 * 1024, ge=0)  # larger: not stored
    # a file attached to a message by an agent or a visitor (docs/attachments.md)
    attachment_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1, le=24 * 1024 * 1024)
    cookie_secure: bool = False  # also implied by an https public_url
    trusted_proxies: list[str] = []  # IPs or networks whose X-Forwarded-For/-Proto/-Host count
    log_level: str = "info"

    @property
    def ws_max_bytes(self) -> int:
        """The WebSocket server's message limit: above every frame type's cap, so a frame over
        its cap is answered ``frame_too_large`` and a legal one always reaches the gateway
        (never a 1009 close)."""
        return max(self.max_frame_bytes, self.cobrowse_max_frame_bytes) + 64 * 1024

    @property
    def secure_cookies(self) -> bool:
        """Cookies only over HTTPS: asked for, or the public URL is https."""
        return self.cookie_secure or self.public_url.lower().startswith("https://")

    def resolved(self) -> Settings:
        """Fill defaults that depend on the var dir (database file, persisted secret key)."""
        updates: dict[str, object] = {}
        if not self.database_url:
            self.var_dir.mkdir(parents=True, exist_ok=True)
            updates["database_url"] = f"sqlite+aiosqlite:///{self.var_dir / 'tresen.db'}"
        if not self.secret_key:
            updates["secret_key"] = _persisted_secret(self.var_dir)
        if not self.public_url:
            updates["public_url"] = f"http://{self.host}:{self.port}"
        return self.model_copy(update=updates) if updates else self


def _persisted_secret(var_dir: Path) -> str:
    """A secret key generated once and kept in the var dir, so restarts keep sessions valid."""
    var_dir.mkdir(parents=True, exist_ok=True)
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


@lru_cache
def get_settings() -> Settings:
    return Settings().resolved()
