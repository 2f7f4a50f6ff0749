"""What every incoming webhook is checked for, whoever signs it (Stripe today, Zoom later).

Providers sign a timestamp with the body, and their libraries refuse a signature that is too
old, so a captured request cannot be replayed later. None of them refuses one from the future:
a request signed ahead of time (a leaked secret, a sender's clock far ahead) would pass that
check until its timestamp plus the tolerance, however far ahead it is. A webhook signed more
than five minutes ahead of our clock is therefore refused as well.
"""
from __future__ import annotations

import time

MAX_FUTURE_SECONDS = 300


class SignedInTheFuture(Exception):
    """The webhook's signed timestamp lies more than ``MAX_FUTURE_SECONDS`` ahead of our clock."""


def refuse_future(signed_at: int, now: float | None = None) -> None:
    """Raises SignedInTheFuture for a timestamp (seconds since the epoch) too far ahead."""
    ahead = signed_at - (time.time() if now is None else now)
    if ahead > MAX_FUTURE_SECONDS:
        raise SignedInTheFuture(f"The webhook is signed {int(ahead)} s in the future; at most "
                                f"{MAX_FUTURE_SECONDS} s of clock difference is accepted.")
