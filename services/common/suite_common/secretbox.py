"""Secrets that a service must keep and use again (an integration's client secret, its cached
access token) encrypted at rest, with keys from the environment (``INTEGRATIONS_KEY``).

Fernet (AES-128-CBC with HMAC-SHA256, from ``cryptography``): a stolen database dump or backup
without the environment reads nothing, and a changed ciphertext is refused instead of decrypted
into garbage. Several comma-separated keys rotate without downtime: the first encrypts, all of
them decrypt (``MultiFernet``), as ``SERVICE_KEYS_*`` rotate.
"""
from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class SecretUnreadable(Exception):
    """A stored secret was encrypted with a key that is no longer configured, or was altered."""


def new_key() -> str:
    """A fresh random key in the form ``INTEGRATIONS_KEY`` takes."""
    return Fernet.generate_key().decode()


class SecretBox:
    """Encrypts and decrypts short secrets with the configured keys."""

    def __init__(self, keys: tuple[str, ...]) -> None:
        if not keys:
            raise ValueError("a SecretBox needs at least one key")
        self._fernet = MultiFernet([Fernet(key.encode()) for key in keys])

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except InvalidToken as exc:
            raise SecretUnreadable("a stored secret cannot be decrypted with the configured INTEGRATIONS_KEY") from exc


def valid_key(key: str) -> bool:
    """Whether ``key`` is a Fernet key (32 bytes, URL-safe base64), so a typo stops the start, not a request."""
    try:
        Fernet(key.encode())
    except ValueError:
        return False
    return True
