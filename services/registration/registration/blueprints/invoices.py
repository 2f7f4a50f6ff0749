"""Payment by invoice: issuing (organiser or attendee), marking paid, open and overdue invoices."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from marshmallow import ValidationError

from suite_common.api import ORGANISER, SuiteBlueprint
from suite_common.auth import organiser_required
from suite_common.db import get_session
from suite_common.errors import ApiError
from suite_common.forms import protect_forms

from ..schemas.registrations import InvoiceList, InvoiceQuery, InvoiceRequest, RegistrationOutput
from ..services import invoices, receipts
from ..services.lifecycle import TransitionRefused
from .lookups import attendee_registration, organiser_event, organiser_registration

api = SuiteBlueprint("invoices_api", __name__, url_prefix="/api/v1", description="Payment by invoice")
pages = Blueprint("invoice_pages", __name__)
protect_forms(pages)


@api.route("/registrations/<int:registration_id>/invoice", methods=["POST"])
@organiser_required
@api.doc(security=ORGANISER)
@api.arguments(InvoiceRequest)
@api.response(201, RegistrationOutput)
@api.alt_response(409, description="not awaiting payment, or the event takes no invoices")
def issue(data: dict[str, Any], registration_id: int) -> Any:
    """Invoices a registration awaiting payment to an institution; the seat stays held until paid."""
    session = get_session()
    registration = organiser_registration(registration_id)
    invoices.issue_invoice(session, registration, data)
    return registration


@api.route("/registrations/<int:registration_id>/mark-paid", methods=["POST"])
@organiser_required
@api.doc(security=ORGANISER)
@api.response(200, RegistrationOutput)
@api.alt_response(409, description="no open invoice")
def mark_paid(registration_id: int) -> Any:
    """The bank transfer arrived: confirms the registration and tells the attendee."""
    session = get_session()
    registration = invoices.mark_paid(session, organiser_registration(registration_id))
    return registration


@api.route("/events/<slug:slug>/invoices", methods=["GET"])
@organiser_required
@api.doc(security=ORGANISER)
@api.arguments(InvoiceQuery, location="query")
@api.response(200, InvoiceList)
def open_invoices(query: dict[str, Any], slug: str) -> Any:
    """Invoices not yet paid; ``overdue=true`` for those past their due date."""
    return {"items": invoices.open_invoices(get_session(), organiser_event(slug), query["overdue"])}


@pages.route("/r/<token>/invoice", methods=["GET", "POST"])
def request_invoice(token: str) -> Any:
    """The attendee asks for an invoice to their institution instead of paying by card."""
    registration = attendee_registration(token)
    errors: dict[str, Any] = {}
    values = dict(request.form) if request.method == "POST" else {}
    if request.method == "POST":
        session = get_session()
        try:
            invoices.issue_invoice(session, registration, InvoiceRequest().load(
                {k: request.form.get(k) or None for k in ("name", "address", "vat_number", "purchase_order", "email")}))
            return redirect(url_for("pages.manage", token=token, done="invoice"), code=303)
        except ValidationError as exc:
            errors = exc.normalized_messages()
        except (ApiError, TransitionRefused) as exc:
            errors = {"_form": [exc.message]}
    return render_template("invoice_request.html", registration=registration, event=registration.event,
                           errors=errors, values=values), (422 if errors else 200)


@pages.get("/r/<token>/<any(invoice, 'credit-note'):kind>.pdf")
def document_pdf(token: str, kind: str) -> Response:
    """The invoice, or the credit note of a refund, as issued."""
    registration = attendee_registration(token)
    document = receipts.for_registration(get_session(), registration, kind.replace("-", "_"))
    if document is None:
        abort(404, description=f"There is no {kind.replace('-', ' ')} for this registration.")
    return Response(receipts.render(document), mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{kind}-{document.number}.pdf"', "Cache-Control": "private, no-store"})
