"""Numbered receipts (and later invoices and credit notes): the numbers, and the frozen content.

Numbers run per organisation, kind and year without gaps or duplicates: the next
number is taken by incrementing the counter row in the transaction that issues the
document (the row lock queues concurrent issuers; a rolled-back issue gives its
number back with it).
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from flask_babel import gettext
from sqlalchemy import select, update
from sqlalchemy.orm import Session, object_session

from suite_common import dates
from suite_common.db import insert_once
from suite_common.i18n import DEFAULT_LANGUAGE, in_language
from suite_common.pdf import letterhead

from ..models import Document, DocumentCounter, Organisation, Registration
from .branding import branding_of, logo_of
from .documents import Buyer, DocumentData, Line, Seller, render_document
from .money import vat_breakdown

PREFIXES = {"receipt": "R", "invoice": "I", "credit_note": "C"}


def next_number(session: Session, organisation_id: int, kind: str, year: int) -> str:
    increment = (update(DocumentCounter)
                 .where(DocumentCounter.organisation_id == organisation_id, DocumentCounter.kind == kind,
                        DocumentCounter.year == year)
                 .values(last_value=DocumentCounter.last_value + 1)
                 .returning(DocumentCounter.last_value))
    value = session.execute(increment).scalar_one_or_none()
    if value is None:  # the series' first document: create it (once, if another transaction races us)
        insert_once(session, DocumentCounter, {"organisation_id": organisation_id, "kind": kind, "year": year,
                                               "last_value": 0}, key=("organisation_id", "kind", "year"))
        value = session.execute(increment).scalar_one()
    return f"{PREFIXES[kind]}{year}-{value:06d}"


def _seller(organisation: Organisation) -> dict[str, Any]:
    return {"name": organisation.legal_name or organisation.name,
            "address": [line for line in (organisation.address or "").splitlines() if line.strip()],
            "vat_number": organisation.vat_number, "email": organisation.billing_email}


def lines(registration: Registration) -> list[list[Any]]:
    """The rate at its price, the discount as a line of its own (negative) when a code took some off,
    then each workshop at its price; worded in the current language."""
    workshops = [[gettext("Workshop: %(title)s", title=w.session.title), 1, w.amount] for w in registration.workshops]
    rate_amount = registration.amount_due - sum(line[2] for line in workshops)
    discount = registration.rate.amount - rate_amount if registration.discount_code_id else 0
    rate_line = [f"{registration.event.title}: {registration.rate.name}", 1, rate_amount + max(discount, 0)]
    discount_lines = [[gettext("Discount"), 1, -discount]] if discount > 0 else []
    return [rate_line, *discount_lines, *workshops]


def _base_content(registration: Registration, organisation: Organisation, now: dt.datetime) -> dict[str, Any]:
    event = registration.event
    return {
        "seller": _seller(organisation),
        "buyer": {"name": registration.full_name, "email": registration.email},
        "lines": lines(registration),
        "currency": registration.currency, "vat_rate": str(event.vat_rate),
        "prices_include_vat": event.prices_include_vat, "event_title": event.title,
        "event_dates": dates.event_dates(event.starts_at, event.ends_at, event.timezone,
                                         registration.language or DEFAULT_LANGUAGE),
        "reference": registration.reference,
        "issued_on": now.date().isoformat(),
        # The attendee's language, kept with the document so that it prints the same way every time.
        "language": registration.language,
    }


def issue(session: Session, registration: Registration, kind: str, now: dt.datetime,
          **content: Any) -> Document:
    """Issues a numbered document once per registration and kind (a second call returns the first),
    worded in the registration's language (its lines, dates and payment method are frozen with it)."""
    existing = for_registration(session, registration, kind)
    if existing is not None:
        return existing
    organisation = session.get(Organisation, registration.event.organisation_id)
    number = next_number(session, organisation.id, kind, now.year)
    with in_language(registration.language):
        body = {**_base_content(registration, organisation, now), **content}
    amount = sum(quantity * unit for _description, quantity, unit in body["lines"])
    document = Document(organisation_id=organisation.id, registration_id=registration.id, kind=kind,
                        number=number, amount=amount, currency=registration.currency, content=body, issued_at=now)
    session.add(document)
    session.flush()
    return document


def issue_receipt(session: Session, registration: Registration, now: dt.datetime) -> Document:
    with in_language(registration.language):
        method = gettext("Card (Stripe)")
    document = issue(session, registration, "receipt", now, payment_method=method, paid_on=now.date().isoformat())
    registration.receipt_number = document.number
    return document


def issue_credit_note(session: Session, registration: Registration, amount: int, now: dt.datetime) -> Document:
    refers_to = registration.invoice_number or registration.receipt_number or registration.reference
    refers_to_kind = "invoice" if registration.invoice_number else "receipt"
    with in_language(registration.language):
        method = gettext("Refund to the original payment method")
        line = gettext("Refund: %(event)s: %(rate)s", event=registration.event.title, rate=registration.rate.name)
    # ``amount`` is money given back, VAT included, whatever the event's prices exclude: the credit note
    # says so, or it would add the VAT a second time on top of the refund.
    return issue(session, registration, "credit_note", now, refers_to=refers_to, refers_to_kind=refers_to_kind,
                 paid_on=now.date().isoformat(), prices_include_vat=True,
                 payment_method=method, lines=[[line, 1, amount]])


def total_of(document: Document) -> int:
    """The document's total as printed, VAT included: ``Document.amount`` is its lines' sum as priced (net
    when they exclude VAT), which is not what the invoice asks to be transferred."""
    content = document.content
    return vat_breakdown(document.amount, Decimal(content["vat_rate"]), content["prices_include_vat"]).gross


def render(document: Document) -> bytes:
    """The document's frozen content under the society's letterhead of today (logo, name, colour, footer)."""
    content = document.content
    data = DocumentData(
        kind=document.kind, number=document.number, issued_on=dt.date.fromisoformat(content["issued_on"]),
        seller=Seller(**content["seller"]), buyer=Buyer(**content["buyer"]),
        lines=[Line(description, quantity, amount) for description, quantity, amount in content["lines"]],
        currency=content["currency"], vat_rate=Decimal(content["vat_rate"]),
        prices_include_vat=content["prices_include_vat"], event_title=content["event_title"],
        event_dates=content["event_dates"], reference=content["reference"],
        payment_method=content.get("payment_method"),
        paid_on=dt.date.fromisoformat(content["paid_on"]) if content.get("paid_on") else None,
        due_on=dt.date.fromisoformat(content["due_on"]) if content.get("due_on") else None,
        bank_details=content.get("bank_details") or (), refers_to=content.get("refers_to"),
        refers_to_kind=content.get("refers_to_kind", "invoice"),
        language=content.get("language") or DEFAULT_LANGUAGE,
    )
    organisation = object_session(document).get_one(Organisation, document.organisation_id)  # type: ignore[union-attr]
    return render_document(data, letterhead(branding_of(organisation), logo_of(organisation)))


def for_registration(session: Session, registration: Registration, kind: str) -> Document | None:
    return session.scalar(select(Document).where(Document.registration_id == registration.id,
                                                 Document.kind == kind))
