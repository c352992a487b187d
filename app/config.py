"""Settings: one class, read from REPOSTER_* environment variables or a .env file."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from cryptography.fernet import Fernet
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_KEYS = {"", "change-me", "changeme", "placeholder", "secret"}


class Settings(BaseSettings):
    """Everything the service reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="REPOSTER_", env_file=".env", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./reposter.db"
    # Fernet key for platform credentials at rest. No usable default outside the demo.
    encryption_key: str = ""
    poll_interval_seconds: float = Field(default=60.0, gt=0)
    # The share of an account's read budget on its platform (Platform.calls_per_second) its polls may
    # spend together; a busy source is polled no faster than that allows. 0: no budget fitting.
    poll_budget_share: float = Field(default=0.5, ge=0, le=1)
    dispatch_interval_seconds: float = Field(default=2.0, gt=0)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    worker_id: str = ""
    lease_seconds: int = Field(default=120, ge=5)
    # PostgreSQL connections of one process: kept open, and opened beyond them at busy moments (an
    # overflow connection is closed when given back). A worker holds one only while it reads or
    # writes (never across a platform call); bench/scale.py saw at most 9 per worker. Every process
    # may open pool + overflow, a worker one more (LISTEN): workers x 16 + the API's 15 must stay
    # under the server's max_connections (100 by default; it was 10 + 10, so 4 workers and an API: 105).
    db_pool_size: int = Field(default=10, ge=1)
    db_max_overflow: int = Field(default=5, ge=0)
    max_attempts: int = Field(default=6, ge=1)
    retry_base_seconds: float = Field(default=30.0, ge=0)
    dispatch_batch: int = Field(default=200, ge=1)
    # Platform work runs concurrently, account by account (one account's calls stay in order):
    # at most this many accounts' polls, and as many sends, at once in a worker, and this many of
    # each per server.
    max_concurrent_calls: int = Field(default=64, ge=1)
    max_calls_per_host: int = Field(default=16, ge=1)
    # A poll (all its pages) or a send taking longer is abandoned and recorded as that source's or
    # action's failure, its lease released; a hanging server then costs only its own accounts.
    poll_budget_seconds: float = Field(default=60.0, gt=0)
    send_budget_seconds: float = Field(default=30.0, gt=0)
    # How long a scheduled job waits for its accounts' work before it ends; slower work goes on in
    # the background (its account is skipped until it ends), so the next job starts on time.
    stage_wait_seconds: float = Field(default=1.0, gt=0)
    # On SIGTERM/SIGINT a worker lets work in hand finish for this long, then cancels the rest and
    # gives back its leases at once (a rolling restart waits for no lease to run out).
    shutdown_grace_seconds: float = Field(default=10.0, ge=0)
    run_scheduler: bool = True
    # The push path: posts that arrive through a stream or /ingest are matched and sent at once by
    # the worker (PostgreSQL: across processes through LISTEN/NOTIFY); off, they wait for the jobs.
    push_enabled: bool = True
    # the first poll of a new source takes only posts younger than this (its history is not news)
    first_poll_max_age_seconds: float = Field(default=3600.0, ge=0)
    # matched posts no action refers to are forgotten after this many days
    inbox_retention_days: float = Field(default=7.0, gt=0)
    # Reposted originals are looked at again (deleted? edited?) this often, for this many days.
    originals_check_seconds: float = Field(default=3600.0, gt=0)
    originals_check_days: float = Field(default=7.0, ge=0)
    originals_batch: int = Field(default=20, ge=1)
    # Subscribed block lists (Bluesky moderation lists, other accounts' blocks) are read again this often.
    block_list_refresh_seconds: float = Field(default=1800.0, gt=0)
    # PDS blocks (`pds:host`): a Bluesky author's PDS is read from their DID document, did:plc ones
    # from this PLC directory (a development network runs its own); a new author's first lookup
    # holds their matched action at most `pds_lookup_seconds` (app/moderation/author_hosts.py).
    plc_url: str = "https://plc.directory"
    pds_lookup_seconds: float = Field(default=3.0, gt=0, le=30)
    # this many failed polls of a source in a row raise the account condition `source:<source>`
    source_failure_threshold: int = Field(default=3, ge=1)
    # The dashboard: how long a sign-in lasts while unused, and the address people reach this
    # service at (for invitation links and the platforms' sign-in redirects behind a proxy); unset:
    # the address of the request.
    session_days: float = Field(default=14.0, gt=0)
    public_url: str = ""
    # The operator's X app, for connecting X accounts from the dashboard (OAuth 2.0 with PKCE): its
    # client id, its secret for a confidential client (empty: a public one), and its app-only bearer
    # token, stored with each X account for the filtered stream (empty: X accounts poll instead).
    # Register <public_url>/connect/x/callback as the app's callback URL.
    x_client_id: str = ""
    x_client_secret: str = ""
    x_bearer_token: str = ""
    # Alerts (app/alerts): conditions are looked at and due messages sent this often; a message
    # a receiver did not take is tried again after alert_retry_base_seconds, doubling, this many times.
    alert_interval_seconds: float = Field(default=30.0, gt=0)
    alert_retry_base_seconds: float = Field(default=30.0, ge=0)
    alert_max_attempts: int = Field(default=8, ge=1)
    alert_timeout_seconds: float = Field(default=10.0, gt=0)
    # Email alerts, through this SMTP server; unset host: no email subscriptions
    smtp_host: str = ""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_from: str = "reposter@localhost"
    smtp_starttls: bool = True  # STARTTLS on a plain connection (port 587)
    smtp_ssl: bool = False  # TLS from the start (port 465)
    log_level: str = "INFO"
    # json (one object per line) or text (message and key=value fields); unset: json for serve and
    # worker, text for the demo and the other commands
    log_format: Literal["json", "text"] | None = None

    @field_validator("log_format", mode="before")
    @classmethod
    def _format_name(cls, value: object) -> object:
        """`REPOSTER_LOG_FORMAT=` (empty) means the command's default; `JSON` means json."""
        return (value.strip().lower() or None) if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        """Accept plain URLs and pick the async driver we ship (aiosqlite, psycopg)."""
        if value.startswith("sqlite:///"):
            return value.replace("sqlite:///", "sqlite+aiosqlite:///", 1)
        if value.startswith(("postgresql://", "postgres://")):
            return "postgresql+psycopg://" + value.split("://", 1)[1]
        return value

    def fernet(self) -> Fernet:
        """The cipher for credentials; refuses a missing, placeholder or malformed key with a one-line
        message that says what to do."""
        key = self.encryption_key.strip()
        fix = "generate one with `reposter keygen` and put it in the environment or .env"
        if not key:
            raise RuntimeError(f"REPOSTER_ENCRYPTION_KEY is not set: {fix}")
        if key.lower() in PLACEHOLDER_KEYS:
            raise RuntimeError(f"REPOSTER_ENCRYPTION_KEY is set to a placeholder ({key!r}): {fix}")
        try:
            return Fernet(self.encryption_key.encode())
        except ValueError as exc:
            raise RuntimeError(f"REPOSTER_ENCRYPTION_KEY is not a valid key ({exc}): {fix}") from exc


@lru_cache
def get_settings() -> Settings:
    """The process's settings (cached; tests clear the cache)."""
    return Settings()
