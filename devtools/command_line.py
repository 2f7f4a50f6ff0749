"""What the local stand-ins' command lines share: settings from the environment and listen addresses."""
from __future__ import annotations

import argparse
import os


def env(name: str, default: str) -> str:
    """The variable's value, or ``default`` when it is unset or empty (.env files leave unused settings empty)."""
    return os.environ.get(name) or default


def host_port(value: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:25`` too) as argparse's type for a listen address; an empty host is loopback."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {value!r}")
    return host.strip("[]") or "127.0.0.1", int(port)
