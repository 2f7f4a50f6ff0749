"""Shapes of attendance, jobs and certificates at the organiser API."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from suite_common.fields import DecimalText, Moment, Pattern, StrictBoolean, Text, TimeZone, exactly_one_of

from .accreditation import AccreditationInput, AccreditationOutput  # noqa: F401 - re-exported for blueprints

TICKET = Pattern(r"^[A-Za-z0-9_-]{1,64}$", error="Not a ticket code.")


class CheckInInput(Schema):
    ticket_code = fields.String(validate=TICKET)
    registration_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    session = fields.String(validate=Pattern(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$"),
                            metadata={"description": "session code; without it the scan counts for the day"})
    day = fields.Date(metadata={"description": "the day scanned for (default: today in the event's time zone)"})
    at = Moment(metadata={"description": "when the scan happened, with offset (default: now); "
                                                      "for scanners that upload later"})
    check_out = StrictBoolean(load_default=False, metadata={"description": "record leaving (optional)"})

    _one_identity = exactly_one_of("ticket_code", "registration_id",
                                   message="Give either ticket_code or registration_id.")


class CheckInOutput(Schema):
    id = fields.Integer()
    registration_id = fields.Integer()
    email = fields.String()
    session = fields.String(attribute="session_code")
    day = fields.Date()
    checked_in_at = fields.AwareDateTime()
    checked_out_at = fields.AwareDateTime(allow_none=True)
    repeated = fields.Boolean()


class ReportUpload(Schema):
    timezone = TimeZone(metadata={"description": "zone of times without offset; default: the event's"})


class PollReportUpload(ReportUpload):
    session = fields.String(validate=validate.Length(min=1, max=40), metadata={
        "description": "the session the polls ran in, for parallel sessions; default: the session whose window "
                       "holds each answer"})


class FileUpload(Schema):
    file = fields.Raw(metadata={"type": "string", "format": "binary"})


class ReportOutput(Schema):
    id = fields.Integer()
    format = fields.String()
    filename = fields.String(allow_none=True)
    timezone = fields.String()
    rows_read = fields.Integer()
    matched = fields.Integer()
    unmatched = fields.Function(lambda r: sum(1 for row in r.unmatched_rows if row.get("registration_id") is None),
                                metadata={"description": "rows still matched to nobody"})
    unmatched_rows = fields.List(fields.Dict(), metadata={
        "description": "rows whose address matched no registration: line, name, email, join, leave (a poll "
                       "report's: poll, submitted); a row matched by hand since carries its registration_id"})
    skipped_rows = fields.List(fields.Dict())
    metadata = fields.Dict(attribute="report_metadata")
    uploaded_at = fields.AwareDateTime()
    source = fields.String(metadata={"description": "upload (a file), or zoom-api (Zoom's participants report, "
                                                    "fetched after the webinar ended)"})
    source_reference = fields.String(allow_none=True, metadata={"description": "e.g. 'webinar 81234567890'"})
    fetched_at = fields.AwareDateTime(allow_none=True, metadata={"description": "when Zoom was asked"})
    repeated = fields.Boolean(dump_default=False,
                              metadata={"description": "the same file was uploaded before; nothing changed"})


class ImportedParticipant(Schema):
    line = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1),
                          metadata={"description": "the row's place in Zoom's report (1 = first)"})
    registration_id = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=2**31 - 1),
                                     metadata={"description": "the registration its registrant ID found"})
    email = fields.String(load_default="", validate=validate.Length(max=254))
    name = fields.String(load_default="", validate=validate.Length(max=300))
    join_time = Moment(required=True)
    leave_time = Moment(required=True)


class SkippedParticipant(Schema):
    line = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=200))


class AttendanceImport(Schema):
    """Zoom's participants report of one webinar, as registration fetched and matched it."""

    organisation_id = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))
    webinar_id = fields.String(required=True, validate=Pattern(r"^[0-9]{1,30}$"))
    fetched_at = Moment(required=True)
    participants = fields.List(fields.Nested(ImportedParticipant), required=True,
                               validate=validate.Length(max=100_000))
    skipped = fields.List(fields.Nested(SkippedParticipant), load_default=list, validate=validate.Length(max=100_000))


class ReportList(Schema):
    items = fields.List(fields.Nested(ReportOutput))


class MatchInput(Schema):
    report_id = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))
    line = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1),
                          metadata={"description": "the unmatched row's line in the file (its 'line')"})
    registration_id = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1),
                                     metadata={"description": "a confirmed registration of the event"})


class EvaluationRecord(Schema):
    registration_id = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))


class JobOutput(Schema):
    id = fields.String()
    event = fields.String(attribute="event_slug")
    status = fields.String(metadata={"description": "queued, running, done or failed"})
    total = fields.Integer()
    processed = fields.Integer()
    issued = fields.Integer()
    reissued = fields.Integer()
    unchanged = fields.Integer()
    not_eligible = fields.Integer()
    error = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    finished_at = fields.AwareDateTime(allow_none=True)


class CertificateOutput(Schema):
    code = fields.String()
    registration_id = fields.Integer()
    email = fields.String()
    participant = fields.String()
    credits = DecimalText(metadata={"description": "in the event's first credit system"})
    credits_by_system = fields.Dict(keys=fields.String(), values=fields.String(), metadata={
        "description": "the credits printed in each credit system, e.g. {\"ECMEC\": \"1.5\"}; "
                       "a system that prints nothing is left out"})
    supported_by_system = fields.Dict(keys=fields.String(), values=fields.String(), metadata={
        "description": "what attendance supports in each system that requires a claim"})
    revision = fields.Integer()
    download_url = fields.String()
    badge_url = fields.String()
    credential_url = fields.String(metadata={
        "description": "the signed Open Badges 3.0 credential (VC-JWT, application/vc+jwt), behind the same "
                       "unguessable token as download_url"})
    verify_url = fields.String()
    revoked = fields.Boolean()
    revoked_reason = fields.String(allow_none=True)
    issued_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


class ReissueOutput(CertificateOutput):
    outcome = fields.String(metadata={"description": "reissued (a new revision, same code), or unchanged"})


class CertificateList(Schema):
    items = fields.List(fields.Nested(CertificateOutput))


class ListQuery(Schema):
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "csv")))


class CreditsQuery(Schema):
    registration_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))


class CreditsOutput(Schema):
    items = fields.List(fields.Dict(), metadata={"description": "per person: total, eligible, sessions, explanation"})


class RevokeInput(Schema):
    reason = Text(500, required=True)
