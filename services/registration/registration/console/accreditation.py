"""Attendance, check-in at the door, the credit rules, issuing and the certificate list.

These are the certificates service's: every page reads and writes through its organiser API
(``remote``) as the signed-in person, so its rules, validation and role checks apply unchanged,
and its refusals are shown on the form they came from. Registration's own lookups still come
first: another organisation's event is a 404 here before anything is asked over there.
"""
from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

from flask import abort, flash, jsonify, request
from werkzeug.wrappers import Response

from suite_common.db import get_session
from suite_common.errors import ApiError

from ..blueprints.lookups import organiser_event, organiser_registration
from ..models import Event, Role
from ..schemas.registrations import RosterQuery
from ..services import roster
from ..services.zoom import attendance as zoom_attendance
from . import credit_systems, remote
from .core import current_person, messages_of, render, route, see_other

CERTIFICATES = "certificates"
BLANK_QUESTIONS = 3  # empty question rows offered below the existing ones
MAX_QUESTION_ROWS = 40  # the API takes 30 questions; the form never has more rows than this
QUESTION_FIELDS = ("id", "text", "kind")
# The form's two lists of questions: the overall evaluation's (rows q-N-...) and the one asked per attended
# session (rows sq-N-...), each as the API's field names them.
QUESTION_LISTS = {"q": "evaluation_questions", "sq": "session_questions"}
QUESTION_ROWS = {"q": "question_rows", "sq": "session_question_rows"}  # how many rows the form had
RULE_LABELS = {
    "body": "Accrediting body", "credit_unit": "Credit unit", "statement": "Accreditation statement",
    "max_credits": "Most credits for the event", "credit_step": "Credit step", "credit_mode": "Credit mode",
    "min_session_share": "Least share of a session", "max_credits_per_day": "Most credits per day",
    "daily_caps": "Different caps on some days", "evaluation_required": "Evaluation required",
    "evaluation_questions": "Evaluation questions", "session_questions": "Questions for each session attended",
    "signatory": "Signatory", "signatory_title": "Signatory's title",
    "organisation_name": "Organisation printed",
    "presence-code": "Presence code", "presence-session": "Session of the presence code",
    **{f"q-{index}-{field}": f"Question {index + 1}, {field}"
       for index in range(MAX_QUESTION_ROWS) for field in QUESTION_FIELDS},
    **{f"sq-{index}-{field}": f"Session question {index + 1}, {field}"
       for index in range(MAX_QUESTION_ROWS) for field in QUESTION_FIELDS},
}


# What the job page's script reads of a job.
JOB_FIELDS = ("status", "total", "processed", "issued", "reissued", "unchanged", "not_eligible")
TEXT_RULES = ("body", "credit_unit", "statement", "max_credits", "credit_step", "credit_mode", "min_session_share",
              "max_credits_per_day", "daily_caps", "signatory", "signatory_title", "organisation_name")


def _api(slug: str, tail: str = "") -> str:
    return f"/api/v1/events/{quote(slug, safe='')}{tail}"


def _if_found(path: str) -> Any:
    """The JSON at ``path``, or None for a 404: the event is known to be ours (checked first), so a 404
    there means "nothing yet" (no rules set), not "not yours"."""
    try:
        return remote.get_json(CERTIFICATES, path)
    except ApiError as error:
        if error.status == 404:
            return None
        raise


# Attendance -----------------------------------------------------------------------------------------------


def _confirmed_registrations(event: Event) -> list[Any]:
    """Whom an unmatched row may be matched to: the confirmed registrations (the first thousand, by id)."""
    filters = RosterQuery().load({"status": "confirmed", "limit": 1000})
    return roster.roster_page(get_session(), event, filters)[0]


def _attendance_page(slug: str, status: int = 200, errors: dict[str, list[str]] | None = None,
                     refusal: str | None = None) -> tuple[str, int]:
    event = organiser_event(slug)
    reports = remote.get_json(CERTIFICATES, _api(slug, "/attendance-reports"))["items"]
    # Whom a row may be matched to, and the names of those matched by hand already.
    registrations = _confirmed_registrations(event) if any(r["unmatched_rows"] for r in reports) else []
    may_edit = current_person().may(Role.STAFF)
    names = {r.id: f"{r.given_name} {r.family_name}" for r in registrations}
    return render("console/attendance.html", status, event=event, reports=list(reversed(reports)),
                  registrations=registrations, names=names, may_edit=may_edit, errors=errors or {},
                  refusal=refusal, values=request.form,
                  zoom_fetches=zoom_attendance.fetches_of(get_session(), event)[:5])


@route("/events/<slug:slug>/attendance", Role.VIEWER)
def attendance(slug: str) -> tuple[str, int]:
    return _attendance_page(slug)


@route("/events/<slug:slug>/attendance/reports", Role.STAFF, methods=("POST",))
def attendance_upload(slug: str) -> Any:
    """Forwards the platform's report as it came; the certificates service reads it and answers the counts."""
    organiser_event(slug)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _attendance_page(slug, 422, errors={"file": ["Choose the report file to upload."]})
    timezone = request.form.get("timezone", "").strip()
    poll = request.form.get("kind") == "poll"  # Zoom's poll report: presence checks, not attendance
    try:
        answer = remote.call(CERTIFICATES, "POST", _api(slug, "/poll-reports" if poll else "/attendance-reports"),
                             files={"file": (upload.filename, upload.stream, upload.mimetype or "text/csv")},
                             data={"timezone": timezone} if timezone else None).json()
    except remote.Refused as refusal:
        return _attendance_page(slug, 422, errors=_flat(refusal.fields), refusal=refusal.message)
    if answer.get("repeated"):
        flash("This report was uploaded before; nothing changed.", "warning")
    elif poll:
        flash(f"Poll report read: {answer['rows_read']} answers, {answer['matched']} counted as presence checks, "
              f"{answer['unmatched']} unmatched, {len(answer['skipped_rows'])} skipped.")
    else:
        flash(f"Report read: {answer['rows_read']} rows, {answer['matched']} matched, "
              f"{answer['unmatched']} unmatched, {len(answer['skipped_rows'])} skipped.")
    return see_other("console.attendance", slug=slug)


@route("/events/<slug:slug>/attendance/zoom-fetch", Role.STAFF, methods=("POST",))
def attendance_zoom_fetch(slug: str) -> Any:
    """Asks for Zoom's participants report now (registration's worker fetches it within seconds); the
    report then appears below like an uploaded one, as source zoom-api."""
    event = organiser_event(slug)
    try:
        zoom_attendance.fetch_by_hand(get_session(), event)
    except zoom_attendance.NotLinked as refusal:
        return _attendance_page(slug, 409, refusal=str(refusal))
    flash("Zoom's participants report will be fetched in a moment; reload this page to see it.")
    return see_other("console.attendance", slug=slug)


@route("/events/<slug:slug>/attendance/match", Role.STAFF, methods=("POST",))
def attendance_match(slug: str) -> Any:
    """Matches one unmatched row to the registration chosen; the service checks that it is a confirmed
    registration of this event and that the row is not matched to someone else."""
    organiser_event(slug)
    body = {name: request.form.get(name, "").strip() for name in ("report_id", "line", "registration_id")}
    if not body["registration_id"]:
        return _attendance_page(slug, 422, errors={"registration_id": ["Choose the registration to match."]})
    try:
        remote.call(CERTIFICATES, "POST", _api(slug, "/attendance-matches"), json=body)
    except remote.Refused as refusal:
        return _attendance_page(slug, 422, errors=_flat(refusal.fields), refusal=refusal.message)
    except ApiError as error:
        if error.status != 404:
            raise
        return _attendance_page(slug, 422, refusal=error.message)
    registration = organiser_registration(int(body["registration_id"]))
    flash(f"Line {body['line']} is now {registration.given_name} {registration.family_name}'s attendance.")
    return see_other("console.attendance", slug=slug)


# Check-in at the door -------------------------------------------------------------------------------------


@route("/events/<slug:slug>/check-in", Role.STAFF, methods=("GET", "POST"))
def check_in(slug: str) -> Any:
    """Type (or scan) a ticket code; the result is shown above an empty, focused field for the next one.
    An unknown ticket or a registration that gives no entry is shown as the refusal, not an error page."""
    event = organiser_event(slug)
    session_code = (request.form.get("session") if request.method == "POST" else request.args.get("session")) or ""
    if request.method == "GET":
        return render("console/check_in.html", event=event, session_code=session_code, errors={}, refusal=None)
    code = request.form.get("ticket_code", "").strip()
    if not code:
        return render("console/check_in.html", 422, event=event, session_code=session_code, refusal=None,
                      errors={"ticket_code": ["Enter the ticket code."]})
    body = {"ticket_code": code, **({"session": session_code} if session_code else {})}
    try:
        answer = remote.call(CERTIFICATES, "POST", _api(slug, "/check-ins"), json=body).json()
    except remote.Refused as refusal:
        return render("console/check_in.html", 422, event=event, session_code=session_code,
                      errors=_flat(refusal.fields), refusal=f"Not checked in: {refusal.message}")
    except ApiError as error:
        if error.status != 404:
            raise
        return render("console/check_in.html", 422, event=event, session_code=session_code, errors={},
                      refusal=f"Not checked in: {error.message} ({code})")
    person = organiser_registration(answer["registration_id"])
    where = next((s.title for s in event.sessions if s.code == session_code), "the day")
    state = "already checked in" if answer.get("repeated") else "checked in"
    flash(f"{person.given_name} {person.family_name} ({person.reference}): {state} for {where}.")
    return see_other("console.check_in", slug=slug, **({"session": session_code} if session_code else {}))


# Accreditation rules --------------------------------------------------------------------------------------


def _rules_values(rules: dict[str, Any] | None) -> dict[str, Any]:
    """The form's fields from the rules the API answers (strings, as the inputs show them)."""
    if rules is None:
        return {"credit_step": "0.5", "credit_mode": "proportional", "min_session_share": "0", "questions": [],
                "session_questions": []}
    values = {name: "" if rules.get(name) is None else rules[name] for name in RULE_LABELS if name in rules}
    values["daily_caps"] = "\n".join(f"{day} = {cap}" for day, cap in sorted(rules["daily_caps"].items()))
    values["questions"] = rules["evaluation_questions"]
    values["session_questions"] = rules.get("session_questions", [])
    return values


def _rules_from_form() -> tuple[dict[str, Any], dict[str, Any]]:
    """The API's JSON body from the form, and the values to show again; checking is the API's."""
    form = request.form
    text = {name: form.get(name, "").strip() for name in TEXT_RULES}
    # A field left empty is left out, so the API's default applies (the credit unit, say), or its
    # "missing" error names a required one; an empty cap is sent as null: no cap.
    body: dict[str, Any] = {name: value for name, value in text.items() if value and name != "daily_caps"}
    for optional in ("max_credits", "max_credits_per_day"):
        body[optional] = body.get(optional) or None
    caps: dict[str, str] = {}
    for line in text["daily_caps"].splitlines():
        day, _, cap = line.partition("=")
        if line.strip():
            caps[day.strip()] = cap.strip()
    body["daily_caps"] = caps
    body["evaluation_required"] = form.get("evaluation_required") == "yes"
    body["evaluation_questions"] = _questions_from_form("q")
    body["session_questions"] = _questions_from_form("sq")
    return body, {**text, "evaluation_required": body["evaluation_required"],
                  "questions": body["evaluation_questions"], "session_questions": body["session_questions"]}


def _questions_from_form(prefix: str) -> list[dict[str, Any]]:
    """The filled rows ``<prefix>-N-...`` of one question list; a row with neither id nor text is left out."""
    form = request.form
    count = form.get(QUESTION_ROWS[prefix], "")
    questions = []
    for index in range(min(int(count), MAX_QUESTION_ROWS) if count.isdigit() else 0):
        question = {name: form.get(f"{prefix}-{index}-{name}", "").strip() for name in QUESTION_FIELDS}
        if question["id"] or question["text"]:
            questions.append({**question, "required": form.get(f"{prefix}-{index}-required") == "yes"})
    return questions


def _presence_codes(slug: str) -> list[dict[str, Any]]:
    """The event's presence codes as the API lists them, their windows as times for the page."""
    return [{**item, "valid_from": dt.datetime.fromisoformat(item["valid_from"]),
             "valid_until": dt.datetime.fromisoformat(item["valid_until"])}
            for item in remote.get_json(CERTIFICATES, _api(slug, "/presence-codes"))["items"]]


def _accreditation_page(slug: str, status: int = 200, errors: dict[str, list[str]] | None = None) -> tuple[str, int]:
    event = organiser_event(slug)
    rules = _if_found(_api(slug, "/accreditation"))
    results = remote.get_json(CERTIFICATES, _api(slug, "/evaluation-results")) if rules else None
    return render("console/accreditation.html", status, event=event, rules=rules, values=_rules_values(rules),
                  errors=errors or {}, labels=RULE_LABELS, blank_questions=BLANK_QUESTIONS,
                  editable=current_person().may(Role.STAFF), results=results,
                  systems=(rules or {}).get("credit_systems") or [],
                  presence_codes=_presence_codes(slug) if rules else [])


@route("/events/<slug:slug>/accreditation", Role.VIEWER)
def accreditation(slug: str) -> tuple[str, int]:
    return _accreditation_page(slug)


@route("/events/<slug:slug>/presence-codes", Role.STAFF, methods=("POST",))
def presence_code_create(slug: str) -> Any:
    """Adds a presence code for a session (generated when left empty), valid during the session; the
    service refuses a code the event has already, shown beside the field."""
    organiser_event(slug)
    body = {"session": request.form.get("session", "").strip(), "code": request.form.get("code", "").strip()}
    try:
        answer = remote.call(CERTIFICATES, "POST", _api(slug, "/presence-codes"),
                             json={name: value for name, value in body.items() if value}).json()
    except remote.Refused as refusal:
        errors = {f"presence-{name}": messages for name, messages in _flat(refusal.fields).items()}
        return _accreditation_page(slug, 422, errors=errors or {"presence-code": [refusal.message]})
    flash(f"Presence code {answer['code']} added for {answer['session']}.")
    return see_other("console.accreditation", slug=slug)


@route("/events/<slug:slug>/evaluation-results.csv", Role.VIEWER)
def evaluation_results_csv(slug: str) -> Response:
    """The certificates service's evaluation results CSV (the accreditor's report), passed on as it streams."""
    organiser_event(slug)
    try:
        answer = remote.call(CERTIFICATES, "GET", _api(slug, "/evaluation-results"), params={"format": "csv"},
                             stream=True)
    except remote.Refused as refusal:  # no credit rules yet
        flash(refusal.message, "warning")
        return see_other("console.accreditation", slug=slug)
    return Response(answer.iter_content(chunk_size=64 * 1024), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{slug}-evaluation-results.csv"'})


@route("/events/<slug:slug>/accreditation", Role.STAFF, methods=("POST",))
def accreditation_save(slug: str) -> Any:
    """Replaces the event's credit rules with the form's (PUT); the API's errors come back per field.
    The event's credit systems are read just before and kept (``_keeping_systems``)."""
    event = organiser_event(slug)
    body, values = _rules_from_form()
    systems = (credit_systems.current_accreditation(slug) or {}).get("credit_systems") or []
    try:
        remote.call(CERTIFICATES, "PUT", _api(slug, "/accreditation"), json=_keeping_systems(body, systems))
    except remote.Refused as refusal:
        fields = _one_systems_errors(refusal.fields) if len(systems) == 1 else refusal.fields
        return render("console/accreditation.html", 422, event=event, rules=None, values=values,
                      errors=_flat(fields) or {"_schema": [refusal.message]}, labels=RULE_LABELS,
                      blank_questions=BLANK_QUESTIONS, editable=True, systems=systems)
    flash("Credit rules saved. Certificates issued from now on follow them.")
    return see_other("console.accreditation", slug=slug)


# What the form does not show of an event's one credit system, kept when the form saves its rules.
KEPT_OF_ONE_SYSTEM = ("code", "claim_required", "presence_codes_required", "claim_closes_at")


def _keeping_systems(body: dict[str, Any], systems: list[dict[str, Any]]) -> dict[str, Any]:
    """The form's body, keeping the event's credit systems. Without any yet, it is the single-system body
    (the one system CME). With one, the form edits that system's rules and its code, claim and presence
    settings stay: it goes as ``credit_systems`` (the single-system body would make it CME again). With
    several, the form shows no rules: the systems go back as they are, beside the form's event-level fields."""
    if not systems:
        return body
    event_fields = {name: value for name, value in body.items() if name not in credit_systems.SINGLE_SYSTEM_FIELDS}
    if len(systems) > 1:
        return {**event_fields, "credit_systems": [credit_systems.as_sent(system) for system in systems]}
    (system,) = systems
    rules = {name: value for name, value in body.items()
             if name in credit_systems.SINGLE_SYSTEM_FIELDS and name != "credit_unit"}
    # An emptied body or statement goes empty, for the API to refuse, rather than the old one kept unseen.
    edited = {**{name: system[name] for name in KEPT_OF_ONE_SYSTEM if name in system}, "body": "", "statement": "",
              **rules, "name": body.get("credit_unit") or system["name"]}
    return {**event_fields, "credit_systems": [edited]}


def _one_systems_errors(fields: dict[str, Any]) -> dict[str, Any]:
    """The API's errors about the one system sent (``credit_systems``, item 0) under the form's field names;
    the system's name is the form's credit unit."""
    nested = fields.get("credit_systems")
    if not isinstance(nested, dict):
        return fields
    named = {name: messages for name, messages in fields.items() if name != "credit_systems"}
    for messages in nested.values():
        if isinstance(messages, dict):
            named.update({"credit_unit" if name == "name" else name: problems for name, problems in messages.items()})
        else:
            named["_schema"] = messages
    return named


def _flat(fields: dict[str, Any]) -> dict[str, list[str]]:
    """The API's field errors keyed by the form's field ids: a question's (evaluation_questions, item 1,
    text) is q-1-text; other nested errors (a day of daily_caps) are joined under their field."""
    flat: dict[str, list[str]] = {}
    for name, messages in fields.items():
        prefix = next((p for p, listed in QUESTION_LISTS.items() if listed == name), None)
        if prefix and isinstance(messages, dict):
            for index, nested in messages.items():
                for field, errors in (nested.items() if isinstance(nested, dict) else [("text", nested)]):
                    flat[f"{prefix}-{index}-{field}"] = messages_of(errors)
        else:
            flat[name] = messages_of(messages)
    return flat


# The accreditor reports, by the file each becomes: its path at certificates, query and type.
ACCREDITOR_REPORTS = {"pars.xlsx": ("pars", {}, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
                      "summary.pdf": ("summary", {"format": "pdf"}, "application/pdf"),
                      "learners.csv": ("learners", {}, "text/csv")}


@route("/events/<slug:slug>/accreditor-reports/<system>/<any('pars.xlsx', 'summary.pdf', 'learners.csv'):report>",
       Role.VIEWER)
def accreditor_report(slug: str, system: str, report: str) -> Response:
    """One of the certificates service's reports to accreditors for one credit system, passed on as it
    streams (audited there as a read of personal data)."""
    organiser_event(slug)
    path, query, mimetype = ACCREDITOR_REPORTS[report]
    try:
        answer = remote.call(CERTIFICATES, "GET", _api(slug, f"/accreditor-reports/{path}"),
                             params={"system": system[:20], **query}, stream=True)
    except remote.Refused as refusal:  # no credit rules, or no such system
        flash(refusal.message, "warning")
        return see_other("console.accreditation", slug=slug)
    return Response(answer.iter_content(chunk_size=64 * 1024), mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{slug}-{system[:20]}-{report}"'})


# Certificates ---------------------------------------------------------------------------------------------


def _certificates_page(slug: str, status: int = 200, errors: dict[str, list[str]] | None = None,
                       failed_code: str | None = None) -> tuple[str, int]:
    event = organiser_event(slug)
    listed = remote.get_json(CERTIFICATES, _api(slug, "/certificates"))["items"]
    try:
        explained = remote.get_json(CERTIFICATES, _api(slug, "/credits"))["items"]
        no_rules = None
    except remote.Refused as refusal:  # no credit rules yet: nothing to compute
        explained, no_rules = [], refusal.message
    by_person: dict[int, dict[str, Any]] = {}
    for item in explained:
        by_person[item["registration_id"]] = {"person": item, "certificates": []}
    for certificate in listed:
        row = by_person.setdefault(certificate["registration_id"], {"person": None, "certificates": []})
        row["certificates"].append(certificate)
    rows = sorted(by_person.values(), key=lambda r: (r["person"] or r["certificates"][0])["participant"].casefold())
    return render("console/certificates.html", status, event=event, rows=rows, no_rules=no_rules,
                  may_edit=current_person().may(Role.STAFF), errors=errors or {}, failed_code=failed_code,
                  issued=sum(1 for c in listed if not c["revoked"]))


@route("/events/<slug:slug>/certificates", Role.VIEWER)
def certificates(slug: str) -> tuple[str, int]:
    return _certificates_page(slug)


@route("/events/<slug:slug>/certificates", Role.STAFF, methods=("POST",))
def certificates_issue(slug: str) -> Any:
    """Starts the issuing job and follows it on its own page."""
    organiser_event(slug)
    try:
        job = remote.call(CERTIFICATES, "POST", _api(slug, "/certificates")).json()
    except remote.Refused as refusal:
        return _certificates_page(slug, 422, errors={"_schema": [refusal.message]})
    flash("Issuing started.")
    return see_other("console.job", slug=slug, job_id=job["id"])


@route("/events/<slug:slug>/jobs/<job_id>", Role.VIEWER)
def job(slug: str, job_id: str) -> Any:
    """The job's progress. The page's script (console-job.js) follows it through ``?format=json``
    and moves the bar; without JavaScript, "Check progress" reloads it. (A self-refreshing page,
    meta refresh, is what WCAG 2.2.1 asks not to do: it moves a screen reader's place every time.)"""
    event = organiser_event(slug)
    found = remote.get_json(CERTIFICATES, f"/api/v1/jobs/{quote(job_id, safe='')}")
    if found["event"] != event.slug:
        abort(404, description="No such job for this event.")
    if request.args.get("format") == "json":
        return jsonify({name: found.get(name) for name in JOB_FIELDS})
    finished = found["status"] in ("done", "failed")
    return render("console/job.html", event=event, job=found, finished=finished)


def _certificate_action(slug: str, code: str, action: str, body: dict[str, Any] | None) -> Any:
    try:
        return remote.call(CERTIFICATES, "POST", f"/api/v1/certificates/{quote(code, safe='')}/{action}",
                           json=body).json()
    except remote.Refused as refusal:
        errors = {f"{name}-{code}": messages for name, messages in _flat(refusal.fields).items()}
        return _certificates_page(slug, refusal.status, errors=errors or {"_schema": [refusal.message]},
                                  failed_code=code)


@route("/events/<slug:slug>/certificates/<code>/revoke", Role.STAFF, methods=("POST",))
def certificate_revoke(slug: str, code: str) -> Any:
    """Revokes with the reason given; verification says "revoked" from now on."""
    organiser_event(slug)
    answer = _certificate_action(slug, code, "revoke", {"reason": request.form.get("reason", "").strip()})
    if isinstance(answer, tuple):
        return answer
    flash(f"Certificate {answer['code']} of {answer['participant']} is revoked.")
    return see_other("console.certificates", slug=slug)


@route("/events/<slug:slug>/certificates/<code>/reissue", Role.STAFF, methods=("POST",))
def certificate_reissue(slug: str, code: str) -> Response | tuple[str, int]:
    """Re-issues with the person's current name (after a name correction): same code, a new revision."""
    organiser_event(slug)
    answer = _certificate_action(slug, code, "reissue", None)
    if isinstance(answer, tuple):
        return answer
    if answer["outcome"] == "unchanged":
        flash(f"Certificate {answer['code']} already says what it should; nothing changed.", "warning")
    else:
        flash(f"Certificate {answer['code']} re-issued for {answer['participant']} (revision {answer['revision']}).")
    return see_other("console.certificates", slug=slug)
