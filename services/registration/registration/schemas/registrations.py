"""Shapes of sign-ups and of the roster."""
from __future__ import annotations

import math
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates

from suite_common.fields import Email, text_problem
from suite_common.i18n import SUPPORTED_LANGUAGES

from ..services.pricing import amount_to_pay
from ..services.zoom.registrants import personal_join_url, registrant_of
from .common import CODE, Moment, StrictBoolean, Text

AMOUNT_DUE = "what the attendee pays, VAT included (minor units)"

STATUSES = ("pending_payment", "confirmed", "waitlisted", "cancelled", "refunded", "pending_approval")
MAX_ANSWERS = 30


class SignUpInput(Schema):
    email = Email(required=True)
    given_name = Text(100, required=True)
    family_name = Text(100, required=True)
    rate = fields.String(required=True, validate=validate.Length(min=1, max=40))
    discount_code = fields.String(allow_none=True, validate=validate.Length(max=40))
    member_number = Text(64, allow_blank=True, allow_none=True, metadata={
        "description": "for a member rate: the member number, when the email is not the one on the member list"})
    answers = fields.Dict(keys=fields.String(validate=validate.Length(min=1, max=60)),
                          values=fields.Raw(allow_none=True), load_default=dict)
    consent = StrictBoolean(required=True, validate=validate.Equal(True, error="Consent is required to register."),
                            metadata={"description": "must be true: the attendee consents"})
    workshops = fields.List(fields.String(validate=validate.Length(min=1, max=40)), load_default=list,
                            validate=validate.Length(max=20),
                            metadata={"description": "codes of the workshops chosen (sessions with is_workshop)"})
    announcements = StrictBoolean(load_default=False,
                                  metadata={"description": "optional consent to announcements about the event"})
    family_name_first = StrictBoolean(allow_none=True, load_default=None, metadata={
        "description": "print the name family name first (王 芳); default: by the script of the name "
                       "(Han, kana and Hangul family name first)"})
    language = fields.String(validate=validate.OneOf(SUPPORTED_LANGUAGES, error="Use one of: {choices}."),
                             metadata={"description": "the attendee's language for mails and documents: en, nl, de "
                                                      "or fr (default: the request's Accept-Language, else en)"})

    @validates("answers")
    def _answers_small(self, value: dict[str, Any], **_: Any) -> None:
        if len(value) > MAX_ANSWERS:
            raise ValidationError(f"At most {MAX_ANSWERS} answers.")
        for answer in value.values():
            if answer is not None and not isinstance(answer, (str, int, float, bool)):
                raise ValidationError("Answers are text, numbers or yes/no.")
            if isinstance(answer, float) and not math.isfinite(answer):
                raise ValidationError("Numbers must be finite.")
            if isinstance(answer, str) and len(answer) > 1000:
                raise ValidationError("An answer is at most 1000 characters.")
            if isinstance(answer, str) and (problem := text_problem(answer, multiline=True)):
                raise ValidationError(f"An answer: {problem[0].lower()}{problem[1:]}")


class SignUpResult(Schema):
    id = fields.Integer()
    payment_url = fields.String(allow_none=True, metadata={"description": "where to pay, when status is pending_payment"})
    amount_due = fields.Integer(metadata={"description": AMOUNT_DUE})  # the view's pricing.amount_to_pay
    currency = fields.String()
    reference = fields.String()
    status = fields.String()
    manage_url = fields.String()
    waitlist_position = fields.Integer(allow_none=True)


def join_url_of(registration: Any) -> str | None:
    personal = personal_join_url(registration)
    if personal:
        return personal
    return registration.event.join_url if registration.status == "confirmed" else None


def zoom_registrant_id_of(registration: Any) -> str | None:
    registrant = registrant_of(registration)
    return registrant.registrant_id if registrant is not None and registrant.cancelled_at is None else None


class RegistrationOutput(Schema):
    id = fields.Integer()
    reference = fields.String()
    event = fields.Function(lambda r: r.event.slug)
    status = fields.String()
    email = fields.String()
    given_name = fields.String()
    family_name = fields.String()
    family_name_first = fields.Boolean()
    full_name = fields.String(metadata={"description": "the name as printed, in the person's order"})
    rate = fields.Function(lambda r: r.rate.code)
    member_number = fields.String(allow_none=True, metadata={"description": "as given at sign-up"})
    language = fields.String(metadata={"description": "the attendee's language (en, nl, de, fr) for mails and documents"})
    approved_at = fields.AwareDateTime(allow_none=True)
    rejected_at = fields.AwareDateTime(allow_none=True)
    rejection_reason = fields.String(allow_none=True)
    workshops = fields.Function(lambda r: [w.session.code for w in r.workshops])
    amount_due = fields.Function(amount_to_pay, metadata={"description": AMOUNT_DUE})
    amount_paid = fields.Integer()
    amount_refunded = fields.Integer()
    payment_method = fields.String(allow_none=True)
    receipt_number = fields.String(allow_none=True)
    invoice_number = fields.String(allow_none=True)
    hold_expires_at = fields.AwareDateTime(allow_none=True)
    currency = fields.String()
    answers = fields.Dict()
    consent_at = fields.AwareDateTime()
    consent_version = fields.String()
    announcements_consent_at = fields.AwareDateTime(allow_none=True)
    cancelled_at = fields.AwareDateTime(allow_none=True)
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()
    join_url = fields.Function(join_url_of, allow_none=True, metadata={
        "description": "where this attendee joins the webinar: their personal Zoom link once their registrant "
                       "exists, else the event's shared link while confirmed"})
    zoom_registrant_id = fields.Function(zoom_registrant_id_of, allow_none=True, metadata={
        "description": "their registrant at the event's Zoom webinar, while active"})


class DecisionResult(RegistrationOutput):
    """A registration after the organiser's decision; when it now awaits payment, where to pay."""

    payment_url = fields.String(allow_none=True, metadata={"description": "where to pay, when status is pending_payment"})
    waitlist_position = fields.Integer(allow_none=True)


class RejectionInput(Schema):
    reason = Text(1000, allow_blank=True, allow_none=True, load_default=None, multiline=True,
                  metadata={"description": "told to the attendee in the rejection mail"})


class RosterQuery(Schema):
    q = Text(100, allow_blank=True, metadata={
        "description": "search: part of the name, the email or the reference, in any case"})
    status = fields.String(validate=validate.OneOf(STATUSES))
    rate = fields.String(validate=CODE)
    updated_since = Moment()
    payment = fields.String(validate=validate.OneOf(("paid", "unpaid", "refunded", "free")),
                            metadata={"description": "paid, unpaid (amount due, not paid), refunded or free"})
    cursor = fields.String(validate=validate.Length(max=200))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "csv")))
    bom = fields.Boolean(load_default=False, metadata={"description": "start the CSV with a UTF-8 BOM (for Excel)"})


class RosterPage(Schema):
    items = fields.List(fields.Nested(RegistrationOutput))
    next_cursor = fields.String(allow_none=True)


class NameCorrection(Schema):
    given_name = Text(100, required=True)
    family_name = Text(100, required=True)


class AnnouncementInput(Schema):
    subject = Text(200, required=True)
    body = Text(20_000, required=True, multiline=True)


class AnnouncementResult(Schema):
    recipients = fields.Integer(metadata={"description": "registrants who consented to announcements"})


class BillingInput(Schema):
    legal_name = Text(200, required=True)
    address = Text(1000, required=True, multiline=True, metadata={"description": "postal address, one line per line"})
    vat_number = Text(40, allow_none=True, load_default=None)
    billing_email = Email(allow_none=True, load_default=None)
    bank_details = Text(1000, allow_none=True, load_default=None, multiline=True,
                        metadata={"description": "printed on invoices: account holder, IBAN, BIC"})


class InvoiceRequest(Schema):
    """The institution that pays: printed on the invoice."""

    name = Text(200, required=True, metadata={"example": "Universitätsklinikum Köln, Radiology"})
    address = Text(1000, required=True, multiline=True)
    vat_number = Text(40, allow_none=True, load_default=None)
    purchase_order = Text(60, allow_none=True, load_default=None)
    email = Email(allow_none=True, load_default=None, metadata={"description": "accounts payable"})


class InvoiceOutput(Schema):
    registration_id = fields.Integer(attribute="id")
    reference = fields.String()
    email = fields.String()
    invoice_number = fields.String()
    amount_due = fields.Function(amount_to_pay, metadata={"description": AMOUNT_DUE})
    currency = fields.String()
    invoice_due_at = fields.AwareDateTime()
    billing = fields.Dict()


class InvoiceList(Schema):
    items = fields.List(fields.Nested(InvoiceOutput))


class InvoiceQuery(Schema):
    overdue = fields.Boolean(load_default=False)
