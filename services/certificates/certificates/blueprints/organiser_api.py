"""Organiser API: credit rules, check-ins, attendance reports, issuing, the certificate list.

Every route keyed by an event's slug is ``organiser_event_required``: another organisation's
event is a 404, even where only this service's own rows would be read."""
from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

from flask import request
from flask.views import MethodView
from sqlalchemy import select

from suite_common.api import CSV, ORGANISER, SuiteBlueprint
from suite_common.auth import current_organisation, organiser_required
from suite_common.csvexport import csv_chunks, csv_response
from suite_common.db import get_session
from suite_common.errors import ApiError, not_found, validation_error
from suite_common.events import organiser_event_required

from ..models import AttendanceInterval, AttendanceReport, Evaluation, IssueJob
from ..schemas.certificates import (
    AccreditationInput,
    AccreditationOutput,
    CertificateList,
    CertificateOutput,
    CheckInInput,
    CheckInOutput,
    CreditsOutput,
    CreditsQuery,
    EvaluationRecord,
    FileUpload,
    JobOutput,
    ListQuery,
    MatchInput,
    PollReportUpload,
    ReissueOutput,
    ReportList,
    ReportOutput,
    ReportUpload,
    RevokeInput,
)
from ..schemas.evaluations import EvaluationResults
from ..schemas.presence import PresenceCodeInput, PresenceCodeList, PresenceCodeOutput
from ..services import accreditation as accreditation_service
from ..services import attendance, certificates, evaluations, issuing, polls, presence, registry

blp = SuiteBlueprint("organiser_api", __name__, url_prefix="/api/v1", description="Organiser API (bearer token)")

MAX_REPORT_BYTES = 20 * 1024 * 1024
MAX_IMAGE_BYTES = 2 * 1024 * 1024


def _org() -> int:
    return current_organisation().id


def _uploaded(limit: int) -> tuple[bytes, str | None]:
    upload = request.files.get("file")
    if upload is None:
        raise validation_error({"file": ["Attach the file as multipart field 'file'."]})
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise ApiError(413, "payload_too_large", f"The file is larger than {limit // (1024 * 1024)} MB.")
    return data, upload.filename


@blp.route("/events/<slug:slug>/accreditation")
class AccreditationView(MethodView):
    decorators = [organiser_event_required]

    @blp.doc(security=ORGANISER)
    @blp.response(200, AccreditationOutput)
    @blp.alt_response(404, description="no credit rules set for this event")
    def get(self, slug: str) -> Any:
        found = accreditation_service.get(get_session(), _org(), slug)
        if found is None:
            raise not_found("accreditation")
        return found

    @blp.doc(security=ORGANISER)
    @blp.arguments(AccreditationInput)
    @blp.response(200, AccreditationOutput)
    @blp.alt_response(404, description="no such event in this organisation")
    def put(self, data: dict[str, Any], slug: str) -> Any:
        """The event's credit rules and certificate text; certificates issued later follow them."""
        session = get_session()
        found = accreditation_service.put(session, _org(), current_organisation().name, slug, data)
        return found


@blp.route("/events/<slug:slug>/accreditation/<any(logo, signature):image>", methods=["PUT"])
@organiser_event_required
@blp.doc(security=ORGANISER)
@blp.arguments(FileUpload, location="files")
@blp.response(200, AccreditationOutput)
def put_image(_files: dict[str, Any], slug: str, image: str) -> Any:
    """A PNG (at most 2 MB) printed on the certificates: the society's logo or the signatory's signature."""
    data, _name = _uploaded(MAX_IMAGE_BYTES)
    session = get_session()
    found = accreditation_service.require(session, _org(), slug)
    accreditation_service.check_png(data)
    setattr(found, f"{image}_png", data)
    return found


@blp.route("/events/<slug:slug>/check-ins", methods=["POST"])
@organiser_event_required
@blp.doc(security=ORGANISER)
@blp.arguments(CheckInInput)
@blp.response(201, CheckInOutput)
@blp.alt_response(200, description="a check-out, back in after one, or a repeated scan (repeated: true, "
                                    "nothing changed)", schema=CheckInOutput)
@blp.alt_response(404, description="unknown ticket or registration")
@blp.alt_response(409, description="the registration is not confirmed (cancelled, waitlisted), or a check-out "
                                   "without a check-in")
@blp.alt_response(422, description="no such session, or a day without programme")
def check_in(data: dict[str, Any], slug: str) -> Any:
    """A door scan for a day or a session; scanning again is harmless. A day scan counts from the scan (or
    the day's first session) to check-out (or the day's last session); a session scan covers the session
    until check-out. Back in after a check-out starts a new stay."""
    session = get_session()
    record, outcome = attendance.check_in(session, _org(), slug, data)
    record.repeated = outcome == "repeated"
    return record, 201 if outcome == "created" else 200


@blp.route("/events/<slug:slug>/attendance-reports")
class Reports(MethodView):
    decorators = [organiser_event_required]

    @blp.doc(security=ORGANISER)
    @blp.arguments(ReportUpload, location="form")
    @blp.arguments(FileUpload, location="files")
    @blp.response(201, ReportOutput)
    @blp.alt_response(200, description="the same file again: nothing changed", schema=ReportOutput)
    @blp.alt_response(422, description="the file cannot be read: which line and why")
    def post(self, form: dict[str, Any], _files: dict[str, Any], slug: str) -> Any:
        """A Zoom webinar/meeting or Microsoft Teams attendance report (CSV, any encoding they use)."""
        timezone = _timezone(form)
        data, filename = _uploaded(MAX_REPORT_BYTES)
        session = get_session()
        outcome = attendance.upload_report(session, _org(), slug, data, filename, timezone)
        outcome.report.repeated = not outcome.created
        return outcome.report, 201 if outcome.created else 200

    @blp.doc(security=ORGANISER)
    @blp.response(200, ReportList)
    def get(self, slug: str) -> Any:
        reports = get_session().scalars(select(AttendanceReport).where(
            AttendanceReport.organisation_id == _org(), AttendanceReport.event_slug == slug)
            .order_by(AttendanceReport.id))
        return {"items": list(reports)}


def _timezone(form: dict[str, Any]) -> str | None:
    timezone = form.get("timezone") or None
    if timezone is not None and timezone not in available_timezones():
        raise validation_error({"timezone": ["Unknown time zone; use an IANA name such as Europe/Vienna."]})
    return timezone


@blp.route("/events/<slug:slug>/poll-reports", methods=["POST"])
@organiser_event_required
@blp.doc(security=ORGANISER)
@blp.arguments(PollReportUpload, location="form")
@blp.arguments(FileUpload, location="files")
@blp.response(201, ReportOutput)
@blp.alt_response(200, description="the same file (and choices) again: nothing changed", schema=ReportOutput)
@blp.alt_response(422, description="the file cannot be read (which line and why), or no such session")
def poll_report(form: dict[str, Any], _files: dict[str, Any], slug: str) -> Any:
    """A Zoom webinar or meeting poll report (CSV or .xlsx): each poll a registered participant answered within
    a session's window is a presence check of that session (metadata.polls lists them per session). Listed
    with the attendance reports (format zoom-webinar-poll or zoom-meeting-poll)."""
    timezone = _timezone(form)
    data, filename = _uploaded(MAX_REPORT_BYTES)
    outcome = polls.upload_poll_report(get_session(), _org(), slug, data, filename, timezone, form.get("session"))
    outcome.report.repeated = not outcome.created
    return outcome.report, 201 if outcome.created else 200


@blp.route("/events/<slug:slug>/presence-codes")
class PresenceCodes(MethodView):
    decorators = [organiser_event_required]

    @blp.doc(security=ORGANISER)
    @blp.arguments(PresenceCodeInput)
    @blp.response(201, PresenceCodeOutput)
    @blp.alt_response(409, description="the event has this code already")
    @blp.alt_response(422, description="no such session, or a window that ends before it starts")
    def post(self, data: dict[str, Any], slug: str) -> Any:
        """An attendance code for one session, to announce live; it counts when a participant enters it on
        their page within its window (default: the session's). Without ``code``, one is generated."""
        return presence.create_code(get_session(), _org(), slug, data)

    @blp.doc(security=ORGANISER)
    @blp.response(200, PresenceCodeList)
    def get(self, slug: str) -> Any:
        """The event's codes, each with how many participants entered it in time."""
        return {"items": presence.list_codes(get_session(), _org(), slug)}


@blp.route("/events/<slug:slug>/attendance-matches", methods=["POST"])
@organiser_event_required
@blp.doc(security=ORGANISER)
@blp.arguments(MatchInput)
@blp.response(200, ReportOutput)
@blp.alt_response(404, description="no such report in this event, or no unmatched row from that line")
@blp.alt_response(409, description="the row is matched to another registration already")
@blp.alt_response(422, description="not a confirmed registration of this event")
def match_row(data: dict[str, Any], slug: str) -> Any:
    """Matches an unmatched row of a report (by its line in the file) to a registration by hand, e.g. a
    participant who joined with another address; answers the report. The same match again changes nothing."""
    return attendance.match_row(get_session(), _org(), slug, data["report_id"], data["line"],
                                data["registration_id"])


@blp.route("/events/<slug:slug>/attendance", methods=["GET"])
@organiser_event_required
@blp.doc(security=ORGANISER, responses={"200": {"content": {"text/csv": {"schema": {"type": "string"}}}}})
def attendance_export(slug: str) -> Any:
    """Every interval of attendance behind the credits, as CSV: what an accreditation body may ask to see."""
    session = get_session()
    rows = session.execute(select(
        AttendanceInterval.registration_id, AttendanceInterval.email, AttendanceInterval.session_code,
        AttendanceInterval.starts_at, AttendanceInterval.ends_at, AttendanceInterval.source,
    ).where(AttendanceInterval.organisation_id == _org(), AttendanceInterval.event_slug == slug)
        .order_by(AttendanceInterval.registration_id, AttendanceInterval.starts_at)).all()
    header = ("registration_id", "email", "session", "start_utc", "end_utc", "source")
    return csv_response(csv_chunks(header, [rows]), f"{slug}-attendance.csv")


@blp.route("/events/<slug:slug>/credits", methods=["GET"])
@organiser_event_required
@blp.doc(security=ORGANISER)
@blp.arguments(CreditsQuery, location="query")
@blp.response(200, CreditsOutput)
def credits(query: dict[str, Any], slug: str) -> Any:
    """What each person has earned so far and why, computed now, whether or not certificates are issued."""
    return {"items": certificates.explain(get_session(), _org(), slug, query.get("registration_id"))}


@blp.route("/events/<slug:slug>/evaluations")
class Evaluations(MethodView):
    decorators = [organiser_event_required]

    @blp.doc(security=ORGANISER)
    @blp.arguments(EvaluationRecord)
    @blp.response(201, EvaluationRecord)
    def post(self, data: dict[str, Any], slug: str) -> Any:
        """Records that a participant completed the evaluation elsewhere (on paper, another tool)."""
        session = get_session()
        evaluations.record_elsewhere(session, _org(), slug, data["registration_id"])
        return data

    @blp.doc(security=ORGANISER, responses={"200": {"content": {"text/csv": {"schema": {"type": "string"}}}}})
    def get(self, slug: str) -> Any:
        """The overall evaluation's answers as CSV, one column per question (the sessions' are in
        evaluation-results)."""
        session = get_session()
        rules = accreditation_service.get(session, _org(), slug)
        questions = [q["id"] for q in (rules.evaluation_questions if rules else [])]
        rows = session.scalars(select(Evaluation).where(
            Evaluation.organisation_id == _org(), Evaluation.event_slug == slug,
            Evaluation.session_code == evaluations.OVERALL).order_by(Evaluation.id))
        data = [[e.registration_id, e.completed_at, e.recorded_by, *[e.answers.get(q) for q in questions]]
                for e in rows]
        return csv_response(csv_chunks(("registration_id", "completed_at", "recorded_by", *questions), [data]),
                            f"{slug}-evaluations.csv")


@blp.route("/events/<slug:slug>/evaluation-results", methods=["GET"])
@organiser_event_required
@blp.doc(security=ORGANISER)
@blp.alt_response(200, schema=CSV, content_type="text/csv", success=True,
                  description="CSV with format=csv: one row per section × question; a question's free texts "
                              "in one cell, separated by a blank line")
@blp.alt_response(409, description="no credit rules set for this event")
@blp.arguments(ListQuery, location="query")
@blp.response(200, EvaluationResults)
def evaluation_results(query: dict[str, Any], slug: str) -> Any:
    """The evaluation results for the accreditor's report: overall and per session, per question the
    number of answers, the mean and distribution of ratings, yes/no counts and the free texts (no names)."""
    found = evaluations.results(get_session(), _org(), slug, registry.event(_org(), slug).sessions)
    if query["format"] == "csv":
        return csv_response(csv_chunks(evaluations.CSV_HEADER, [evaluations.results_rows(found)]),
                            f"{slug}-evaluation-results.csv")
    return found


@blp.route("/events/<slug:slug>/certificates")
class Certificates(MethodView):
    decorators = [organiser_event_required]

    @blp.doc(security=ORGANISER)
    @blp.response(202, JobOutput)
    @blp.alt_response(409, description="no credit rules set for this event")
    def post(self, slug: str) -> Any:
        """Computes credits and issues certificates for everyone eligible, in the background (see the job)."""
        session = get_session()
        job = issuing.start_job(session, _org(), slug)
        return job

    @blp.doc(security=ORGANISER)
    @blp.alt_response(200, schema=CSV, content_type="text/csv", success=True, description="CSV with format=csv")
    @blp.arguments(ListQuery, location="query")
    @blp.response(200, CertificateList)
    def get(self, query: dict[str, Any], slug: str) -> Any:
        """Who got what; ``format=csv`` gives the list an accreditation body asks for."""
        session = get_session()
        items = certificates.for_event(session, _org(), slug)
        if query["format"] == "csv" or (
                "format" not in request.args and request.accept_mimetypes.best == "text/csv"):
            printed, supported = certificates.system_codes(session, _org(), slug, items)
            header = ("code", "registration_id", "email", "participant", "credits", "body", "revision",
                      "issued_at", "revoked", "verify_url", *(f"credits_{code}" for code in printed),
                      *(f"supported_{code}" for code in supported))
            rows = [[c.code, c.registration_id, c.email, c.participant, c.credits, c.snapshot["credit_body"],
                     c.revision, c.issued_at, c.revoked_at is not None, certificates.links(c)["verify_url"],
                     *(c.credits_by_system.get(code) for code in printed),
                     *(c.supported_by_system.get(code) for code in supported)]
                    for c in items]
            return csv_response(csv_chunks(header, [rows]), f"{slug}-certificates.csv")
        return {"items": [certificates.with_links(c) for c in items]}


@blp.route("/jobs/<job_id>", methods=["GET"])
@organiser_required
@blp.doc(security=ORGANISER)
@blp.response(200, JobOutput)
@blp.alt_response(404, description="no such job in this organisation")
def job(job_id: str) -> Any:
    found = get_session().get(IssueJob, job_id[:32])
    if found is None or found.organisation_id != _org():
        raise not_found("job")
    return found


@blp.route("/certificates/<code>/revoke", methods=["POST"])
@organiser_required
@blp.doc(security=ORGANISER)
@blp.arguments(RevokeInput)
@blp.response(200, CertificateOutput)
@blp.alt_response(404, description="no such certificate in this organisation")
def revoke(data: dict[str, Any], code: str) -> Any:
    """Revokes for good; the certificate's signed credential then reads "revoked" in its status list."""
    return certificates.with_links(certificates.revoke(get_session(), _org(), code, data["reason"]))


@blp.route("/certificates/<code>/reissue", methods=["POST"])
@organiser_required
@blp.doc(security=ORGANISER)
@blp.response(200, ReissueOutput)
@blp.alt_response(404, description="no such certificate in this organisation")
@blp.alt_response(409, description="revoked, the registration is no longer confirmed, or no credits any more")
def reissue(code: str) -> Any:
    """Re-issues the certificate now with the participant's current name (after a name correction) and
    credits: same code and link, a new revision, the mail again. Nothing to change: outcome unchanged."""
    certificate, outcome = issuing.reissue(get_session(), _org(), code)
    return {**certificates.with_links(certificate), "outcome": outcome}

