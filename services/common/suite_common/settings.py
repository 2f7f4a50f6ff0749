"""Settings read from the environment, once, at start-up.

Unset values fall back to the embedded local defaults (SQLite under ``var/``,
the local SMTP sink, the local Stripe stand-in). In production mode a missing or
default secret stops the service from starting, naming the variable.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

SERVICES = ("registration", "notifications", "certificates")
DEV_SECRET_PREFIX = "dev-insecure-"


class ConfigurationError(RuntimeError):
    """The environment does not describe a runnable service."""


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _keys(value: str) -> tuple[str, ...]:
    return tuple(k.strip() for k in value.split(",") if k.strip())


def _trusted_proxies(value: str) -> int:
    if not value.isdigit():
        raise ConfigurationError(f"TRUSTED_PROXIES must be a number of proxies (0 for none), not {value!r}")
    return int(value)


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
        """Refuse to run in production on defaults a stranger could know."""
        if not self.production:
            return
        problems = []
        if self.secret_key.startswith(DEV_SECRET_PREFIX) or len(self.secret_key) < 32:
            problems.append("SECRET_KEY must be set to a random value of at least 32 characters")
        for name, keys in self.service_keys.items():
            if not keys or any(k.startswith(DEV_SECRET_PREFIX) or len(k) < 32 for k in keys):
                problems.append(f"SERVICE_KEYS_{name.upper()} must hold random keys of at least 32 characters")
        if self.database_url.startswith("sqlite"):
            problems.append("DATABASE_URL must point to PostgreSQL in production")
        if problems:
            raise ConfigurationError("refusing to start in production: " + "; ".join(problems))

    def ensure_var_dir(self) -> None:
        if self.database_url.startswith("sqlite"):
            self.var_dir.mkdir(parents=True, exist_ok=True)
