"""Building service apps for in-process tests, with settings made here rather than read from the environment."""
from __future__ import annotations

from pathlib import Path

from suite_common.settings import DEV_SECRET_PREFIX, SERVICES, Settings


def make_settings(service: str, database_url: str, var_dir: Path, **overrides: str) -> Settings:
    values = dict(
        service=service,
        environment="test",
        var_dir=var_dir,
        database_url=database_url,
        secret_key=DEV_SECRET_PREFIX + "test-secret",
        public_base_url=f"http://{service}.test",
        registration_url="http://registration.test",
        notifications_url="http://notifications.test",
        certificates_url="http://certificates.test",
        certificates_public_url="http://certificates.test",
        service_keys={name: (f"{DEV_SECRET_PREFIX}{name}-key",) for name in SERVICES},
    )
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]
