"""Organiser-facing shapes of events, sessions and rates."""
from __future__ import annotations

from typing import Any

from flask import current_app
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from suite_common.fields import CREDIT_SYSTEM_CODE, MAX_CREDIT_SYSTEMS, Decimal, DecimalText, exactly_one_of
from suite_common.i18n import SUPPORTED_LANGUAGES

from .common import CODE, CURRENCY, SLUG, Moment, StrictBoolean, Text, TimeZone

KINDS = ("conference", "webinar")
CATEGORIES = ("member", "non_member", "trainee", "other")


def check_order(data: dict[str, Any], first: str, second: str, message: str) -> None:
    if data.get(first) is not None and data.get(second) is not None and data[second] <= data[first]:
        raise ValidationError(message, second)


class EventTexts(Schema):
    """The event's own texts in one language; a text left out is shown as the organiser wrote it."""

    title = Text(200)
    description = Text(5000, multiline=True)


class RateTexts(Schema):
    name = Text(200)


def translations_of(texts: type[Schema]) -> fields.Dict:
    """The organiser's texts by language, {"nl": {...}, "de": {...}}: shown on the attendee's pages in that
    language (suite_common.i18n.localized). Given in full: a PATCH replaces the previous translations."""
    return fields.Dict(keys=fields.String(validate=validate.OneOf(SUPPORTED_LANGUAGES)), values=fields.Nested(texts),
                       metadata={"description": "the texts in other languages, by language code (en, nl, de, fr)"})


# Zoom's webinar IDs are 9 to 12 digits today; up to 20 leaves room, and digits only keep it out of paths.
ZOOM_WEBINAR_ID = validate.Regexp(r"^[0-9]{9,20}$", error="A Zoom webinar ID is its number, 9 to 20 digits.")


class EventInput(Schema):
    slug = fields.String(required=True, validate=SLUG)
    title = Text(200, required=True)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    starts_at = Moment(required=True)
    ends_at = Moment(required=True)
    timezone = TimeZone(required=True)
    # strict: 1.5 or "10" is a mistake to point out, not a number to truncate or guess.
    capacity = fields.Integer(required=True, allow_none=True, strict=True,
                              validate=validate.Range(min=0, max=1_000_000),
                              metadata={"description": "null means unlimited"})
    currency = fields.String(required=True, validate=CURRENCY)
    venue = Text(300, allow_none=True)
    join_url = fields.Url(allow_none=True, schemes={"https", "http"}, validate=validate.Length(max=500))
    zoom_webinar_id = fields.String(allow_none=True, validate=ZOOM_WEBINAR_ID, metadata={
        "description": "the Zoom webinar (its number, digits only) whose registrants confirmed registrations "
                       "become, each with a personal join link; needs the organisation's Zoom connection"})
    description = Text(5000, allow_none=True, multiline=True)
    registration_opens_at = Moment(allow_none=True)
    registration_closes_at = Moment(allow_none=True)
    consent_text = Text(2000, multiline=True, metadata={"description": "the consent an attendee gives; versioned by its content"})
    vat_rate = Decimal(50, metadata={"description": "VAT percentage, e.g. \"20\""})
    prices_include_vat = StrictBoolean(metadata={"description": "rate amounts include VAT (default true)"})
    seat_hold_minutes = fields.Integer(strict=True, validate=validate.Range(min=30, max=1440),
                                       metadata={"description": "how long a seat waits for card payment"})
    refund_full_until = Moment(allow_none=True, metadata={"description": "cancellations until then: full refund"})
    refund_partial_until = Moment(allow_none=True,
                                  metadata={"description": "then until this: refund_partial_percent; later none"})
    refund_partial_percent = fields.Integer(strict=True, validate=validate.Range(min=0, max=100))
    cancellation_fee = fields.Integer(strict=True, validate=validate.Range(min=0, max=100_000_000),
                                      metadata={"description": "kept from every refund, minor units"})
    allows_invoice = StrictBoolean(metadata={"description": "institutions may pay by invoice (bank transfer)"})
    invoice_due_days = fields.Integer(strict=True, validate=validate.Range(min=1, max=365))
    translations = translations_of(EventTexts)

    @validates_schema
    def _times_in_order(self, data: dict[str, Any], **_: Any) -> None:
        check_order(data, "starts_at", "ends_at", "The event must end after it starts.")
        check_order(data, "refund_full_until", "refund_partial_until",
                    "The partial-refund period must end after the full-refund period.")
        check_order(data, "registration_opens_at", "registration_closes_at",
                    "Registration must close after it opens.")


class EventPatch(EventInput):
    """Partial update; the slug is the event's address and does not change."""

    class Meta:
        exclude = ("slug",)


class SessionCredits(fields.Field):
    """A session's credits: a decimal (in the event's first credit system, as before several systems)
    or an object by credit system code, ``{"ECMEC": "1.5", "NVVTG": "1"}``, which then says the credits
    in every system (a system it leaves out gives none). Each amount as a JSON number or a string."""

    def __init__(self, **kwargs: Any) -> None:
        self.amount = Decimal(100)
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, dict):
            return self.amount.deserialize(value)
        if len(value) > MAX_CREDIT_SYSTEMS:
            raise ValidationError(f"Give credits in at most {MAX_CREDIT_SYSTEMS} credit systems.")
        by_system, problems = {}, {}
        for code, amount in value.items():
            try:
                CREDIT_SYSTEM_CODE(code)
                by_system[code] = self.amount.deserialize(amount)
            except ValidationError as error:
                problems[code] = error.messages
        if problems:
            raise ValidationError(problems)
        return by_system

    def openapi(self, ret: dict[str, Any]) -> dict[str, Any]:
        amount = self.amount.openapi({})
        return {"anyOf": [*amount["anyOf"], {
            "type": "object", "maxProperties": MAX_CREDIT_SYSTEMS, "additionalProperties": amount,
            "propertyNames": {"pattern": CREDIT_SYSTEM_CODE.regex.pattern}}]}


class EventSessionInput(Schema):
    code = fields.String(required=True, validate=CODE)
    title = Text(200, required=True)
    starts_at = Moment(required=True)
    ends_at = Moment(required=True)
    capacity = fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=0, max=1_000_000))
    credits = SessionCredits(required=True, metadata={
        "description": "accredited hours of the session in the event's first credit system (\"1.5\"), or by "
                       "credit system code ({\"ECMEC\": \"1.5\", \"NVVTG\": \"1\"})", "example": "1.5"})
    is_workshop = StrictBoolean(load_default=False,
                                 metadata={"description": "chosen at sign-up, at its own price and capacity"})
    amount = fields.Integer(load_default=0, strict=True, validate=validate.Range(min=0, max=100_000_000),
                            metadata={"description": "a workshop's price, minor units, in the event's currency"})

    @validates_schema
    def _times_in_order(self, data: dict[str, Any], **_: Any) -> None:
        check_order(data, "starts_at", "ends_at", "The session must end after it starts.")


class EventSessionPatch(EventSessionInput):
    """Partial update; the code is the session's address and does not change."""

    class Meta:
        exclude = ("code",)


class EventSessionOutput(Schema):
    code = fields.String()
    title = fields.String()
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    capacity = fields.Integer(allow_none=True)
    credits = DecimalText(metadata={"description": "the plain credits, or the first of credits_by_system"})
    credits_by_system = fields.Dict(keys=fields.String(), values=fields.String(), allow_none=True, metadata={
        "description": "credits by credit system code when given so; null: credits are the first system's"})
    is_workshop = fields.Boolean()
    amount = fields.Integer()
    seats_taken = fields.Integer()


class RateInput(Schema):
    code = fields.String(required=True, validate=CODE)
    name = Text(200, required=True)
    amount = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=100_000_000),
                            metadata={"description": "minor units (cents); 0 is free"})
    currency = fields.String(required=True, validate=CURRENCY)
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    valid_until = Moment(allow_none=True, metadata={"description": "an early-bird rate stops being offered then"})
    requires_membership = StrictBoolean(metadata={
        "description": "only people on the member list (email or member number) may choose it; "
                       "default: true for category member, else false"})
    requires_approval = StrictBoolean(metadata={
        "description": "each sign-up waits as pending_approval, without a seat, until the organiser approves it; "
                       "default: true for category trainee, else false"})
    translations = translations_of(RateTexts)


class RateOutput(Schema):
    code = fields.String()
    name = fields.String()
    amount = fields.Integer()
    currency = fields.String()
    category = fields.String()
    valid_until = fields.AwareDateTime(allow_none=True)
    requires_membership = fields.Boolean()
    requires_approval = fields.Boolean()
    translations = fields.Dict()


class EventOutput(Schema):
    slug = fields.String()
    title = fields.String()
    kind = fields.String()
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    timezone = fields.String()
    capacity = fields.Integer(allow_none=True)
    seats_taken = fields.Integer()
    currency = fields.String()
    venue = fields.String(allow_none=True)
    join_url = fields.String(allow_none=True)
    zoom_webinar_id = fields.String(allow_none=True)
    description = fields.String(allow_none=True)
    registration_opens_at = fields.AwareDateTime(allow_none=True)
    registration_closes_at = fields.AwareDateTime(allow_none=True)
    consent_text = fields.String()
    vat_rate = DecimalText()
    prices_include_vat = fields.Boolean()
    seat_hold_minutes = fields.Integer()
    refund_full_until = fields.AwareDateTime(allow_none=True)
    refund_partial_until = fields.AwareDateTime(allow_none=True)
    refund_partial_percent = fields.Integer()
    cancellation_fee = fields.Integer()
    allows_invoice = fields.Boolean()
    invoice_due_days = fields.Integer()
    translations = fields.Dict()
    public_url = fields.Method("_public_url")
    sessions = fields.List(fields.Nested(EventSessionOutput))
    rates = fields.List(fields.Nested(RateOutput))
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()

    def _public_url(self, event: Any) -> str:
        return f"{current_app.extensions['suite_settings'].public_base_url}/events/{event.slug}"


class EventList(Schema):
    items = fields.List(fields.Nested(EventOutput))


class DiscountCodeInput(Schema):
    code = fields.String(required=True, validate=CODE)
    percent_off = fields.Integer(strict=True, validate=validate.Range(min=1, max=100))
    amount_off = fields.Integer(strict=True, validate=validate.Range(min=1, max=100_000_000),
                                metadata={"description": "minor units, in the event's currency"})
    max_uses = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=1, max=1_000_000))
    valid_until = Moment(allow_none=True)
    rates = fields.List(fields.String(validate=CODE), allow_none=True, validate=validate.Length(min=1, max=50),
                        metadata={"description": "rate codes it applies to; all rates when absent"})

    _one_kind = exactly_one_of("percent_off", "amount_off", message="Give either percent_off or amount_off.")


class DiscountCodeOutput(Schema):
    code = fields.String()
    percent_off = fields.Integer(allow_none=True)
    amount_off = fields.Integer(allow_none=True)
    max_uses = fields.Integer(allow_none=True)
    uses = fields.Integer()
    valid_until = fields.AwareDateTime(allow_none=True)
    rates = fields.List(fields.String(), allow_none=True)
