"""ORM models of every table. Money is integer kopecks; readings are exact decimals."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.kit.db import Base, UTCDateTime

Timestamp = UTCDateTime()


class ServiceBasis(enum.StrEnum):
    """How a service's monthly volume is determined."""

    AREA = "area"  # per m² of the apartment
    METER = "meter"  # from the resident's meter readings
    RESIDENTS = "residents"  # per registered resident
    DERIVED = "derived"  # wastewater: cold + hot water volumes


class Payee(enum.StrEnum):
    BILLING_CENTER = "billing_center"
    CAPITAL_REPAIR_FUND = "capital_repair_fund"


class ReadingSource(enum.StrEnum):
    RESIDENT = "resident"
    WITHOUT_LOGIN = "without_login"
    INSPECTOR = "inspector"
    IMPORT = "import"
    #: Taken by a remote reading system (АСКУЭ) and loaded by the billing center's import.
    REMOTE = "remote"


class ReadingStatus(enum.StrEnum):
    ACCEPTED = "accepted"
    REPLACED = "replaced"


class PaymentPurpose(enum.StrEnum):
    UTILITIES = "utilities"
    CAPITAL_REPAIR = "capital_repair"


class PaymentChannel(enum.StrEnum):
    BANK = "bank"
    POST = "post"
    CASH_DESK = "cash_desk"
    A3 = "a3"
    PAYMO = "paymo"


class TokenKind(enum.StrEnum):
    SESSION = "session"  # a logged-in resident
    READINGS = "readings"  # readings without login, after the previous readings matched
    RECOVERY = "recovery"  # a password recovery code sent by e-mail


class Account(Base):
    """One apartment's personal account (лицевой счёт)."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    address: Mapped[str] = mapped_column(String(300))
    owner_name: Mapped[str] = mapped_column(String(200))
    area_m2: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    residents: Mapped[int] = mapped_column(Integer)
    #: The apartment as the billing system names it (``address`` already ends with ``, кв. N``).
    apartment: Mapped[str | None] = mapped_column(String(20), nullable=True)

    meters: Mapped[list[Meter]] = relationship(back_populates="account", order_by="Meter.id")
    capital_repair: Mapped[CapitalRepairAccount | None] = relationship(back_populates="account")

    __table_args__ = (
        CheckConstraint("residents >= 0", name="residents_non_negative"),
        CheckConstraint("area_m2 > 0", name="area_positive"),
    )


class CapitalRepairAccount(Base):
    """The apartment's account at the capital repair fund: its own number, paid separately."""

    __tablename__ = "capital_repair_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), unique=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    fund_name: Mapped[str] = mapped_column(String(200))

    account: Mapped[Account] = relationship(back_populates="capital_repair")


class Service(Base):
    """A utility service (or the capital repair contribution) with its unit and payee."""

    __tablename__ = "services"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    unit: Mapped[str] = mapped_column(String(20))
    basis: Mapped[str] = mapped_column(String(20))
    payee: Mapped[str] = mapped_column(String(40))
    #: Normative monthly volume per resident (charged when no readings come for three months).
    norm_per_resident: Mapped[Decimal | None] = mapped_column(Numeric(12, 4), nullable=True)
    #: Consumption per month above which a reading must be confirmed and is flagged for review.
    implausible_monthly_limit: Mapped[Decimal | None] = mapped_column(Numeric(14, 3), nullable=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class Tariff(Base):
    """The price of one unit of a service from ``valid_from`` (inclusive) until the next tariff."""

    __tablename__ = "tariffs"

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    price_kopecks: Mapped[int] = mapped_column(Integer)

    __table_args__ = (UniqueConstraint("service_id", "valid_from"),)


class Meter(Base):
    """A meter of one account (прибор учёта)."""

    __tablename__ = "meters"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    serial_number: Mapped[str] = mapped_column(String(40))
    integer_digits: Mapped[int] = mapped_column(Integer)
    decimals: Mapped[int] = mapped_column(Integer)
    installed_on: Mapped[dt.date] = mapped_column(Date)
    next_verification_on: Mapped[dt.date] = mapped_column(Date)
    #: The day the meter was taken off (no readings are accepted after it); None while in service.
    removed_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    #: Bumped by every reading submission: the first statement of a submission, so that concurrent
    #: submissions for the same meter run one after another (a row lock on PostgreSQL).
    lock_version: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))

    account: Mapped[Account] = relationship(back_populates="meters")
    service: Mapped[Service] = relationship()

    __table_args__ = (
        CheckConstraint("integer_digits BETWEEN 1 AND 9", name="integer_digits_range"),
        CheckConstraint("decimals BETWEEN 0 AND 3", name="decimals_range"),
        # The billing center's import finds a meter by its account and serial number.
        UniqueConstraint("account_id", "serial_number", name="uq_meters_account_serial"),
    )


class Reading(Base):
    """A meter reading for a billing period (the first day of the month)."""

    __tablename__ = "readings"

    id: Mapped[int] = mapped_column(primary_key=True)
    meter_id: Mapped[int] = mapped_column(ForeignKey("meters.id", ondelete="CASCADE"))
    period: Mapped[dt.date] = mapped_column(Date)
    value: Mapped[Decimal] = mapped_column(Numeric(13, 3))
    submitted_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    source: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    replaced_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("readings.id", ondelete="SET NULL"), nullable=True
    )
    #: The meter wrapped past 99…9 (accepted on the resident's confirmation).
    rollover: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Implausible consumption confirmed by the resident: a person at the billing center checks it.
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (
        # Covering (see docs in migration 0005): a meter's history is an index-only scan on PostgreSQL,
        # a few contiguous index pages instead of one heap page per month's reading.
        Index(
            "ix_readings_meter_history",
            "meter_id",
            "period",
            "submitted_at",
            "id",
            postgresql_include=["value", "rollover", "source", "status"],
        ),
        #: The export of a period's readings reads one period of every meter.
        Index("ix_readings_period", "period"),
        # Exactly one accepted reading per meter and period: the last guard against races.
        Index(
            "uq_readings_accepted_meter_period",
            "meter_id",
            "period",
            unique=True,
            sqlite_where=text("status = 'accepted'"),
            postgresql_where=text("status = 'accepted'"),
        ),
    )


class Charge(Base):
    """A monthly charge of one service to one account (начисление)."""

    __tablename__ = "charges"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    period: Mapped[dt.date] = mapped_column(Date)
    volume: Mapped[Decimal] = mapped_column(Numeric(14, 4))
    tariff_kopecks: Mapped[int] = mapped_column(Integer)
    charged_kopecks: Mapped[int] = mapped_column(BigInteger)
    recalculation_kopecks: Mapped[int] = mapped_column(BigInteger, default=0)
    #: Penalties (пени) charged with the month, as the billing system computed them.
    penalties_kopecks: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))

    service: Mapped[Service] = relationship()

    __table_args__ = (
        UniqueConstraint("account_id", "service_id", "period"),
        # Covering: an account's 36 months of charges are contiguous index pages (an index-only scan
        # on PostgreSQL) although each monthly load puts the rows themselves on other heap pages.
        # Penalties count in every balance, so they are carried too (migration 0009).
        Index(
            "ix_charges_account_statement",
            "account_id",
            "period",
            "service_id",
            postgresql_include=[
                "volume",
                "tariff_kopecks",
                "charged_kopecks",
                "recalculation_kopecks",
                "penalties_kopecks",
            ],
        ),
    )


class Payment(Base):
    """Money received for an account: utilities or the capital repair contribution."""

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    paid_on: Mapped[dt.date] = mapped_column(Date)
    amount_kopecks: Mapped[int] = mapped_column(BigInteger)
    channel: Mapped[str] = mapped_column(String(20))
    purpose: Mapped[str] = mapped_column(String(20))
    #: The payment service's or bank's own reference; unique per channel.
    external_id: Mapped[str | None] = mapped_column(String(80), nullable=True)
    #: When the money moved: the moment the payment service completed a card payment (or the portal
    #: credited it, when the service gave no time), the moment a storno was recorded. None for payments
    #: recorded before this column existed and for payments collected elsewhere without a time.
    paid_at: Mapped[dt.datetime | None] = mapped_column(Timestamp, nullable=True)

    __table_args__ = (
        # Negative: a storno (a card payment the payment service refunded), see portal/payments.
        CheckConstraint("amount_kopecks <> 0", name="amount_nonzero"),
        UniqueConstraint("channel", "external_id"),
        # Covering, for the same reason as the charges' index.
        Index(
            "ix_payments_account_history",
            "account_id",
            "paid_on",
            "id",
            postgresql_include=["amount_kopecks", "channel", "purpose"],
        ),
    )


class User(Base):
    """A registered resident: the login is the account number, the e-mail recovers the password."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), unique=True)
    email: Mapped[str] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    password_changed_at: Mapped[dt.datetime] = mapped_column(Timestamp)

    account: Mapped[Account] = relationship()


class UserAccount(Base):
    """An account a login works on: its own (the one it registered) and those attached to it since.

    ``account_id`` is unique: an account belongs to at most one login, whether as its own or attached,
    so concurrent registrations and attachments of one account cannot both succeed.
    """

    __tablename__ = "user_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), unique=True)
    attached_at: Mapped[dt.datetime] = mapped_column(Timestamp)


class AccessToken(Base):
    """An opaque token (session, readings-without-login, recovery code); only its HMAC is stored."""

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hmac: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=True, index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    last_used_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    #: Indexed: expired tokens are deleted a bounded batch at a time, oldest first (portal/auth).
    expires_at: Mapped[dt.datetime] = mapped_column(Timestamp, index=True)


class FailureCounter(Base):
    """Failed knowledge checks per (scope, subject): persistent throttling shared by all workers."""

    __tablename__ = "failure_counters"

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(30))
    #: ``account:<number>`` or ``client:<address>``.
    subject: Mapped[str] = mapped_column(String(120))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    blocked_until: Mapped[dt.datetime | None] = mapped_column(Timestamp, nullable=True)

    __table_args__ = (UniqueConstraint("scope", "subject"),)


class IdempotencyRecord(Base):
    """The stored first result of a request made with an ``Idempotency-Key``."""

    __tablename__ = "idempotency_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    #: What the key was used for (``readings``, ``payment`` …) and a hash of the request body.
    endpoint: Mapped[str] = mapped_column(String(60))
    request_hash: Mapped[str] = mapped_column(String(64))
    response_status: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)

    __table_args__ = (UniqueConstraint("account_id", "key"),)


class Captcha(Base):
    """A captcha image issued to a logged-in resident: single use, one purpose, a few attempts.

    Only an HMAC of the answer (bound to the purpose, the account and the captcha) is stored.
    """

    __tablename__ = "captchas"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The opaque id the client sends back with its answer.
    public_id: Mapped[str] = mapped_column(String(43), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    #: ``email_change`` or ``password_change`` (see :class:`portal.captcha.schemas.CaptchaPurpose`).
    purpose: Mapped[str] = mapped_column(String(30))
    answer_hmac: Mapped[str] = mapped_column(String(64))
    attempts_left: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    expires_at: Mapped[dt.datetime] = mapped_column(Timestamp)


class PaymentOrder(Base):
    """A card payment started through a payment service (A3, PayMO); credited once it is confirmed.

    ``id`` is opaque and unguessable (it is also the order id the payment service knows and, for
    orders made without login, the capability to read the order's status).
    """

    __tablename__ = "payment_orders"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    #: ``utilities`` or ``capital_repair`` (:class:`PaymentPurpose`).
    purpose: Mapped[str] = mapped_column(String(20))
    #: ``a3`` or ``paymo`` (also the channel of the credited payment).
    provider: Mapped[str] = mapped_column(String(20))
    provider_payment_id: Mapped[str | None] = mapped_column(String(80), nullable=True)
    payment_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    sandbox: Mapped[bool] = mapped_column(Boolean, default=False)
    amount_kopecks: Mapped[int] = mapped_column(BigInteger)
    #: One vocabulary for every provider (portal.payments.schemas.PaymentStatus).
    status: Mapped[str] = mapped_column(String(20))
    #: ``resident`` (logged in) or ``public`` (capital repair without login): the idempotency scope.
    origin: Mapped[str] = mapped_column(String(20))
    idempotency_key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    updated_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    #: The row of ``payments`` this order was credited as (set exactly once).
    credited_payment_id: Mapped[int | None] = mapped_column(
        ForeignKey("payments.id", ondelete="SET NULL"), nullable=True, unique=True
    )
    #: The negative row of ``payments`` recorded when a credited payment was refunded.
    refund_payment_id: Mapped[int | None] = mapped_column(
        ForeignKey("payments.id", ondelete="SET NULL"), nullable=True, unique=True
    )

    __table_args__ = (
        CheckConstraint("amount_kopecks > 0", name="amount_positive"),
        UniqueConstraint("account_id", "origin", "idempotency_key"),
        UniqueConstraint("provider", "provider_payment_id"),
    )


class PaymentNotification(Base):
    """A payment service's notification event, stored once: a repeat of the same event is ignored."""

    __tablename__ = "payment_notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))
    event_id: Mapped[str] = mapped_column(String(80))
    order_id: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))
    received_at: Mapped[dt.datetime] = mapped_column(Timestamp)

    __table_args__ = (UniqueConstraint("provider", "event_id"),)


class SandboxPayment(Base):
    """A payment as the in-process sandbox twin of a payment service sees it (demo / embedded portal)."""

    __tablename__ = "sandbox_payments"

    #: The provider's payment (A3) or invoice (PayMO) id.
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))
    merchant: Mapped[str] = mapped_column(String(80))
    order_id: Mapped[str] = mapped_column(String(40))
    amount_kopecks: Mapped[int] = mapped_column(BigInteger)
    description: Mapped[str] = mapped_column(String(300))
    #: In the provider's own vocabulary (A3: initiated …; PayMO: created, processing, deposited …).
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    updated_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    completed_at: Mapped[dt.datetime | None] = mapped_column(Timestamp, nullable=True)

    __table_args__ = (UniqueConstraint("provider", "order_id"),)


class OperatorKey(Base):
    """A key of the billing center's operator API; only its HMAC is stored (the secret is shown once).

    Kept apart from residents' tokens (``sessions``): a resident's token is never an operator key,
    nor the reverse.
    """

    __tablename__ = "operator_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    key_hmac: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(Timestamp, nullable=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(Timestamp, nullable=True)


class PayeeRecord(Base):
    """A payee with its bank requisites, loaded by the billing center's import (see docs/exchange.md).

    ``code`` is what ``services.payee`` names (``billing_center``, ``capital_repair_fund`` …).
    """

    __tablename__ = "payees"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(160))
    short_name: Mapped[str] = mapped_column(String(120))
    inn: Mapped[str] = mapped_column(String(12))
    kpp: Mapped[str] = mapped_column(String(9))
    account: Mapped[str] = mapped_column(String(20))
    bank_name: Mapped[str] = mapped_column(String(45))
    bic: Mapped[str] = mapped_column(String(9))
    correspondent_account: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(300), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")


class OpeningBalance(Base):
    """What an account owed one payee at the start of a month, per the billing system (+ owes, − prepaid)."""

    __tablename__ = "opening_balances"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    payee: Mapped[str] = mapped_column(String(40))
    period: Mapped[dt.date] = mapped_column(Date)
    balance_kopecks: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (UniqueConstraint("account_id", "payee", "period"),)


class ImportRun(Base):
    """One run of the billing center's import: who, what (checksum of the files), counts, outcome."""

    __tablename__ = "import_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    finished_at: Mapped[dt.datetime | None] = mapped_column(Timestamp, nullable=True)
    #: The OS user or operator who ran it.
    operator: Mapped[str] = mapped_column(String(120))
    #: sha256 over the files' bytes in the order given (hex).
    checksum: Mapped[str] = mapped_column(String(64))
    files: Mapped[str] = mapped_column(Text)
    #: ``imported`` or ``refused`` (a refused import wrote nothing but this row).
    status: Mapped[str] = mapped_column(String(20))
    lines_read: Mapped[int] = mapped_column(Integer, default=0)
    lines_skipped: Mapped[int] = mapped_column(Integer, default=0)
    #: JSON: per kind, lines read, rows inserted, updated, deleted.
    counts: Mapped[str] = mapped_column(Text, default="{}")


class MailSubscription(Base):
    """What an account's resident chose to get by e-mail: the monthly receipt, reading reminders."""

    __tablename__ = "mail_subscriptions"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    receipt: Mapped[bool] = mapped_column(Boolean, default=False)
    reminders: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[dt.datetime] = mapped_column(Timestamp)


class MailDelivery(Base):
    """One letter of ``kabinet-portal notify``: at most one per (account, month, kind).

    ``state`` moves claimed → sending → sent (or failed / rejected / uncertain); see portal/notify.
    """

    __tablename__ = "mail_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    #: The month the letter is about (the receipt's period; the reading window's closing month).
    period: Mapped[dt.date] = mapped_column(Date)
    #: ``receipt``, ``reminder_open`` or ``reminder_closing`` (portal.notify.service.Kind).
    kind: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20))
    #: Which sender process holds the claim (host:pid:random) and since when.
    claimed_by: Mapped[str] = mapped_column(String(100))
    claimed_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: The letter's Message-ID: the same on every attempt (a resend can be recognised as one).
    message_id: Mapped[str] = mapped_column(String(200))
    sent_at: Mapped[dt.datetime | None] = mapped_column(Timestamp, nullable=True)
    #: The SMTP server's reply or the error's name (never the letter's content).
    detail: Mapped[str | None] = mapped_column(String(300), nullable=True)

    __table_args__ = (
        UniqueConstraint("account_id", "period", "kind"),
        Index("ix_mail_deliveries_period_kind_state", "period", "kind", "state"),
    )
