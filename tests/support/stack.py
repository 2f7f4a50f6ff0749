"""The suite as real processes for end-to-end tests: the same ``devtools.stack.Stack`` as ``make run``,
on free loopback ports and a temporary ``VAR_DIR``."""
from __future__ import annotations

import atexit
import functools
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from devtools.stack import SERVICES, Stack


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stack_env(var_dir: Path, database_urls: dict[str, str] | None = None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_DATABASE_URL") and k != "DATABASE_URL"}
    env["VAR_DIR"] = str(var_dir)
    env.setdefault("SMTP_PORT", str(free_port()))  # nothing listens there unless a test starts a sink
    for name in SERVICES:
        env[f"{name.upper()}_URL"] = f"http://127.0.0.1:{free_port()}"
    for name, url in (database_urls or {}).items():
        env[f"{name.upper()}_DATABASE_URL"] = url
    env.update(extra)
    return env


@functools.cache
def _migrated_sqlite() -> Path:
    """Every service's SQLite database at head, migrated once per test process (each xdist worker
    has its own): a stack then copies the files instead of starting three ``db upgrade``
    interpreters, about a third of its start-up. The migrations themselves are tested from empty
    in tests/test_migrations.py, and the stacks on PostgreSQL still run them."""
    directory = Path(tempfile.mkdtemp(prefix="suite-migrated-"))
    atexit.register(shutil.rmtree, directory, True)
    Stack(stack_env(directory)).migrate()
    return directory


def _copy_migrated_sqlite(env: dict[str, str], services: tuple[str, ...]) -> tuple[str, ...]:
    """Copies the migrated database of each service on its default SQLite file that has none yet;
    returns those services, which need no migration."""
    if "DATABASE_URL" in env:
        return ()
    var_dir = Path(env["VAR_DIR"])
    copied = []
    for name in services:
        target = var_dir / f"{name}.db"
        if f"{name.upper()}_DATABASE_URL" in env or target.exists():
            continue
        var_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_migrated_sqlite() / f"{name}.db", target)
        copied.append(name)
    return tuple(copied)


@contextmanager
def running_stack(var_dir: Path, database_urls: dict[str, str] | None = None, workers: int = 2,
                  services: tuple[str, ...] = SERVICES, background: bool = True, replicas: int = 1,
                  **extra: str) -> Iterator[Stack]:
    """Web services under gunicorn plus their workers; mail goes to SMTP_PORT (pass an SmtpSink's port).

    With ``replicas``, each service and each worker runs that many times, every replica of a
    service on its own port against the service's one database (``stack.urls[service]``)."""
    env = stack_env(var_dir, database_urls, **extra)
    urls = {name: [env[f"{name.upper()}_URL"]] + [f"http://127.0.0.1:{free_port()}" for _ in range(replicas - 1)]
            for name in SERVICES}
    stack = Stack(env, workers=workers, replicas=replicas, urls=urls)
    try:
        stack.start(services, workers=background, migrated=_copy_migrated_sqlite(env, services))
        yield stack
    finally:
        stack.stop()


def url(stack: Stack, service: str) -> str:
    return stack.env[f"{service.upper()}_URL"]
