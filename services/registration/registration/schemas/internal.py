"""Shapes of registration's internal API, which certificates and notifications read instead of our tables."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from .events import EventSessionOutput


class EventQuery(Schema):
    organisation_id = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))


class AttendeesQuery(EventQuery):
    status = fields.String(load_default="confirmed", validate=validate.OneOf(("confirmed", "all")))
    cursor = fields.Integer(load_default=0, validate=validate.Range(min=0, max=2**31 - 1))
    limit = fields.Integer(load_default=1000, validate=validate.Range(min=1, max=5000))


class InternalEvent(Schema):
    slug = fields.String()
    title = fields.String()
    kind = fields.String()
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    timezone = fields.String()
    venue = fields.String(allow_none=True)
    organisation_id = fields.Integer()
    sessions = fields.List(fields.Nested(EventSessionOutput))


class Attendee(Schema):
    id = fields.Integer()
    reference = fields.String()
    status = fields.String()
    email = fields.String()
    given_name = fields.String(metadata={"description": "as the attendee last corrected it"})
    family_name = fields.String()
    family_name_first = fields.Boolean(metadata={"description": "print the family name first (王 芳)"})
    ticket_code = fields.String()
    language = fields.String(metadata={"description": "the attendee's language (en, nl, de, fr) for mails and documents"})
    updated_at = fields.AwareDateTime()
    # The attendee form's answers that certificates' accreditor summary counts participants by.
    country = fields.Function(lambda r: (r.answers or {}).get("country"), allow_none=True)
    profession = fields.Function(lambda r: (r.answers or {}).get("profession"), allow_none=True)


class AttendeePage(Schema):
    event = fields.Nested(InternalEvent)
    items = fields.List(fields.Nested(Attendee))
    next_cursor = fields.Integer(allow_none=True)


class Ticket(Attendee):
    event = fields.Function(lambda r: r.event.slug)
    organisation_id = fields.Function(lambda r: r.event.organisation_id)
