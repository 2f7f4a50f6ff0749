"""Evaluations: the overall one and one per attended session, the gate, and the results export.

The European Congress of Radiology practice (DOMAIN.md, "Evaluation as a gate") asks for an
evaluation of every session a participant attended and one of the whole event; accreditors then
ask for the results. "Evaluation completed" is decided here, in ``completed_ids``, and nowhere
else, so every credit system's gate reads the same answer.

Rows: ``Evaluation`` with ``session_code`` "" for the overall evaluation, a session's code for a
session's. A session counts as attended when any of the person's intervals (report rows and
check-ins, the same ones credits are computed from) overlaps its window; a check-in for one
session only counts for that session, as in the credits computation.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flask_babel import gettext
from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import select
from sqlalchemy.orm import Session

from suite_common.db import insert_many_once, insert_once, utcnow
from suite_common.errors import ApiError
from suite_common.fields import Text

from ..models import Evaluation
from . import accreditation as accreditation_service
from . import attendance, registry
from .credits import Interval
from .credits import Session as CreditSession

OVERALL = ""  # the session_code of the overall evaluation
RATINGS = ("1", "2", "3", "4", "5")
KEY = ("organisation_id", "event_slug", "registration_id", "session_code")


def attended(sessions: Sequence[CreditSession], intervals: Iterable[Interval]) -> list[CreditSession]:
    """The sessions any of these intervals overlaps (a moment of presence is enough to be asked)."""
    spans = list(intervals)
    return [s for s in sessions
            if any(i.session_code in (None, s.code) and i.start < s.ends_at and i.end > s.starts_at for i in spans)]


def _session_questions(session: Session, organisation_id: int, slug: str) -> list[dict[str, Any]]:
    rules = accreditation_service.get(session, organisation_id, slug)
    return list(rules.session_questions) if rules else []


def _rows(session: Session, organisation_id: int, slug: str, registration_id: int | None = None) -> list[Evaluation]:
    query = select(Evaluation).where(Evaluation.organisation_id == organisation_id, Evaluation.event_slug == slug)
    if registration_id is not None:
        query = query.where(Evaluation.registration_id == registration_id)
    return list(session.scalars(query.order_by(Evaluation.id)))


def completed_ids(session: Session, organisation_id: int, slug: str, sessions: Sequence[CreditSession],
                  intervals: Mapping[int, Sequence[Interval]]) -> set[int]:
    """Who has completed the evaluation: the overall one, and one for every attended session when the
    event asks session questions. An overall evaluation the organiser recorded (done on paper or in
    another tool) stands for the whole form.

    ``intervals``: the attendance of the people asked about (anyone missing attended nothing)."""
    questions = _session_questions(session, organisation_id, slug)
    overall: dict[int, str] = {}
    rated: dict[int, set[str]] = defaultdict(set)
    for registration_id, code, recorded_by in session.execute(
            select(Evaluation.registration_id, Evaluation.session_code, Evaluation.recorded_by).where(
                Evaluation.organisation_id == organisation_id, Evaluation.event_slug == slug)):
        if code == OVERALL:
            overall[registration_id] = recorded_by
        else:
            rated[registration_id].add(code)
    return {registration_id for registration_id, recorded_by in overall.items()
            if recorded_by == "organiser" or not questions
            or {s.code for s in attended(sessions, intervals.get(registration_id, []))} <= rated[registration_id]}


@dataclass(frozen=True)
class ParticipantState:
    """What the participant's page shows: the questions, and what is still to be answered."""

    required: bool  # the certificate waits for the evaluation
    overall_questions: list[dict[str, Any]]
    session_questions: list[dict[str, Any]]
    overall_done: bool
    to_rate: list[CreditSession]  # attended sessions not yet rated, in programme order
    rated: list[CreditSession]  # attended sessions rated already

    @property
    def completed(self) -> bool:
        return self.overall_done and not self.to_rate

    @property
    def has_form(self) -> bool:
        return bool(self.overall_questions or (self.session_questions and (self.to_rate or self.rated)))


def participant_state(session: Session, organisation_id: int, slug: str, registration_id: int) -> ParticipantState:
    """The event's programme and the person's attendance are read only when sessions are to be rated."""
    rules = accreditation_service.get(session, organisation_id, slug)
    overall_questions = list(rules.evaluation_questions) if rules else []
    session_questions = list(rules.session_questions) if rules else []
    rows = {row.session_code: row for row in _rows(session, organisation_id, slug, registration_id)}
    by_organiser = OVERALL in rows and rows[OVERALL].recorded_by == "organiser"
    present: list[CreditSession] = []
    if session_questions and not by_organiser:
        intervals = attendance.intervals_by_registration(session, organisation_id, slug, [registration_id])
        present = attended(registry.event(organisation_id, slug).sessions, intervals.get(registration_id, []))
    return ParticipantState(
        required=bool(rules and rules.evaluation_required), overall_questions=overall_questions, session_questions=session_questions, overall_done=OVERALL in rows,
        to_rate=[s for s in present if s.code not in rows], rated=[s for s in present if s.code in rows])


def record_elsewhere(session: Session, organisation_id: int, slug: str, registration_id: int) -> Evaluation:
    """The organiser's record that the person completed the evaluation on paper or in another tool: an
    overall evaluation without answers, which stands for the whole form (sessions included).
    Recorded once; a participant's own evaluation recorded before stays as it is."""
    found = registry.person_by_id(registration_id)
    if found is None or found[1] != slug or found[2] != organisation_id:
        raise ApiError(404, "not_found", "No such registration for this event.")
    evaluation, _created = insert_once(session, Evaluation, {
        "organisation_id": organisation_id, "event_slug": slug, "registration_id": registration_id,
        "session_code": OVERALL, "answers": {}, "recorded_by": "organiser", "completed_at": utcnow(),
    }, key=KEY)  # recorded twice at once: the first stands
    return evaluation


def field_name(session_code: str, question_id: str) -> str:
    """The form field of a question: its id for the overall evaluation, ``s-<session>-<id>`` for a session's.
    Unambiguous: question ids have no '-', and both are safe in an HTML id."""
    return question_id if session_code == OVERALL else f"s-{session_code}-{question_id}"


def answers_schema(questions: Sequence[Mapping[str, Any]]) -> Schema:
    """Ratings 1-5, yes/no, free text up to 2,000 characters; a required question must be answered. The
    refusals are the participant's page's, in its language."""
    declared: dict[str, fields.Field] = {}
    unanswered = {"required": gettext("An answer is required.")}
    for question in questions:
        required = question.get("required", True)
        if question["kind"] == "rating":
            choose = gettext("Choose a rating from 1 to 5.")
            declared[question["id"]] = fields.Integer(
                required=required, validate=validate.Range(min=1, max=5, error=choose),
                error_messages={**unanswered, "invalid": choose})
        elif question["kind"] == "yes_no":
            declared[question["id"]] = fields.String(
                required=required, validate=validate.OneOf(("yes", "no"), error=gettext("Choose yes or no.")),
                error_messages=unanswered)
        else:
            declared[question["id"]] = Text(2000, allow_blank=True, multiline=True, required=required,
                                            error_messages=unanswered)
    return Schema.from_dict(declared, name="EvaluationAnswers")()


def submit(session: Session, organisation_id: int, slug: str, registration_id: int, state: ParticipantState,
           form: Mapping[str, str]) -> dict[str, list[str]]:
    """Records the participant's answers from one form: the overall evaluation (unless done) and every
    attended session not yet rated. All or nothing: any error is returned (keyed by form field) and
    nothing is recorded, so the page shows every error at once. An answer given once stands."""
    sections: list[tuple[str, list[dict[str, Any]]]] = []
    if not state.overall_done:
        sections.append((OVERALL, state.overall_questions))
    sections += [(s.code, state.session_questions) for s in state.to_rate]
    errors: dict[str, list[str]] = {}
    loaded: dict[str, dict[str, Any]] = {}
    for code, questions in sections:
        submitted = {q["id"]: value for q in questions
                     if (value := form.get(field_name(code, q["id"]), "").strip()) != ""}
        try:
            loaded[code] = answers_schema(questions).load(submitted)
        except ValidationError as exc:
            messages = exc.normalized_messages()
            errors.update({field_name(code, qid): _messages(found) for qid, found in messages.items()})
    if errors or not sections:
        return errors
    now = utcnow()
    insert_many_once(session, Evaluation, [
        {"organisation_id": organisation_id, "event_slug": slug, "registration_id": registration_id,
         "session_code": code, "answers": answers, "recorded_by": "attendee", "completed_at": now}
        for code, answers in loaded.items()], key=KEY)  # sent twice at once: the first stands
    return {}


def _messages(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [m for nested in value.values() for m in _messages(nested)]
    return [str(m) for m in value] if isinstance(value, list) else [str(value)]


# Results ------------------------------------------------------------------------------------------------


def _mean(values: list[int]) -> str | None:
    if not values:
        return None
    return str((Decimal(sum(values)) / Decimal(len(values))).quantize(Decimal("0.01"), ROUND_HALF_UP))


def _question_result(question: Mapping[str, Any], answer_sets: list[dict[str, Any]]) -> dict[str, Any]:
    given = [answers[question["id"]] for answers in answer_sets
             if answers.get(question["id"]) not in (None, "")]
    result: dict[str, Any] = {"id": question["id"], "text": question["text"], "kind": question["kind"],
                              "answers": len(given), "mean": None, "distribution": None, "texts": None}
    if question["kind"] == "rating":
        ratings = [int(value) for value in given]
        result["mean"] = _mean(ratings)
        result["distribution"] = {r: sum(1 for value in ratings if str(value) == r) for r in RATINGS}
    elif question["kind"] == "yes_no":
        result["distribution"] = {choice: sum(1 for value in given if value == choice) for choice in ("yes", "no")}
    else:
        # Sorted, not in the order given: the order of submission would help tie a text to a person.
        result["texts"] = sorted((str(value) for value in given), key=lambda text: (text.casefold(), text))
    return result


def results(session: Session, organisation_id: int, slug: str,
            sessions: Sequence[CreditSession]) -> dict[str, Any]:
    """Per question, overall and per session: how many answered, the mean and distribution of ratings,
    yes/no counts, the free texts. Nothing that names a participant: no ids, names or emails.

    ``responses`` counts the participants' own evaluations; ``recorded_elsewhere`` the overall
    evaluations the organiser recorded as done on paper or elsewhere (they carry no answers)."""
    rules = accreditation_service.require(session, organisation_id, slug)
    by_section: dict[str, list[Evaluation]] = defaultdict(list)
    for row in _rows(session, organisation_id, slug):
        by_section[row.session_code].append(row)

    def section(code: str, questions: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        answered = [row.answers for row in by_section.get(code, []) if row.recorded_by == "attendee"]
        return {"responses": len(answered), "questions": [_question_result(q, answered) for q in questions]}

    overall = {**section(OVERALL, rules.evaluation_questions),
               "recorded_elsewhere": sum(1 for row in by_section.get(OVERALL, []) if row.recorded_by == "organiser")}
    known = {s.code: s.title for s in sessions}
    # Sessions of the programme in order, then any rated session since removed from it (its answers stay).
    codes = [s.code for s in sessions if rules.session_questions or s.code in by_section]
    codes += sorted(code for code in by_section if code != OVERALL and code not in known)
    return {"event": slug, "overall": overall,
            "sessions": [{"code": code, "title": known.get(code, ""), **section(code, rules.session_questions)}
                         for code in codes]}


CSV_HEADER = ("section", "session_code", "session_title", "question_id", "question", "kind", "answers", "mean",
              "distribution", "texts")
TEXT_SEPARATOR = "\n\n"  # the free texts of one question, in one cell, a blank line between two


def results_rows(found: Mapping[str, Any]) -> list[list[Any]]:
    """The results as CSV rows: one per section × question (section "overall" or "session"); the
    distribution as "1: 0; 2: 3; ..." and the free texts in one cell, separated by a blank line."""
    def rows(kind: str, code: str, title: str, questions: list[dict[str, Any]]) -> list[list[Any]]:
        return [[kind, code, title, q["id"], q["text"], q["kind"], q["answers"], q["mean"] or "",
                 "; ".join(f"{k}: {v}" for k, v in (q["distribution"] or {}).items()),
                 TEXT_SEPARATOR.join(q["texts"] or [])] for q in questions]
    out = rows("overall", "", "", found["overall"]["questions"])
    for item in found["sessions"]:
        out += rows("session", item["code"], item["title"], item["questions"])
    return out
