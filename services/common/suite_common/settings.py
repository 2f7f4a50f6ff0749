"""Settings read from the environment, once, at start-up: the only module that reads it.

Unset values fall back to the embedded local defaults (SQLite under ``var/``,
the local SMTP sink, the local Stripe stand-in). In production mode a missing or
default secret stops the service from starting, naming the variable.

The sections (retention, rate limits, Stripe, SMTP) are read when a ``Settings`` is made, also
when a test makes one field by field, so the environment of that moment is what counts.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from .secretbox import valid_key

SERVICES = ("registration", "notifications", "certificates")
DEV_SECRET_PREFIX = "dev-insecure-"


class ConfigurationError(RuntimeError):
    """The environment does not describe a runnable service."""


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _days(name: str, default: int) -> dt.timedelta:
    return dt.timedelta(days=int(_env(name, str(default))))


def _keys(value: str) -> tuple[str, ...]:
    return tuple(k.strip() for k in value.split(",") if k.strip())


def _trusted_proxies(value: str) -> int:
    if not value.isdigit():
        raise ConfigurationError(f"TRUSTED_PROXIES must be a number of proxies (0 for none), not {value!r}")
    return int(value)


@dataclass(frozen=True)
class RetentionPeriods:
    """How long data is kept."""

    # Names, addresses, answers and billing details of a registration, after its event ended.
    personal_data: dt.timedelta = dt.timedelta(days=365)
    # Addresses and content of messages that were sent, failed or cancelled.
    messages: dt.timedelta = dt.timedelta(days=90)
    # Records that exist only to recognise a repeat: sign-up Idempotency-Keys, Stripe event ids,
    # delivered outbox rows (which carry the personal data they delivered).
    idempotency: dt.timedelta = dt.timedelta(days=30)
    # Payment documents (invoices, receipts, credit notes): the tax period.
    tax_years: int = 10
    # Certificate and attendance records: the accreditation period after the latest one.
    accreditation_years: int = 6
    # How often the worker runs the purge.
    purge_interval: dt.timedelta = dt.timedelta(hours=24)

    @classmethod
    def from_env(cls) -> RetentionPeriods:
        return cls(personal_data=_days("PERSONAL_DATA_RETENTION_DAYS", 365),
                   messages=_days("MESSAGE_RETENTION_DAYS", 90),
                   idempotency=_days("IDEMPOTENCY_RETENTION_DAYS", 30),
                   tax_years=int(_env("TAX_RETENTION_YEARS", "10")),
                   accreditation_years=int(_env("ACCREDITATION_RETENTION_YEARS", "6")),
                   purge_interval=dt.timedelta(hours=float(_env("PURGE_INTERVAL_HOURS", "24"))))


@dataclass(frozen=True)
class RateLimits:
    """The limits in force (flask-limiter's notation)."""

    enabled: bool = True
    signup: str = "120/minute;2000/hour"
    token_links: str = "120/minute"
    token_failures: str = "10/minute;50/hour"
    # Certificates' public verification: codes are printed and short, so every request counts.
    verification: str = "60/minute"
    # Requests for a console sign-in link (each sends a mail), per client address.
    sign_in: str = "10/minute;60/hour"
    storage_uri: str | None = None

    @classmethod
    def from_env(cls) -> RateLimits:
        return cls(
            enabled=_env("RATELIMIT_ENABLED", "true").lower() not in ("0", "false", "no"),
            signup=_env("SIGNUP_RATE_LIMIT", cls.signup),
            token_links=_env("TOKEN_RATE_LIMIT", cls.token_links),
            token_failures=_env("TOKEN_FAILURE_RATE_LIMIT", cls.token_failures),
            verification=_env("VERIFY_RATE_LIMIT", cls.verification),
            sign_in=_env("SIGN_IN_RATE_LIMIT", cls.sign_in),
            storage_uri=os.environ.get("RATELIMIT_STORAGE_URI") or None,
        )


# The local Stripe stand-in (devtools/stripe_standin.py): used whenever no Stripe key is set.
STRIPE_STANDIN_BASE = "http://127.0.0.1:12111"
STRIPE_STANDIN_KEY = "sk_test_standin"
STRIPE_STANDIN_WEBHOOK_SECRET = "whsec_dev_standin"


@dataclass(frozen=True)
class StripeKeys:
    """Registration's Stripe account; without a key, the local stand-in, never Stripe."""

    api_key: str = STRIPE_STANDIN_KEY
    webhook_secret: str = STRIPE_STANDIN_WEBHOOK_SECRET
    api_base: str | None = STRIPE_STANDIN_BASE

    @classmethod
    def from_env(cls) -> StripeKeys:
        key, secret = _env("STRIPE_API_KEY", ""), _env("STRIPE_WEBHOOK_SECRET", "")
        base = os.environ.get("STRIPE_API_BASE") or None
        if not key:
            return cls(STRIPE_STANDIN_KEY, secret or STRIPE_STANDIN_WEBHOOK_SECRET, base or STRIPE_STANDIN_BASE)
        return cls(key, secret, base)

    @property
    def checkout_origin(self) -> str:
        """Where the sign-up form's redirect leads to pay (the CSP must allow it)."""
        if self.api_base:
            parts = urlsplit(self.api_base)
            return f"{parts.scheme}://{parts.netloc}"
        return "https://checkout.stripe.com"


# Without INTEGRATIONS_KEY, outside production, secrets are encrypted with this key that anyone can
# derive: fine for a laptop's demo data, refused in production (``Settings.check``).
DEV_INTEGRATIONS_KEY = base64.urlsafe_b64encode(hashlib.sha256(f"{DEV_SECRET_PREFIX}integrations".encode())
                                                .digest()).decode()
ZOOM_API_BASE = "https://api.zoom.us/v2"
ZOOM_OAUTH_BASE = "https://zoom.us"


@dataclass(frozen=True)
class ZoomSettings:
    """Where Zoom is: the real one unless ``ZOOM_API_BASE``/``ZOOM_OAUTH_BASE`` point elsewhere
    (``make run`` and the tests point both at the local stand-in, devtools/zoom_standin.py)."""

    api_base: str = ZOOM_API_BASE
    oauth_base: str = ZOOM_OAUTH_BASE
    timeout: float = 15.0
    # How long after webinar.ended the participants report is fetched: Zoom fills it in after the end.
    report_delay_seconds: float = 600.0

    @classmethod
    def from_env(cls) -> ZoomSettings:
        return cls(api_base=_env("ZOOM_API_BASE", ZOOM_API_BASE).rstrip("/"),
                   oauth_base=_env("ZOOM_OAUTH_BASE", ZOOM_OAUTH_BASE).rstrip("/"),
                   timeout=float(_env("ZOOM_TIMEOUT_SECONDS", "15")),
                   report_delay_seconds=float(_env("ZOOM_REPORT_DELAY_SECONDS", "600")))


@dataclass(frozen=True)
class SmtpSettings:
    """Notifications' mail server and sender identity."""

    host: str = "127.0.0.1"
    port: int = 1025
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout: float = 30.0
    mail_from: str = "Imaging Events <no-reply@localhost>"
    max_attempts: int = 12
    # How long a claimed message stays with its sender; after that a sender that died is assumed gone.
    lease_seconds: float = 120.0
    # The domain of Message-IDs.
    mail_domain: str = "imaging-events.local"

    @classmethod
    def from_env(cls) -> SmtpSettings:
        return cls(
            host=_env("SMTP_HOST", cls.host),
            port=int(_env("SMTP_PORT", str(cls.port))),
            username=os.environ.get("SMTP_USERNAME") or None,
            password=os.environ.get("SMTP_PASSWORD") or None,
            starttls=_env("SMTP_STARTTLS", "").lower() in ("1", "true", "yes"),
            mail_from=_env("MAIL_FROM", cls.mail_from),
            lease_seconds=float(_env("SENDER_LEASE_SECONDS", str(cls.lease_seconds))),
            mail_domain=_env("MAIL_DOMAIN", cls.mail_domain),
        )


@dataclass(frozen=True)
class Settings:
    service: str
    environment: str
    var_dir: Path
    database_url: str
    secret_key: str
    public_base_url: str
    registration_url: str
    notifications_url: str
    certificates_url: str
    # Where attendees reach the certificates service (links in registration's pages and mails).
    certificates_public_url: str
    # Keys per calling service; the first key of a service is the one it signs with,
    # all of them are accepted, so keys rotate without downtime.
    service_keys: dict[str, tuple[str, ...]] = field(default_factory=dict)
    log_level: str = "INFO"
    # Reverse proxies in front of the service whose X-Forwarded-For/-Proto/-Host are believed.
    trusted_proxies: int = 0
    retention: RetentionPeriods = field(default_factory=RetentionPeriods.from_env)
    rate_limits: RateLimits = field(default_factory=RateLimits.from_env)
    stripe: StripeKeys = field(default_factory=StripeKeys.from_env)
    smtp: SmtpSettings = field(default_factory=SmtpSettings.from_env)
    # Keys that encrypt integration secrets at rest (suite_common.secretbox): the first encrypts.
    integrations_keys: tuple[str, ...] = field(
        default_factory=lambda: _keys(_env("INTEGRATIONS_KEY", DEV_INTEGRATIONS_KEY)))
    zoom: ZoomSettings = field(default_factory=ZoomSettings.from_env)

    @property
    def production(self) -> bool:
        return self.environment == "production"

    @property
    def own_signing_key(self) -> str:
        return self.service_keys[self.service][0]

    @classmethod
    def from_env(cls, service: str, defaults_port: int | None = None) -> Settings:
        if service not in SERVICES:
            raise ConfigurationError(f"unknown service {service!r}")
        var_dir = Path(_env("VAR_DIR", str(Path.cwd() / "var"))).resolve()
        environment = _env("SUITE_ENV", "development")
        database_url = os.environ.get(f"{service.upper()}_DATABASE_URL") or _env(
            "DATABASE_URL", f"sqlite:///{var_dir / (service + '.db')}"
        )
        urls = {
            name: _env(f"{name.upper()}_URL", f"http://127.0.0.1:{port}").rstrip("/")
            for name, port in (("registration", 8001), ("notifications", 8002), ("certificates", 8003))
        }
        service_keys = {
            name: _keys(_env(f"SERVICE_KEYS_{name.upper()}", f"{DEV_SECRET_PREFIX}{name}-key"))
            for name in SERVICES
        }
        settings = cls(
            service=service,
            environment=environment,
            var_dir=var_dir,
            database_url=database_url,
            secret_key=_env("SECRET_KEY", f"{DEV_SECRET_PREFIX}secret-key"),
            public_base_url=_env("PUBLIC_BASE_URL", urls[service]).rstrip("/"),
            registration_url=urls["registration"],
            notifications_url=urls["notifications"],
            certificates_url=urls["certificates"],
            certificates_public_url=_env("CERTIFICATES_PUBLIC_URL", urls["certificates"]).rstrip("/"),
            service_keys=service_keys,
            log_level=_env("LOG_LEVEL", "INFO"),
            trusted_proxies=_trusted_proxies(_env("TRUSTED_PROXIES", "0")),
        )
        settings.check()
        return settings

    def check(self) -> None:
        """Refuse to run in production on defaults a stranger could know, and anywhere on a key that
        cannot work (found at start-up, not at the first secret someone saves)."""
        if not all(valid_key(key) for key in self.integrations_keys):
            raise ConfigurationError("INTEGRATIONS_KEY must hold Fernet keys (32 bytes, URL-safe base64), "
                                     "comma-separated")
        if not self.production:
            return
        problems = []
        if self.secret_key.startswith(DEV_SECRET_PREFIX) or len(self.secret_key) < 32:
            problems.append("SECRET_KEY must be set to a random value of at least 32 characters")
        for name, keys in self.service_keys.items():
            if not keys or any(k.startswith(DEV_SECRET_PREFIX) or len(k) < 32 for k in keys):
                problems.append(f"SERVICE_KEYS_{name.upper()} must hold random keys of at least 32 characters")
        if self.service in ("registration", "certificates") and DEV_INTEGRATIONS_KEY in self.integrations_keys:
            problems.append("INTEGRATIONS_KEY must be set (python -c 'from suite_common.secretbox import new_key; "
                            "print(new_key())')")
        if self.database_url.startswith("sqlite"):
            problems.append("DATABASE_URL must point to PostgreSQL in production")
        if self.service == "registration" and (self.stripe.api_key == STRIPE_STANDIN_KEY
                                               or not self.stripe.webhook_secret):
            problems.append("STRIPE_API_KEY and STRIPE_WEBHOOK_SECRET must be set")
        if problems:
            raise ConfigurationError("refusing to start in production: " + "; ".join(problems))

    def ensure_var_dir(self) -> None:
        if self.database_url.startswith("sqlite"):
            self.var_dir.mkdir(parents=True, exist_ok=True)
