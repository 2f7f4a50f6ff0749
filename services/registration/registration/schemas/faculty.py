"""Shapes of faculty and their disclosures: the organiser's API, the speaker's form and the internal API."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from suite_common.fields import Email

from .common import CODE, StrictBoolean, Text

ROLES = ("speaker", "planner")
MAX_RELATIONSHIPS = 50
MAX_SESSIONS = 200


class DisclosureInput(Schema):
    company = Text(200, required=True, metadata={"description": "the ineligible company"})
    relationship = Text(200, required=True, metadata={
        "description": "its nature, e.g. consultant, speakers' bureau, research grant, stock, employee"})
    ended_on = fields.Date(allow_none=True, metadata={
        "description": "when the relationship ended (within the last 24 months); null or absent: ongoing"})


class FacultyInput(Schema):
    """A person's statement is ``none: true``, or the relationships in ``disclosures``, or neither
    (not received yet). Giving either replaces the statement as a whole."""

    name = Text(200, required=True)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    email = Email(allow_none=True, metadata={"description": "where the speaker's disclosure link is sent"})
    sessions = fields.List(fields.String(validate=CODE), validate=validate.Length(max=MAX_SESSIONS),
                           metadata={"description": "codes of the sessions a speaker presents (planners: none)"})
    none = StrictBoolean(metadata={"description": "no relevant financial relationships in the last 24 months"})
    disclosures = fields.List(fields.Nested(DisclosureInput), validate=validate.Length(max=MAX_RELATIONSHIPS))
    mitigation = Text(2000, allow_none=True, multiline=True,
                      metadata={"description": "how relevant relationships were mitigated (for the organiser)"})

    @validates_schema
    def _one_statement(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("none") and data.get("disclosures"):
            raise ValidationError("Say either none or list relationships, not both.", "none")


class FacultyPatch(FacultyInput):
    """Partial update: the fields given change; ``none`` or ``disclosures`` replace the statement."""


class SpeakerStatementInput(Schema):
    """What a speaker states through their personal link: none, or their relationships; attested."""

    none = StrictBoolean(load_default=False)
    disclosures = fields.List(fields.Nested(DisclosureInput), load_default=list,
                              validate=validate.Length(max=MAX_RELATIONSHIPS))
    attest = StrictBoolean(load_default=False)


class DisclosureOutput(Schema):
    company = fields.String()
    relationship = fields.String(attribute="nature")
    ended = fields.Boolean()
    ended_on = fields.Date(allow_none=True)


class FacultyOutput(Schema):
    id = fields.Integer()
    name = fields.String()
    role = fields.String()
    email = fields.String(allow_none=True)
    sessions = fields.List(fields.String(), attribute="session_codes")
    status = fields.String(attribute="disclosure_status", metadata={"description": "pending (not received), none, or disclosed"})
    none = fields.Boolean(attribute="has_none")
    disclosures = fields.List(fields.Nested(DisclosureOutput), attribute="relationships")
    mitigation = fields.String(allow_none=True)
    disclosed_at = fields.AwareDateTime(allow_none=True)
    disclosed_by = fields.String(allow_none=True, metadata={"description": "organiser or speaker (attested)"})
    attested_at = fields.AwareDateTime(allow_none=True)
    link_created_at = fields.AwareDateTime(allow_none=True)
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


class FacultyList(Schema):
    items = fields.List(fields.Nested(FacultyOutput))


class DisclosureLinkInput(Schema):
    send = StrictBoolean(load_default=False, metadata={"description": "also mail the link to the person's email"})


class DisclosureLinkOutput(Schema):
    url = fields.String(metadata={"description": "the personal form; a new link replaces the previous one"})
    sent_to = fields.String(allow_none=True)


class InternalDisclosure(Schema):
    company = fields.String()
    relationship = fields.String(attribute="nature")
    ended_on = fields.Date(allow_none=True)


class InternalFaculty(Schema):
    name = fields.String()
    role = fields.String()
    sessions = fields.List(fields.String(), attribute="session_codes")
    status = fields.String(attribute="disclosure_status")
    none = fields.Boolean(attribute="has_none")
    disclosures = fields.List(fields.Nested(InternalDisclosure), attribute="relationships")
    mitigation = fields.String(allow_none=True)


class InternalFacultyList(Schema):
    items = fields.List(fields.Nested(InternalFaculty))
