"""Payment by invoice, for hospitals and institutions that pay by bank transfer.

The registration keeps its seat while the invoice is open (no hold runs out), any card
checkout opened for it is expired so it cannot be paid twice, and the organiser marks
the invoice paid when the transfer arrives.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from suite_common.db import utcnow
from suite_common.errors import ApiError

from ..models import Document, Event, Organisation, Registration, RegistrationStatus
from . import capacity, lifecycle, notify, payments, receipts


def issue_invoice(session: Session, registration: Registration, billing: dict[str, Any],
                  now: dt.datetime | None = None) -> Document:
    """Idempotent: asking again returns the invoice already issued.

    On return ``registration`` is current: a request that finds the invoice another request
    committed meanwhile must not answer with the registration as it read it before.
    """
    now = now or utcnow()
    existing = receipts.for_registration(session, registration, "invoice")
    if existing is not None:
        session.refresh(registration)
        return existing
    event = registration.event
    if not event.allows_invoice:
        raise ApiError(409, "invoice_not_offered", "This event does not accept payment by invoice.")
    capacity.lock_event(session, registration.event_id)
    session.refresh(registration)
    # Asked twice at once (a double click, an organiser's retry): the first request, which held the
    # lock, issued it. Looked up again under the lock, or the second would overwrite the billing
    # details of an invoice made out to someone else.
    existing = receipts.for_registration(session, registration, "invoice")
    if existing is not None:
        return existing
    lifecycle.hold_for_invoice(registration, now)  # the seat stays while the invoice is open
    organisation = session.get(Organisation, event.organisation_id)
    due = now + dt.timedelta(days=event.invoice_due_days)
    buyer = {"name": billing["name"], "address": [line for line in billing["address"].splitlines() if line.strip()],
             "vat_number": billing.get("vat_number"), "purchase_order": billing.get("purchase_order"),
             "email": billing.get("email") or registration.email}
    document = receipts.issue(
        session, registration, "invoice", now, buyer=buyer, due_on=due.date().isoformat(),
        payment_method="Bank transfer",
        bank_details=[line for line in (organisation.bank_details or "").splitlines() if line.strip()])
    registration.billing = billing
    registration.invoice_number = document.number
    registration.invoice_due_at = due
    payments.expire_checkout(session, registration)
    notify.invoice_issued(session, registration, document)
    return document


def mark_paid(session: Session, registration: Registration, now: dt.datetime | None = None) -> Registration:
    now = now or utcnow()
    capacity.lock_event(session, registration.event_id)
    session.refresh(registration)
    confirmed = lifecycle.confirm_by_invoice(registration, now)
    if confirmed is not None:  # else marked paid already
        notify.queue(session, confirmed.mails)
    return registration


def open_invoices(session: Session, event: Event, overdue_only: bool, now: dt.datetime | None = None
                  ) -> list[Registration]:
    now = now or utcnow()
    query = select(Registration).where(Registration.event_id == event.id,
                                       Registration.payment_method == "invoice",
                                       Registration.status == RegistrationStatus.PENDING_PAYMENT)
    if overdue_only:
        query = query.where(Registration.invoice_due_at < now)
    return list(session.scalars(query.order_by(Registration.invoice_due_at)))
