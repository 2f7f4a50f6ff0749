"""Where an attendee pays, for the views that answer with it (the JSON sign-up, an approval, the
attendee's pay link)."""
from __future__ import annotations

from suite_common.db import commit_before_calling_out, get_session

from ..models import Registration
from ..services import payments


def payment_url(registration: Registration) -> str | None:
    """Stripe's checkout page for a registration awaiting card payment (created once), ours when
    Stripe could not be reached, nothing otherwise. The sign-up or decision is committed before
    Stripe is called, so that no lock is held over the call: a seat it took is the attendee's even
    if Stripe never answers (the hold ends it as for any unpaid seat)."""
    if payments.opens_checkout(registration):
        commit_before_calling_out()
    return payments.payment_url(get_session(), registration)
