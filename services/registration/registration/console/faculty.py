"""An event's faculty in the console: speakers and planners, their disclosure statements, and the
speaker's personal link to state it themselves (ACCME Standard 3; EACCME asks the same).

The same rules as ``/api/v1/events/{slug}/faculty``: a form becomes the API's JSON, is loaded with
the API's schema (``FacultyInput``, ``FacultyPatch``) and handed to the API's service function
(``services.faculty``), whose refusals (a session of another event, a relationship that ended more
than 24 months ago, a link after the event started) are shown on the field they name. Viewers read;
staff add, edit, remove and send links.

A statement is chosen as one of three (not received, none, relationships listed); on editing, it is
sent only when it differs from the one on record, so that saving a speaker's name does not turn the
statement they attested through their link into one the organiser entered.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from flask import flash, request
from marshmallow import ValidationError

from suite_common.db import get_session, utcnow
from suite_common.errors import ApiError

from ..blueprints.lookups import organiser_event
from ..models import DisclosureStatus, Event, FacultyMember, FacultyRole, Role
from ..schemas.faculty import MAX_RELATIONSHIPS, FacultyInput, FacultyPatch
from ..services import faculty as faculty_service
from .core import messages_of, render, route, see_other
from .events import in_form_order

Errors = dict[str, list[str]]

BLANK_ROWS = 3  # empty relationship rows below those on record (no JavaScript adds rows)
STATEMENTS = {DisclosureStatus.PENDING.value: "Not received yet",
              DisclosureStatus.NONE.value: "None: no relevant financial relationships in the past 24 months",
              DisclosureStatus.DISCLOSED.value: "Financial relationships, listed below"}
ROLE_LABELS = {FacultyRole.SPEAKER.value: "Speaker", FacultyRole.PLANNER.value: "Planner"}
# In the order of the form's fields, which is the order of the error summary; the rows' labels follow.
LABELS = {"name": "Name", "email": "Email", "role": "Role", "sessions": "Sessions", "statement": "Statement"}
ROW_LABELS = {"company": "Company", "relationship": "Nature of the relationship", "ended_on": "Ended on"}


def _labels() -> dict[str, str]:
    """The error summary's names, in the page's order: the person, the statement, each row, the note."""
    labels = dict(LABELS)
    for index in range(MAX_RELATIONSHIPS):
        labels.update({f"{field}-{index}": f"Relationship {index + 1}, {label}" for field, label in ROW_LABELS.items()})
    labels["mitigation"] = "Mitigation note"
    return labels


def _rows_typed(form: Mapping[str, str]) -> tuple[list[dict[str, Any]], list[int]]:
    """The relationship rows the form gives (an emptied row is left out) as the API's ``disclosures``,
    and each one's row on the form (the API's errors count the relationships sent)."""
    rows, positions = [], []
    for index in range(MAX_RELATIONSHIPS):
        company = form.get(f"company-{index}", "").strip()
        nature = form.get(f"relationship-{index}", "").strip()
        ended_on = form.get(f"ended_on-{index}", "").strip()
        if company or nature or ended_on:
            rows.append({"company": company, "relationship": nature, "ended_on": ended_on or None})
            positions.append(index)
    return rows, positions


def _payload(form: Mapping[str, str], sessions: list[str]) -> tuple[dict[str, Any], list[int], Errors]:
    """The form as ``FacultyInput`` JSON, the relationship rows' positions, and what the form itself
    gets wrong (relationships chosen but none listed, or listed under another statement)."""
    rows, positions = _rows_typed(form)
    statement = form.get("statement", DisclosureStatus.PENDING.value)
    errors: Errors = {}
    if statement == DisclosureStatus.DISCLOSED and not rows:
        errors["statement"] = ["List at least one relationship below, or choose another statement."]
    elif statement != DisclosureStatus.DISCLOSED and rows:
        errors["statement"] = ["Relationships are listed below: choose “Financial relationships”, or empty the rows."]
    payload = {"name": form.get("name", "").strip(), "role": form.get("role", ""),
               "email": form.get("email", "").strip() or None, "sessions": sessions,
               "none": statement == DisclosureStatus.NONE,
               "disclosures": rows if statement == DisclosureStatus.DISCLOSED else [],
               "mitigation": form.get("mitigation", "").strip() or None}
    return payload, positions, errors


def _errors(messages: Mapping[str, Any], positions: list[int]) -> Errors:
    """The schema's or service's field errors by the form's ids: the second relationship sent's company
    is ``company-N`` where N is its row on the form; ``none`` is about the statement."""
    errors: Errors = {}
    for name, value in messages.items():
        if name == "disclosures" and isinstance(value, dict):
            for index, nested in value.items():
                row = positions[int(index)] if str(index).isdigit() and int(index) < len(positions) else None
                if row is not None and isinstance(nested, dict):
                    errors.update({f"{field}-{row}": messages_of(problems) for field, problems in nested.items()})
                else:
                    errors.setdefault("statement", []).extend(messages_of(nested))
        else:
            errors.setdefault("statement" if name in ("none", "disclosures") else name, []).extend(messages_of(value))
    return errors


def _values(member: FacultyMember) -> dict[str, Any]:
    """A person as the edit form shows them."""
    values: dict[str, Any] = {"name": member.name, "email": member.email or "", "role": member.role,
                              "statement": member.disclosure_status, "mitigation": member.mitigation or ""}
    for index, item in enumerate(member.relationships):
        values.update({f"company-{index}": item.company, f"relationship-{index}": item.nature,
                       f"ended_on-{index}": item.ended_on.isoformat() if item.ended_on else ""})
    return values


def _row_count(values: Mapping[str, Any]) -> int:
    """Rows on the form: those filled in, and a few blank ones."""
    filled = [index for index in range(MAX_RELATIONSHIPS)
              if any(values.get(f"{field}-{index}") for field in ROW_LABELS)]
    return min((filled[-1] + 1 if filled else 0) + BLANK_ROWS, MAX_RELATIONSHIPS)


def _form_context(event: Event, values: Mapping[str, Any], errors: Errors, chosen: list[str]) -> dict[str, Any]:
    return {"event": event, "values": values, "errors": in_form_order(errors, _labels()), "labels": _labels(),
            "rows": _row_count(values), "statements": STATEMENTS, "role_labels": ROLE_LABELS, "chosen": chosen,
            "row_labels": ROW_LABELS, "today": utcnow().date(),
            "earliest": utcnow().date() - dt.timedelta(days=faculty_service.LOOKBACK_DAYS)}


def _list_page(event: Event, status: int = 200, values: Mapping[str, Any] | None = None, errors: Errors | None = None,
               chosen: list[str] | None = None, new_link: dict[str, str] | None = None) -> Any:
    context = _form_context(event, values or {"role": FacultyRole.SPEAKER.value, "statement": "pending"},
                            errors or {}, chosen or [])
    return render("console/faculty.html", status, members=faculty_service.list_faculty(get_session(), event),
                  link_open=utcnow() < event.starts_at, new_link=new_link, **context)


@route("/events/<slug:slug>/faculty", Role.VIEWER)
def faculty(slug: str) -> Any:
    """The event's speakers and planners with their statements; staff also see the form to add one."""
    return _list_page(organiser_event(slug))


@route("/events/<slug:slug>/faculty", Role.STAFF, methods=("POST",))
def faculty_add(slug: str) -> Any:
    """Adds a speaker or planner, as ``POST /events/{slug}/faculty``."""
    event = organiser_event(slug)
    chosen = request.form.getlist("sessions")
    payload, positions, errors = _payload(request.form, chosen)
    try:
        data = FacultyInput().load(payload)
    except ValidationError as error:
        errors = {**_errors(error.normalized_messages(), positions), **errors}
    if not errors:
        try:
            member = faculty_service.add_faculty(get_session(), event, data, utcnow())
        except ApiError as refusal:
            errors = _errors(refusal.fields or {"_schema": [refusal.message]}, positions)
        else:
            flash(f"{member.name} added to the faculty.")
            return see_other("console.faculty", slug=event.slug)
    return _list_page(event, 422, request.form, errors, chosen)


def _statement_on_record(member: FacultyMember) -> tuple[bool, list[tuple[str, str, dt.date | None]]]:
    return member.has_none, [(item.company, item.nature, item.ended_on) for item in member.relationships]


@route("/events/<slug:slug>/faculty/<int:faculty_id>/edit", Role.STAFF, methods=("GET", "POST"))
def faculty_edit(slug: str, faculty_id: int) -> Any:
    """Changes a person, as ``PATCH /events/{slug}/faculty/{id}``; the statement goes only when changed."""
    event = organiser_event(slug)
    member = faculty_service.get_faculty(get_session(), event, faculty_id)
    if request.method == "GET":
        return render("console/faculty_edit.html", member=member,
                      **_form_context(event, _values(member), {}, member.session_codes))
    chosen = request.form.getlist("sessions")
    payload, positions, errors = _payload(request.form, chosen)
    try:
        data = FacultyPatch().load(payload)
    except ValidationError as error:
        errors = {**_errors(error.normalized_messages(), positions), **errors}
    if not errors:
        typed = (data["none"], [(item["company"], item["relationship"], item.get("ended_on"))
                                for item in data["disclosures"]])
        if typed == _statement_on_record(member):  # not received yet is (False, []) on both sides
            data.pop("none")
            data.pop("disclosures")
        try:
            faculty_service.update_faculty(get_session(), member, data, utcnow())
        except ApiError as refusal:
            errors = _errors(refusal.fields or {"_schema": [refusal.message]}, positions)
        else:
            flash(f"{member.name} saved.")
            return see_other("console.faculty", slug=event.slug)
    return render("console/faculty_edit.html", 422, member=member,
                  **_form_context(event, request.form, errors, chosen))


@route("/events/<slug:slug>/faculty/<int:faculty_id>/remove", Role.STAFF, methods=("POST",))
def faculty_remove(slug: str, faculty_id: int) -> Any:
    """Takes a person off the faculty, with their statement, as ``DELETE /events/{slug}/faculty/{id}``."""
    event = organiser_event(slug)
    session = get_session()
    member = faculty_service.get_faculty(session, event, faculty_id)
    name = member.name
    faculty_service.remove_faculty(session, member)
    flash(f"{name} removed from the faculty.")
    return see_other("console.faculty", slug=event.slug)


@route("/events/<slug:slug>/faculty/<int:faculty_id>/disclosure-link", Role.STAFF, methods=("POST",))
def faculty_link(slug: str, faculty_id: int) -> Any:
    """A new personal link to the speaker's disclosure form (the previous one stops working), as
    ``POST .../disclosure-link``: mailed to them (``send=yes``), or shown once on the page to pass on.
    A shown link is rendered, not flashed: the session cookie would carry the secret."""
    event = organiser_event(slug)
    session = get_session()
    member = faculty_service.get_faculty(session, event, faculty_id)
    send = request.form.get("send") == "yes"
    try:
        url, sent_to = faculty_service.new_disclosure_link(session, member, send, utcnow())
    except ApiError as refusal:
        flash(f"No link for {member.name}: {' '.join(messages_of(refusal.fields or refusal.message))}", "warning")
        return see_other("console.faculty", slug=event.slug)
    if sent_to:
        flash(f"The disclosure link is on its way to {member.name} ({sent_to}); an earlier link no longer works.")
        return see_other("console.faculty", slug=event.slug)
    body, status = _list_page(event, 200, new_link={"name": member.name, "url": url})
    return body, status, {"Cache-Control": "private, no-store"}
