"""Internal API (/internal/v1) for the other services of the suite; signed calls only."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate
from sqlalchemy import select

from suite_common.api import SERVICE, SuiteBlueprint
from suite_common.auth import service_required
from suite_common.branding import to_json
from suite_common.db import get_session
from suite_common.errors import not_found
from suite_common.identity import OrganisationOutput

from ..models import MAX_ID, Event, Organisation, Registration, RegistrationStatus
from ..schemas.branding import InternalBranding
from ..schemas.faculty import InternalFacultyList
from ..schemas.internal import AttendeePage, AttendeesQuery, EventQuery, InternalEvent, Ticket
from ..services import branding as branding_service
from ..services import events as event_service
from ..services import faculty as faculty_service
from ..services import signup
from ..services.organisations import resolve_token

blp = SuiteBlueprint("internal_api", __name__, url_prefix="/internal/v1", description="Service-to-service API")


class TokenIntrospectionInput(Schema):
    token = fields.String(required=True, validate=validate.Length(min=1, max=200))


class TokenIntrospectionOutput(Schema):
    organisation = fields.Nested(OrganisationOutput)


@blp.route("/token-introspection", methods=["POST"])
@service_required("notifications", "certificates")
@blp.doc(security=SERVICE)
@blp.arguments(TokenIntrospectionInput)
@blp.response(200, TokenIntrospectionOutput)
@blp.alt_response(404, description="unknown or revoked token")
def introspect(data: dict[str, Any]) -> Any:
    organisation = resolve_token(get_session(), data["token"])
    if organisation is None:
        raise not_found("token")
    return {"organisation": organisation}


@blp.route(f"/organisations/<int(max={MAX_ID}):organisation_id>/branding", methods=["GET"])
@service_required("notifications", "certificates")
@blp.doc(security=SERVICE)
@blp.response(200, InternalBranding)
@blp.alt_response(404, description="no such organisation")
def organisation_branding(organisation_id: int) -> Any:
    """The organisation's look with its logo inline (base64), for the mails and PDFs of the other services."""
    organisation = get_session().get(Organisation, organisation_id)
    if organisation is None:
        raise not_found("organisation")
    return to_json(branding_service.branding_of(organisation), branding_service.logo_of(organisation))


@blp.route("/events/<slug:slug>", methods=["GET"])
@service_required("notifications", "certificates")
@blp.doc(security=SERVICE)
@blp.arguments(EventQuery, location="query")
@blp.response(200, InternalEvent)
@blp.alt_response(404, description="no such event in this organisation")
def event(query: dict[str, Any], slug: str) -> Any:
    """The organisation's event with its sessions: how the other services learn that an organiser's
    token may act on an event (another organisation's is a 404, like a missing one)."""
    return event_service.get_event(get_session(), query["organisation_id"], slug)


@blp.route("/events/<slug:slug>/faculty", methods=["GET"])
@service_required("certificates")
@blp.doc(security=SERVICE)
@blp.arguments(EventQuery, location="query")
@blp.response(200, InternalFacultyList)
@blp.alt_response(404, description="no such event in this organisation")
def faculty(query: dict[str, Any], slug: str) -> Any:
    """The event's speakers and planners with their disclosures, for the accreditor's summary report."""
    session = get_session()
    event = event_service.get_event(session, query["organisation_id"], slug)
    return {"items": faculty_service.list_faculty(session, event)}


@blp.route("/events/<slug:slug>/attendees", methods=["GET"])
@service_required("certificates")
@blp.doc(security=SERVICE)
@blp.arguments(AttendeesQuery, location="query")
@blp.response(200, AttendeePage)
@blp.alt_response(404, description="no such event in this organisation")
def attendees(query: dict[str, Any], slug: str) -> Any:
    """The event with its sessions, and its registrations by id (confirmed ones unless status=all)."""
    session = get_session()
    event = session.scalar(select(Event).where(Event.slug == slug, Event.organisation_id == query["organisation_id"]))
    if event is None:
        raise not_found("event")
    rows = select(Registration).where(Registration.event_id == event.id, Registration.id > query["cursor"])
    if query["status"] == "confirmed":
        rows = rows.where(Registration.status == RegistrationStatus.CONFIRMED)
    items = list(session.scalars(rows.order_by(Registration.id).limit(query["limit"])))
    next_cursor = items[-1].id if len(items) == query["limit"] else None
    return {"event": event, "items": items, "next_cursor": next_cursor}


@blp.route("/tickets/<code>", methods=["GET"])
@service_required("certificates")
@blp.doc(security=SERVICE)
@blp.response(200, Ticket)
@blp.alt_response(404, description="no such ticket")
def ticket(code: str) -> Any:
    """Who a scanned ticket belongs to, and whether the registration still stands."""
    registration = signup.by_ticket_code(get_session(), code)
    if registration is None:
        raise not_found("ticket")
    return registration


@blp.route("/registrations/<int:registration_id>", methods=["GET"])
@service_required("certificates")
@blp.doc(security=SERVICE)
@blp.response(200, Ticket)
@blp.alt_response(404, description="no such registration")
def registration(registration_id: int) -> Any:
    """A registration by id, with the event and organisation it belongs to (the caller checks them)."""
    found = get_session().get(Registration, registration_id) if registration_id <= MAX_ID else None
    if found is None:
        raise not_found("registration")
    return found
