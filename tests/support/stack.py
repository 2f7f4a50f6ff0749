"""The suite as real processes for end-to-end tests: the same ``devtools.stack.Stack`` as ``make run``,
on free loopback ports and a temporary ``VAR_DIR``."""
from __future__ import annotations

import os
import socket
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
        stack.start(services, workers=background)
        yield stack
    finally:
        stack.stop()


def url(stack: Stack, service: str) -> str:
    return stack.env[f"{service.upper()}_URL"]
