"""Portal settings, read from ``KABINET_*`` environment variables (pydantic-settings)."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Secrets that ship in the source. Outside demo mode the portal refuses to start with them.
DEFAULT_SECRET_KEY = "kabinet-demo-secret-key-do-not-use-in-production"  # noqa: S105 - refused outside demo
#: The payment services' secrets of the sandbox twins (refused for real payment services).
DEFAULT_PAYMENT_SECRET = "kabinet-sandbox-payment-secret"  # noqa: S105 - sandbox only


#: The portal's address in the demo (``kabinet-portal serve``'s default); real letters need the real one.
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"

#: The least entropy a secret key may have, as :func:`estimated_entropy_bits` estimates it.
MIN_SECRET_BITS = 128


def estimated_entropy_bits(secret: str) -> float:
    """Length × the Shannon entropy of the secret's own character frequencies (an upper bound).

    32 spaces or 32 × ``a``: 0 bits. ``secrets.token_urlsafe(48)`` (64 characters): about 340 bits;
    ``secrets.token_hex(32)``: about 240. A secret that fails this is certainly weak; passing it is
    necessary, not sufficient.
    """
    if not secret:
        return 0.0
    counts = Counter(secret)
    total = len(secret)
    per_character = -sum(n / total * math.log2(n / total) for n in counts.values())
    return max(0.0, per_character * total)


def default_data_dir() -> Path:
    """The per-user data directory of the embedded/demo portal."""
    from platformdirs import user_data_path

    return user_data_path("kabinet", appauthor=False)


class Settings(BaseSettings):
    """Every setting of the portal; each can be given as ``KABINET_<NAME>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="KABINET_", extra="ignore")

    #: SQLAlchemy async URL: ``sqlite+aiosqlite:///path`` or ``postgresql+asyncpg://user@host/db``.
    database_url: str = ""
    #: Demo mode: default secrets allowed, reading window always open, mail to the local outbox.
    demo: bool = False
    #: Key for the HMAC of stored tokens. Must be changed outside demo mode.
    secret_key: str = DEFAULT_SECRET_KEY
    #: Where the demo database and outbox live when no URL/path is given.
    data_dir: Path = Field(default_factory=default_data_dir)

    # Reading window: days of the month (inclusive) when readings are accepted.
    reading_window_start_day: int = Field(default=15, ge=1, le=31)
    reading_window_end_day: int = Field(default=25, ge=1, le=31)
    #: Accept readings every day (the demo keeps the window open so the flow can always be tried).
    reading_window_always_open: bool = False

    # Sessions.
    session_idle_minutes: int = Field(default=30, ge=1)
    session_absolute_hours: int = Field(default=12, ge=1)
    #: Lifetime of the token that readings without login give after the previous readings match.
    readings_token_minutes: int = Field(default=15, ge=1)
    recovery_code_minutes: int = Field(default=15, ge=1)
    #: Wrong codes for an account after which its recovery code is void (a new one must be asked for).
    recovery_code_attempts: int = Field(default=5, ge=1)
    #: Lifetime of a captcha image of a profile change (e-mail, password).
    captcha_minutes: int = Field(default=5, ge=1, le=60)

    # Throttling of knowledge checks (portal/throttling/service.py).
    #: Free attempts on one account from one client address.
    throttle_free_failures: int = Field(default=5, ge=1)
    #: Free attempts from one client address across all accounts.
    throttle_client_free_failures: int = Field(default=20, ge=1)
    #: Attempts on one account from all addresses in a day before each address gets only one more.
    throttle_account_ceiling: int = Field(default=50, ge=1)
    throttle_base_cooldown_seconds: int = Field(default=30, ge=1)
    throttle_max_cooldown_seconds: int = Field(default=900, ge=1)
    #: Take the client address from X-Forwarded-For (only behind a trusted reverse proxy).
    trust_forwarded_for: bool = False

    # Database connections (PostgreSQL; SQLite always has exactly one). Every worker process holds a pool
    # of ``db_pool_size`` connections, opens up to ``db_max_overflow`` more under load, and (with the cache
    # on) one more for LISTEN. Size them so that
    #     workers × (db_pool_size + db_max_overflow + 1) ≤ max_connections − superuser_reserved_connections
    #                                                      − what other clients (migrations, psql) need;
    # with PostgreSQL's defaults (100, 3) and 5 + 5 that is at most 8 workers. ``serve`` checks it.
    db_pool_size: int = Field(default=5, ge=1)
    db_max_overflow: int = Field(default=5, ge=0)
    #: How long a request waits for a free connection before it is answered 503 with Retry-After.
    db_pool_timeout_seconds: float = Field(default=10.0, gt=0)

    #: Requests one operator key may make to the operator API per minute (exports are whole files).
    operator_requests_per_minute: int = Field(default=30, ge=1)

    #: The largest request body taken (bytes); larger ones are refused with 413 before they are read.
    #: The API's largest honest body (a readings submission, a PayMO notification) is a few KiB.
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    #: … of the operator's batch import (500 records of text values, a few hundred bytes each).
    import_max_body_bytes: int = Field(default=1024 * 1024, ge=1024)

    #: Serve sessions and residents' views from memory, kept coherent by invalidations (see
    #: portal/kit/cache.py; on PostgreSQL through LISTEN/NOTIFY).
    cache_enabled: bool = True
    #: The most memory one process's cache may hold (bytes of cached answers and sessions, counted as
    #: in portal/cache.py); the least recently used entries go first. Per worker.
    cache_max_bytes: int = Field(default=32 * 1024 * 1024, ge=1024 * 1024)

    # Mail.
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    mail_from: str = "Личный кабинет <noreply@kabinet.local>"
    #: Maildir folder used when no SMTP host is set.
    outbox_dir: Path | None = None
    #: The portal's address as residents reach it (letters' unsubscribe links point here).
    public_url: str = DEFAULT_PUBLIC_URL

    # E-mailed receipts and reading reminders (``kabinet-portal notify``, portal/notify).
    #: Letters claimed at a time (one commit), then sent.
    notify_batch: int = Field(default=100, ge=1, le=10000)
    #: SMTP connections a run sends through at once (each letter through one of them).
    notify_connections: int = Field(default=4, ge=1, le=32)
    #: At most this many letters per second (0: as fast as the server takes them).
    notify_rate: float = Field(default=10.0, ge=0)
    #: A claim older than this whose letter was never started belongs to a crashed sender: it is sent
    #: again by the next run. Must be longer than two batches take (``notify_batch`` / ``notify_rate``):
    #: a run claims the next batch while the last one is being sent.
    notify_claim_timeout_seconds: int = Field(default=900, ge=1)
    #: Attempts of a letter the server refused for now (4xx) or could not be reached for.
    notify_max_attempts: int = Field(default=5, ge=1)

    # Card payments (portal/payments). With the sandbox on, both payment services are in-process twins.
    #: Run the payment services' sandbox twins in-process (default: on in demo mode, off otherwise).
    payments_sandbox: bool | None = None
    a3_url: str = ""
    a3_merchant: str = "kabinet-demo"
    a3_secret: str = DEFAULT_PAYMENT_SECRET
    paymo_url: str = ""
    paymo_key: str = "kabinet-demo"
    paymo_secret: str = DEFAULT_PAYMENT_SECRET
    #: The secret PayMO signs its notifications with (HMAC-SHA256 over the raw body).
    paymo_notify_secret: str = DEFAULT_PAYMENT_SECRET
    #: A notification whose timestamp is further than this from the portal's clock is not taken at its
    #: word (a replay or a late delivery): the portal asks PayMO for the order's status instead.
    paymo_notify_tolerance_seconds: int = Field(default=600, ge=10)
    payment_provider_timeout_seconds: float = Field(default=15.0, gt=0)
    #: At most one status query to a payment service per order within this many seconds (GET of an order).
    payment_poll_interval_seconds: float = Field(default=5.0, ge=0)
    #: … but while the order is new (the resident is paying now), one per this many seconds, so the
    #: screen says «Платёж прошёл» about a second after the payment.
    payment_poll_quick_interval_seconds: float = Field(default=1.0, ge=0)
    payment_poll_quick_period_seconds: float = Field(default=120.0, ge=0)
    #: The capital repair contribution without login, per client address and window (generous: a kiosk
    #: in a housing office shares one address): lookups of a number and created payments.
    public_payment_window_seconds: int = Field(default=600, ge=1)
    public_lookups_per_window: int = Field(default=30, ge=1)
    public_payments_per_window: int = Field(default=10, ge=1)

    # argon2id cost (OWASP minimum by default).
    argon2_time_cost: int = Field(default=2, ge=1)
    argon2_memory_cost: int = Field(default=19456, ge=8)

    @field_validator("database_url")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()

    @model_validator(mode="after")
    def _defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir / 'portal.sqlite3'}"
        if self.outbox_dir is None:
            self.outbox_dir = self.data_dir / "outbox"
        if self.payments_sandbox is None:
            self.payments_sandbox = self.demo
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def paymo_enabled(self) -> bool:
        """PayMO is reachable: the sandbox twin runs in-process or a real PayMO is configured."""
        return bool(self.payments_sandbox) or bool(self.paymo_url)

    @property
    def paymo_notifications_open(self) -> bool:
        """Whether ``/payments/paymo/notify`` takes notifications at all.

        Not when PayMO is off and the notification secret is still the one shipped in the source: then
        anyone could sign a notification, and nobody legitimate sends one.
        """
        return self.paymo_enabled or self.paymo_notify_secret != DEFAULT_PAYMENT_SECRET

    def check_production_safety(self) -> None:
        """Refuse to run outside demo mode with the secret that ships in the source."""
        if not self.demo and (
            self.secret_key == DEFAULT_SECRET_KEY
            or len(self.secret_key) < 32
            or estimated_entropy_bits(self.secret_key) < MIN_SECRET_BITS
        ):
            raise SystemExit(
                "KABINET_SECRET_KEY is the default, shorter than 32 characters or not random enough (under "
                f"{MIN_SECRET_BITS} bits by its characters: repeated or few distinct ones); set a random "
                "secret (python -c 'import secrets; print(secrets.token_urlsafe(48))') or run with --demo."
            )
        if not self.demo and self.paymo_enabled and self.paymo_notify_secret == DEFAULT_PAYMENT_SECRET:
            raise SystemExit(
                "KABINET_PAYMO_NOTIFY_SECRET is the default that ships in the source: anyone could sign "
                "PayMO notifications. Set PayMO's real notification secret or run with --demo."
            )
        if not self.payments_sandbox:
            for name, url, secrets in (
                ("A3", self.a3_url, (self.a3_secret,)),
                ("PayMO", self.paymo_url, (self.paymo_secret, self.paymo_notify_secret)),
            ):
                if url and DEFAULT_PAYMENT_SECRET in secrets:
                    raise SystemExit(f"{name} is configured with the sandbox's secret; set its real secrets.")


def demo_settings(data_dir: Path | None = None, **overrides: object) -> Settings:
    """Settings of the embedded demo portal: SQLite and outbox in the data directory, window open."""
    values: dict[str, object] = {"demo": True, "reading_window_always_open": True}
    if data_dir is not None:
        values["data_dir"] = data_dir
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]
