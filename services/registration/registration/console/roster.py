"""The roster (search, filters, pages, CSV), a registration's page with its history and actions, and
the organisation's member list.

Each view reads the form into the API's JSON shape, loads it with the API's own schema and calls
the service function the API view calls (``roster``, ``signup.cancel``, ``approvals``,
``invoices``, ``members``); a transition the registration's state refuses (a 409) is shown on the
registration's page, not as an error page.
"""
from __future__ import annotations

import uuid
from typing import Any

from flask import Response, flash, request
from marshmallow import Schema, ValidationError, fields, validate

from suite_common.db import get_db, get_session, utcnow
from suite_common.errors import ApiError

from .. import STATUS_LABELS
from ..blueprints import checkout
from ..blueprints.lookups import organiser_event, organiser_registration
from ..blueprints.organiser_api import MAX_MEMBER_FILE_BYTES
from ..models import Registration, RegistrationStatus, Role
from ..schemas.members import MemberQuery
from ..schemas.registrations import STATUSES, InvoiceRequest, RejectionInput, RosterQuery
from ..services import approvals, invoices, members, notify, pricing, signup
from ..services import roster as roster_service
from ..services.lifecycle import TransitionRefused
from ..services.money import format_money
from .core import current_person, form_errors, render, route, see_other

ROSTER_PAGE_SIZE = 50
MEMBER_PAGE_SIZE = 50
# The roster's filters as the API's query names them; the console's form uses the same names.
ROSTER_FILTERS = ("q", "status", "rate", "payment", "cursor")
PAYMENTS = {"paid": "Paid", "unpaid": "Due, not paid", "refunded": "Refunded", "free": "Free"}
INVOICE_FIELDS = ("name", "address", "vat_number", "purchase_order", "email")
INVOICE_LABELS = {"name": "Institution", "address": "Address", "vat_number": "VAT number",
                  "purchase_order": "Purchase order", "email": "Accounts payable email"}


class ResendInput(Schema):
    """The resend form carries an id made when the page was shown: each resend's own message key."""

    resend_id = fields.String(required=True, validate=validate.Regexp(r"^[0-9a-f]{32}$"),
                              error_messages={"required": "Open the registration's page again and resend from there."})


class MemberUploadMode(Schema):
    """Replace is the API's PUT, append its POST."""

    mode = fields.String(load_default="append", validate=validate.OneOf(("append", "replace")))


# --- the roster ---------------------------------------------------------------------------


def _roster_filters() -> tuple[dict[str, str], dict[str, Any], dict[str, list[str]]]:
    """The filters as typed (to show them again), as the API's RosterQuery loads them, and its errors."""
    typed = {name: request.args.get(name, "").strip() for name in ROSTER_FILTERS}
    given = {name: value for name, value in typed.items() if value}
    try:
        return typed, RosterQuery().load({**given, "limit": ROSTER_PAGE_SIZE}), {}
    except ValidationError as error:
        return typed, RosterQuery().load({"limit": ROSTER_PAGE_SIZE}), form_errors(error)


@route("/events/<slug:slug>/registrations", Role.VIEWER)
def roster(slug: str) -> tuple[str, int]:
    """Everyone who signed up, found by name, email or reference, filtered and paged as the API's roster."""
    event = organiser_event(slug)
    typed, filters, errors = _roster_filters()
    try:
        items, next_cursor = roster_service.roster_page(get_session(), event, filters)
    except ApiError as refusal:  # a cursor this console did not give out
        if refusal.status != 422:
            raise
        errors = {**errors, **(refusal.fields or {})}
        filters.pop("cursor", None)
        items, next_cursor = roster_service.roster_page(get_session(), event, filters)
    kept = {name: value for name, value in typed.items() if value and name != "cursor" and name not in errors}
    return render("console/roster.html", 422 if errors else 200, event=event, items=items, next_cursor=next_cursor,
                  typed=typed, kept=kept, errors=errors, statuses=STATUSES, status_labels=STATUS_LABELS,
                  payments=PAYMENTS, format_money=format_money,
                  labels={"q": "Search", "status": "Status", "rate": "Rate", "payment": "Payment", "cursor": "Page"})


@route("/events/<slug:slug>/registrations.csv", Role.VIEWER)
def roster_csv(slug: str) -> Response:
    """The same CSV as the API's ``format=csv``, with the page's search and filters, streamed."""
    event = organiser_event(slug)
    typed = {name: request.args.get(name, "").strip() for name in ROSTER_FILTERS if name != "cursor"}
    try:
        filters = RosterQuery().load({**{k: v for k, v in typed.items() if v}, "format": "csv",
                                      "bom": request.args.get("bom", "false")})
    except ValidationError as error:
        raise ApiError(422, "validation_error", "These filters are not valid: " + "; ".join(
            f"{name}: {' '.join(messages)}" for name, messages in form_errors(error).items())) from error
    body = roster_service.roster_csv(get_db().session_factory, event, filters, bom=filters["bom"])
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{event.slug}-registrations.csv"'})


# --- one registration ---------------------------------------------------------------------


def _registration_page(registration: Registration, status: int = 200, **forms: Any) -> tuple[str, int]:
    """The registration's facts, history and action forms; ``forms`` carries a refused action's
    message (``refused``) or a form's errors and values to show again."""
    session = get_session()
    context: dict[str, Any] = {"refused": None, "reject_errors": {}, "reject_values": {}, "invoice_errors": {},
                               "invoice_values": {}, "resend_errors": {}, **forms}
    return render("console/registration.html", status, registration=registration, event=registration.event,
                  history=roster_service.registration_history(session, registration),
                  refund=pricing.refund_on_cancel(registration, utcnow()), resend_id=uuid.uuid4().hex,
                  status_labels=STATUS_LABELS, format_money=format_money, invoice_labels=INVOICE_LABELS,
                  labels=INVOICE_LABELS, may_act=current_person().may(Role.STAFF), **context)


def _refused(registration: Registration, refusal: TransitionRefused | ApiError) -> tuple[str, int]:
    """A transition the registration's state does not allow, said on its page with the API's 409."""
    if isinstance(refusal, ApiError) and refusal.status != 409:
        raise refusal
    get_session().rollback()
    get_session().refresh(registration)
    return _registration_page(registration, 409, refused=refusal.message)


@route("/registrations/<int:registration_id>", Role.VIEWER)
def registration(registration_id: int) -> tuple[str, int]:
    return _registration_page(organiser_registration(registration_id))


@route("/registrations/<int:registration_id>/cancel", Role.STAFF, methods=("GET", "POST"))
def registration_cancel(registration_id: int) -> Any:
    """GET asks to confirm, saying what the event's policy refunds now; POST cancels as the API does."""
    registration = organiser_registration(registration_id)
    if request.method == "GET":
        return render("console/registration_cancel.html", registration=registration, event=registration.event,
                      refund=pricing.refund_on_cancel(registration, utcnow()), format_money=format_money,
                      status_labels=STATUS_LABELS)
    if RegistrationStatus(registration.status).ended:
        return _registration_page(registration, 409, refused="This registration is cancelled already.")
    signup.cancel(get_session(), registration)
    flash(f"Registration {registration.reference} is now {STATUS_LABELS[registration.status].lower()}.")
    return see_other("console.registration", registration_id=registration_id)


@route("/registrations/<int:registration_id>/approve", Role.STAFF, methods=("POST",))
def registration_approve(registration_id: int) -> Any:
    registration = organiser_registration(registration_id)
    try:
        approvals.approve(get_session(), registration)
    except TransitionRefused as refusal:
        return _refused(registration, refusal)
    checkout.payment_url(registration)  # as the API's approval: the Checkout Session, after the commit
    flash(f"Approved: registration {registration.reference} is now {STATUS_LABELS[registration.status].lower()}.")
    return see_other("console.registration", registration_id=registration_id)


@route("/registrations/<int:registration_id>/reject", Role.STAFF, methods=("POST",))
def registration_reject(registration_id: int) -> Any:
    registration = organiser_registration(registration_id)
    try:
        data = RejectionInput().load({"reason": request.form.get("reason") or None})
    except ValidationError as error:
        return _registration_page(registration, 422, reject_errors=form_errors(error), reject_values=request.form)
    try:
        approvals.reject(get_session(), registration, data["reason"])
    except TransitionRefused as refusal:
        return _refused(registration, refusal)
    flash(f"Rejected: registration {registration.reference} is cancelled and the attendee is told why.")
    return see_other("console.registration", registration_id=registration_id)


@route("/registrations/<int:registration_id>/resend-confirmation", Role.STAFF, methods=("POST",))
def registration_resend(registration_id: int) -> Any:
    registration = organiser_registration(registration_id)
    try:
        data = ResendInput().load({"resend_id": request.form.get("resend_id") or None})
    except ValidationError as error:
        return _registration_page(registration, 422, resend_errors=form_errors(error))
    try:
        notify.resend_confirmation(get_session(), registration, data["resend_id"])
    except ApiError as refusal:
        return _refused(registration, refusal)
    flash(f"The confirmation is on its way to {registration.email} again.")
    return see_other("console.registration", registration_id=registration_id)


@route("/registrations/<int:registration_id>/invoice", Role.STAFF, methods=("POST",))
def registration_invoice(registration_id: int) -> Any:
    """Issues an invoice to the institution named in the form (the API's InvoiceRequest)."""
    registration = organiser_registration(registration_id)
    try:
        billing = InvoiceRequest().load({name: request.form.get(name, "").strip() or None for name in INVOICE_FIELDS})
    except ValidationError as error:
        return _registration_page(registration, 422, invoice_errors=form_errors(error), invoice_values=request.form)
    try:
        document = invoices.issue_invoice(get_session(), registration, billing)
    except (TransitionRefused, ApiError) as refusal:
        return _refused(registration, refusal)
    flash(f"Invoice {document.number} issued and mailed; the seat is held until it is marked paid.")
    return see_other("console.registration", registration_id=registration_id)


@route("/registrations/<int:registration_id>/mark-paid", Role.STAFF, methods=("POST",))
def registration_mark_paid(registration_id: int) -> Any:
    registration = organiser_registration(registration_id)
    try:
        invoices.mark_paid(get_session(), registration)
    except TransitionRefused as refusal:
        return _refused(registration, refusal)
    flash(f"Invoice {registration.invoice_number} marked paid: the registration is confirmed.")
    return see_other("console.registration", registration_id=registration_id)


# --- the member list ----------------------------------------------------------------------


def _member_page(status: int = 200, **context: Any) -> tuple[str, int]:
    organisation_id = current_person().organisation_id
    try:
        query = MemberQuery().load({"limit": MEMBER_PAGE_SIZE, **(
            {"cursor": request.args["cursor"]} if request.method == "GET" and request.args.get("cursor") else {})})
        listed = members.page(get_session(), organisation_id, query.get("cursor"), query["limit"])
    except (ValidationError, ApiError):  # a cursor this console did not give out: the first page
        listed = members.page(get_session(), organisation_id, None, MEMBER_PAGE_SIZE)
    context = {"errors": {}, "problem": None, "mode": "append", **context}
    return render("console/members.html", status, listed=listed, labels={"file": "Member file", "mode": "Mode"},
                  may_act=current_person().may(Role.STAFF), **context)


@route("/members", Role.VIEWER)
def member_list() -> tuple[str, int]:
    """The member list that member rates check, its size, a page of it and the upload form."""
    return _member_page()


@route("/members/upload", Role.STAFF, methods=("POST",))
def member_upload() -> Any:
    """Imports a member CSV all or nothing, replacing the list (the API's PUT) or adding to it (POST);
    a refused file is shown again with every bad line the service names."""
    try:
        mode = MemberUploadMode().load({"mode": request.form.get("mode", "append")})["mode"]
    except ValidationError as error:
        return _member_page(422, errors=form_errors(error))
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _member_page(422, mode=mode, errors={"file": ["Choose a CSV file to upload."]})
    data = upload.read(MAX_MEMBER_FILE_BYTES + 1)
    if len(data) > MAX_MEMBER_FILE_BYTES:
        return _member_page(422, mode=mode, errors={"file": ["The file is larger than 10 MB."]})
    session = get_session()
    organisation_id = current_person().organisation_id
    try:
        rows = members.parse_csv(data)
        outcome = (members.replace_members if mode == "replace" else members.append_members)(
            session, organisation_id, rows)
    except ApiError as refusal:
        if refusal.status != 422:
            raise
        return _member_page(422, mode=mode, problem=refusal.message, errors=refusal.fields or {})
    flash(f"Imported: {outcome.added} added, {outcome.updated} updated, {outcome.unchanged} unchanged, "
          f"{outcome.removed} removed; {outcome.count} members on the list.")
    return see_other("console.member_list")


@route("/members.csv", Role.VIEWER)
def member_csv() -> Response:
    """The list as the API's ``format=csv`` gives it: a file that imports again unchanged."""
    body = members.export_csv(get_db().session_factory, current_person().organisation_id, bom=False)
    return Response(body, mimetype="text/csv", headers={"Content-Disposition": 'attachment; filename="members.csv"'})
