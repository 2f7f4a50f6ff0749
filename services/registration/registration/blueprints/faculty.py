"""Faculty and disclosures: the organiser's API and the speaker's personal disclosure form."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, make_response, redirect, render_template, request, url_for
from flask.views import MethodView
from flask_babel import gettext as _
from marshmallow import ValidationError

from suite_common.api import ORGANISER, SuiteBlueprint
from suite_common.auth import organiser_required
from suite_common.db import get_session, utcnow
from suite_common.errors import ApiError
from suite_common.forms import protect_forms

from ..models import FacultyMember
from ..schemas.faculty import (
    MAX_RELATIONSHIPS,
    DisclosureLinkInput,
    DisclosureLinkOutput,
    FacultyInput,
    FacultyList,
    FacultyOutput,
    FacultyPatch,
    SpeakerStatementInput,
)
from ..services import faculty
from .lookups import organiser_event

api = SuiteBlueprint("faculty_api", __name__, url_prefix="/api/v1", description="Faculty and disclosures")
pages = Blueprint("faculty_pages", __name__)
protect_forms(pages)

BLANK_ROWS = 3  # empty relationship rows on the speaker's form (no JavaScript adds rows)


@api.route("/events/<slug:slug>/faculty")
class FacultyCollection(MethodView):
    decorators = [organiser_required]

    @api.doc(security=ORGANISER)
    @api.response(200, FacultyList)
    @api.alt_response(404, description="no such event in this organisation")
    def get(self, slug: str) -> dict[str, Any]:
        return {"items": faculty.list_faculty(get_session(), organiser_event(slug))}

    @api.doc(security=ORGANISER)
    @api.arguments(FacultyInput)
    @api.response(201, FacultyOutput)
    @api.alt_response(404, description="no such event in this organisation")
    def post(self, data: dict[str, Any], slug: str) -> FacultyMember:
        """Adds a speaker (with the codes of their sessions) or a planner, with their statement if known."""
        return faculty.add_faculty(get_session(), organiser_event(slug), data, utcnow())


@api.route("/events/<slug:slug>/faculty/<int:faculty_id>")
class FacultyItem(MethodView):
    decorators = [organiser_required]

    @api.doc(security=ORGANISER)
    @api.response(200, FacultyOutput)
    @api.alt_response(404, description="no such event in this organisation, or no such person")
    def get(self, slug: str, faculty_id: int) -> FacultyMember:
        return faculty.get_faculty(get_session(), organiser_event(slug), faculty_id)

    @api.doc(security=ORGANISER)
    @api.arguments(FacultyPatch(partial=True))
    @api.response(200, FacultyOutput)
    @api.alt_response(404, description="no such event in this organisation, or no such person")
    def patch(self, changes: dict[str, Any], slug: str, faculty_id: int) -> FacultyMember:
        """Changes the fields given; ``none`` or ``disclosures`` replace the statement as a whole."""
        session = get_session()
        return faculty.update_faculty(session, faculty.get_faculty(session, organiser_event(slug), faculty_id),
                                      changes, utcnow())

    @api.doc(security=ORGANISER)
    @api.response(204)
    @api.alt_response(404, description="no such event in this organisation, or no such person")
    def delete(self, slug: str, faculty_id: int) -> None:
        session = get_session()
        faculty.remove_faculty(session, faculty.get_faculty(session, organiser_event(slug), faculty_id))


@api.route("/events/<slug:slug>/faculty/<int:faculty_id>/disclosure-link", methods=["POST"])
@organiser_required
@api.doc(security=ORGANISER)
@api.arguments(DisclosureLinkInput)
@api.response(201, DisclosureLinkOutput)
@api.alt_response(404, description="no such event in this organisation, or no such person")
@api.alt_response(409, description="the event has started: the form is closed")
def disclosure_link(data: dict[str, Any], slug: str, faculty_id: int) -> dict[str, Any]:
    """A new personal link to the speaker's disclosure form (the previous one stops working);
    with ``send: true`` it is also mailed to them."""
    session = get_session()
    member = faculty.get_faculty(session, organiser_event(slug), faculty_id)
    url, sent_to = faculty.new_disclosure_link(session, member, data["send"], utcnow())
    return {"url": url, "sent_to": sent_to}


def _speaker(secret: str) -> FacultyMember:
    member = faculty.by_link(get_session(), secret)
    if member is None:
        abort(404, description=_("This link does not lead to a disclosure form. Ask the organiser for a new one."))
    return member


def _statement_payload(form: Any) -> dict[str, Any]:
    rows = []
    for index in range(MAX_RELATIONSHIPS):
        company, nature = form.get(f"company-{index}", "").strip(), form.get(f"relationship-{index}", "").strip()
        ended_on = form.get(f"ended_on-{index}", "").strip()
        if company or nature or ended_on:
            rows.append({"company": company, "relationship": nature, **({"ended_on": ended_on} if ended_on else {})})
    return {"none": form.get("statement") == "none", "disclosures": rows if form.get("statement") != "none" else [],
            "attest": form.get("attest") == "yes"}


def _form_rows(member: FacultyMember, values: dict[str, Any] | None) -> list[dict[str, str]]:
    """The relationship rows to show: what was typed (after a refusal) or what is on record, and a few blank ones."""
    if values is not None:
        rows = [{"company": values.get(f"company-{i}", ""), "relationship": values.get(f"relationship-{i}", ""),
                 "ended_on": values.get(f"ended_on-{i}", "")} for i in range(MAX_RELATIONSHIPS)]
        rows = [row for row in rows if any(row.values())]
    else:
        rows = [{"company": r.company, "relationship": r.nature,
                 "ended_on": r.ended_on.isoformat() if r.ended_on else ""} for r in member.relationships]
    blank = {"company": "", "relationship": "", "ended_on": ""}
    return (rows + [dict(blank) for _row in range(BLANK_ROWS)])[:MAX_RELATIONSHIPS]


def _flat_errors(messages: dict[str, Any]) -> dict[str, list[str]]:
    """A row's errors ({"disclosures": {0: {"company": [...]}}}) under the row's input ids ("company-0")."""
    flat: dict[str, list[str]] = {}
    for name, value in messages.items():
        if name == "disclosures" and isinstance(value, dict):
            for index, fields in value.items():
                for field, problems in (fields.items() if isinstance(fields, dict) else [("company", fields)]):
                    flat[f"{field}-{index}"] = list(problems)
        else:
            flat[name] = list(value) if isinstance(value, list) else [str(value)]
    return flat


def _no_store(body: str, status: int = 200) -> Any:
    response = make_response(body, status)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@pages.route("/disclosure/<secret>", methods=["GET", "POST"])
def speaker_form(secret: str) -> Any:
    """The speaker's own form: no account, the link is the key; open until the event starts."""
    member = _speaker(secret)
    now = utcnow()
    errors: dict[str, Any] = {}
    values: dict[str, Any] | None = None
    status = 200
    if request.method == "POST":
        values = dict(request.form)
        try:
            data = SpeakerStatementInput().load(_statement_payload(request.form))
            faculty.speaker_statement(get_session(), member, data, now)
            return redirect(url_for("faculty_pages.speaker_form", secret=secret, saved=1), code=303)
        except ValidationError as exc:
            errors, status = _flat_errors(exc.normalized_messages()), 422
        except ApiError as exc:
            errors, status = _flat_errors(exc.fields or {"_form": [exc.message]}), exc.status
    return _no_store(render_template(
        "disclosure_form.html", member=member, event=member.event, open=faculty.link_is_open(member, now),
        rows=_form_rows(member, values), values=values, errors=errors, saved=request.args.get("saved") and request.method == "GET"), status)
