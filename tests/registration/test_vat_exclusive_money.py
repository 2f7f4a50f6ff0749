"""Prices excluding VAT: the money taken, refunded and counted is the gross, the same figure the attendee
was shown (``pricing.amount_to_pay``); ``amount_due`` stays the net as the event prices it."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from tests.support.factories import create_event

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)  # every time of this module's fixtures comes from here


def signed_up(client, auth) -> dict:  # type: ignore[no-untyped-def]
    """A €540 (net) registration at a 10%-VAT event priced excluding VAT, full refund less a €25 fee."""
    event = create_event(client, auth, rate=None, kind="conference", vat_rate="10", prices_include_vat=False,
                         starts_at=(NOW + dt.timedelta(days=30)).isoformat(),
                         ends_at=(NOW + dt.timedelta(days=30, hours=8)).isoformat(),
                         refund_full_until=(NOW + dt.timedelta(days=10)).isoformat(), cancellation_fee=2500,
                         allows_invoice=True)
    rate = client.post(f"/api/v1/events/{event['slug']}/rates", headers=auth, json={
        "code": "regular", "name": "Regular", "amount": 54000, "currency": "EUR", "category": "other"})
    assert rate.status_code == 201, rate.get_json()
    response = client.post(f"/api/v1/events/{event['slug']}/registrations", json={
        "email": "ana@hospital.example", "given_name": "Ana", "family_name": "Satō", "rate": "regular",
        "consent": True})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def slug_of(client, auth, person: dict) -> str:  # type: ignore[no-untyped-def]
    return client.get(f"/api/v1/registrations/{person['id']}", headers=auth).get_json()["event"]


def test_card_payment_refund_credit_note_and_revenue_are_the_gross(client, auth, registration_app) -> None:
    from registration.models import Registration
    from registration.services import event_summary, lifecycle, pricing, receipts

    person = signed_up(client, auth)
    assert person["amount_due"] == 59400  # 540.00 + 54.00 VAT
    with registration_app.app_context(), registration_app.extensions["suite_db"].session_scope() as session:
        registration = session.scalar(select(Registration).where(Registration.id == person["id"]))
        assert (registration.amount_due, pricing.amount_to_pay(registration)) == (54000, 59400)
        assert lifecycle.pay(session, registration, pricing.amount_to_pay(registration), "pi_test_1", NOW)
        receipt = receipts.for_registration(session, registration, "receipt")
        assert receipts.total_of(receipt) == 59400
        assert pricing.refund_on_cancel(registration, NOW) == 59400 - 2500
        event = registration.event
        revenue = event_summary.event_counts(session, event.organisation_id, event.id)[event.id]
        assert revenue.revenue == {"EUR": 59400}
        cancelled = lifecycle.cancel(session, registration, NOW)
        assert cancelled is not None and cancelled.refund == 56900
        credit_note = receipts.issue_credit_note(session, registration, cancelled.refund, NOW)
        assert (credit_note.amount, receipts.total_of(credit_note)) == (56900, 56900)  # no VAT added again
    # The roster's CSV (built in SQL: COPY on PostgreSQL) puts what was due, VAT included, next to what was paid.
    csv = client.get(f"/api/v1/events/{slug_of(client, auth, person)}/registrations",
                     headers=auth, query_string={"format": "csv"}).get_data(as_text=True)
    assert ",59400,59400,0,EUR," in csv, csv


def test_an_invoice_paid_by_transfer_records_the_gross(client, auth, registration_app) -> None:
    from registration.models import Registration
    from registration.services import invoices, receipts

    person = signed_up(client, auth)
    with registration_app.app_context(), registration_app.extensions["suite_db"].session_scope() as session:
        registration = session.scalar(select(Registration).where(Registration.id == person["id"]))
        invoice = invoices.issue_invoice(session, registration, {"name": "AKH Wien", "address": "Währinger Gürtel"},
                                         NOW)
        assert (invoice.amount, receipts.total_of(invoice)) == (54000, 59400)
        invoices.mark_paid(session, registration, NOW)
        assert registration.amount_paid == 59400
