"""Organiser API (/api/v1, bearer token): events, sessions, rates, roster."""
from __future__ import annotations

import uuid
from typing import Any

from flask import Response, request
from flask.views import MethodView

from suite_common.api import CSV, ORGANISER, SuiteBlueprint, refuse_unknown_parts
from suite_common.auth import current_organisation, organiser_required
from suite_common.db import get_db, get_session
from suite_common.errors import ApiError, validation_error
from suite_common.idempotency import PARAMETER, request_key

from ..models import MAX_ID, Event, Organisation, Registration
from ..schemas.branding import BrandingInput, BrandingOutput, LogoUpload
from ..schemas.events import (
    DiscountCodeInput,
    DiscountCodeOutput,
    EventInput,
    EventList,
    EventOutput,
    EventPatch,
    EventSessionInput,
    EventSessionOutput,
    EventSessionPatch,
    RateInput,
    RateOutput,
)
from ..schemas.members import MemberImportResult, MemberPage, MemberQuery, MemberUpload
from ..schemas.registrations import (
    AnnouncementInput,
    AnnouncementResult,
    BillingInput,
    DecisionResult,
    RegistrationOutput,
    RejectionInput,
    RosterPage,
    RosterQuery,
)
from ..services import approvals, branding, capacity, members, notify, pricing, roster, signup
from ..services import events as event_service
from . import checkout
from .lookups import organiser_event, organiser_registration

blp = SuiteBlueprint("organiser_api", __name__, url_prefix="/api/v1", description="Organiser API (bearer token)")


@blp.route("/events")
class Events(MethodView):
    decorators = [organiser_required]

    @blp.doc(security=ORGANISER)
    @blp.response(200, EventList)
    def get(self) -> dict[str, Any]:
        return {"items": event_service.list_events(get_session(), current_organisation().id)}

    @blp.doc(security=ORGANISER)
    @blp.arguments(EventInput)
    @blp.response(201, EventOutput)
    @blp.alt_response(409, description="slug already in use")
    def post(self, data: dict[str, Any]) -> Event:
        session = get_session()
        event = event_service.create_event(session, current_organisation().id, data)
        return event


@blp.route("/events/<slug:slug>")
class EventItem(MethodView):
    decorators = [organiser_required]

    @blp.doc(security=ORGANISER)
    @blp.response(200, EventOutput)
    @blp.alt_response(404, description="no such event in this organisation")
    def get(self, slug: str) -> Event:
        return organiser_event(slug)

    @blp.doc(security=ORGANISER)
    @blp.arguments(EventPatch(partial=True))
    @blp.response(200, EventOutput)
    @blp.alt_response(404, description="no such event in this organisation")
    def patch(self, changes: dict[str, Any], slug: str) -> Event:
        session = get_session()
        event = event_service.update_event(session, organiser_event(slug), changes)
        return event


@blp.route("/events/<slug:slug>/sessions", methods=["POST"])
@organiser_required
@blp.doc(security=ORGANISER)
@blp.arguments(EventSessionInput)
@blp.response(201, EventSessionOutput)
@blp.alt_response(404, description="no such event in this organisation")
def add_session(data: dict[str, Any], slug: str) -> Any:
    session = get_session()
    item = event_service.add_session(session, organiser_event(slug), data)
    return item


@blp.route("/events/<slug:slug>/sessions/<code>", methods=["PATCH"])
@organiser_required
@blp.doc(security=ORGANISER)
@blp.arguments(EventSessionPatch(partial=True))
@blp.response(200, EventSessionOutput)
@blp.alt_response(404, description="no such event in this organisation, or no such session")
def update_session(changes: dict[str, Any], slug: str, code: str) -> Any:
    """Changes a session's fields given, e.g. its credits per credit system."""
    session = get_session()
    item = event_service.get_session_of(organiser_event(slug), code[:40])
    return event_service.update_session(session, item, changes)


@blp.route("/events/<slug:slug>/rates", methods=["POST"])
@organiser_required
@blp.doc(security=ORGANISER)
@blp.arguments(RateInput)
@blp.response(201, RateOutput)
@blp.alt_response(404, description="no such event in this organisation")
def add_rate(data: dict[str, Any], slug: str) -> Any:
    session = get_session()
    rate = event_service.add_rate(session, organiser_event(slug), data)
    return rate


@blp.route("/events/<slug:slug>/registrations", methods=["GET"])
@organiser_required
@blp.doc(security=ORGANISER)
@blp.arguments(RosterQuery, location="query")
@blp.response(200, RosterPage)
@blp.alt_response(200, schema=CSV, content_type="text/csv", success=True,
                  description="the roster; CSV with format=csv or Accept: text/csv")
@blp.alt_response(404, description="no such event in this organisation")
def list_registrations(filters: dict[str, Any], slug: str) -> Any:
    event = organiser_event(slug)
    wants_csv = filters["format"] == "csv" or (
        "format" not in request.args and request.accept_mimetypes.best == "text/csv"
    )
    if wants_csv:
        body = roster.roster_csv(get_db().session_factory, event, filters, bom=filters["bom"])
        return Response(body, mimetype="text/csv", headers={
            "Content-Disposition": f'attachment; filename="{event.slug}-registrations.csv"'})
    items, next_cursor = roster.roster_page(get_session(), event, filters)
    return {"items": items, "next_cursor": next_cursor}


@blp.route(f"/registrations/<int(max={MAX_ID}):registration_id>", methods=["GET"])
@organiser_required
@blp.doc(security=ORGANISER)
@blp.response(200, RegistrationOutput)
@blp.alt_response(404, description="no such registration in this organisation")
def get_registration(registration_id: int) -> Registration:
    return organiser_registration(registration_id)


@blp.route(f"/registrations/<int(max={MAX_ID}):registration_id>/cancel", methods=["POST"])
@organiser_required
@blp.doc(security=ORGANISER)
@blp.response(200, RegistrationOutput)
@blp.alt_response(404, description="no such registration in this organisation")
def cancel_registration(registration_id: int) -> Registration:
    session = get_session()
    registration = organiser_registration(registration_id)
    signup.cancel(session, registration)
    return registration


@blp.route("/events/<slug:slug>/announcements", methods=["POST"])
@organiser_required
@blp.doc(security=ORGANISER)
@blp.arguments(AnnouncementInput)
@blp.response(202, AnnouncementResult)
@blp.doc(parameters=[PARAMETER])
@blp.alt_response(400, description="Idempotency-Key not 1-100 visible ASCII characters")
@blp.alt_response(404, description="no such event in this organisation")
def announce(data: dict[str, Any], slug: str) -> Any:
    """Mails everyone who consented to announcements, with a one-click unsubscribe link (RFC 8058).

    Send the same Idempotency-Key again and nobody gets it twice."""
    session = get_session()
    event = organiser_event(slug)
    announcement_id = request_key() or uuid.uuid4().hex
    recipients = notify.announce(session, event, data["subject"], data["body"], announcement_id)
    return {"recipients": recipients}


@blp.route("/events/<slug:slug>/discount-codes", methods=["POST"])
@organiser_required
@blp.doc(security=ORGANISER)
@blp.arguments(DiscountCodeInput)
@blp.response(201, DiscountCodeOutput)
@blp.alt_response(404, description="no such event in this organisation")
@blp.alt_response(409, description="the code exists already")
def add_discount_code(data: dict[str, Any], slug: str) -> Any:
    """Percentage or fixed amount off, optionally limited in uses, time and rates; never below zero."""
    session = get_session()
    code = pricing.add_code(session, organiser_event(slug), data)
    return code


@blp.route("/organisation/billing", methods=["PUT"])
@organiser_required
@blp.doc(security=ORGANISER)
@blp.arguments(BillingInput)
@blp.response(200, BillingInput)
def put_billing(data: dict[str, Any]) -> Any:
    """The society's legal name, address and VAT number, printed on receipts and invoices."""
    session = get_session()
    organisation = session.get(Organisation, current_organisation().id)
    for key, value in data.items():
        setattr(organisation, key, value)
    return {key: getattr(organisation, key) for key in ("legal_name", "address", "vat_number", "billing_email", "bank_details")}


def _owner_only() -> None:
    """The society's look is the organisation's, not an event's: owners change it, staff and viewers read it."""
    if current_organisation().role != "owner":
        raise ApiError(403, "forbidden", "Only an owner of the organisation may change its branding.")


@blp.route("/organisation/branding")
class OrganisationBranding(MethodView):
    """The society's name, colour, footer, privacy link and reply-to on every page, mail and document."""

    decorators = [organiser_required]

    @blp.doc(security=ORGANISER)
    @blp.response(200, BrandingOutput)
    def get(self) -> Any:
        return branding.describe(get_session(), current_organisation().id)

    @blp.doc(security=ORGANISER)
    @blp.arguments(BrandingInput)
    @blp.response(200, BrandingOutput)
    def put(self, data: dict[str, Any]) -> Any:
        """Sets every field at once; a field left out or null is the default again."""
        _owner_only()
        session = get_session()
        branding.update(session, current_organisation().id, data)
        return branding.describe(session, current_organisation().id)


@blp.route("/organisation/branding/logo", methods=["PUT"])
@organiser_required
@blp.doc(security=ORGANISER)
@blp.arguments(LogoUpload, location="files")
@blp.response(200, BrandingOutput)
@blp.alt_response(413, description="larger than 512 KB")
@blp.alt_response(422, description="not a PNG or JPEG image (SVG is refused), or more than 2000 pixels a side")
def put_logo(_files: dict[str, Any]) -> Any:
    """The society's logo: PNG or JPEG, multipart field ``file``; any other part is refused (422)."""
    _owner_only()
    refuse_unknown_parts("file")
    upload = request.files.get("file")
    if upload is None:
        raise validation_error({"file": ["Attach the image as multipart field 'file'."]})
    session = get_session()
    branding.set_logo(session, current_organisation().id, upload.read(branding.MAX_LOGO_BYTES + 1))
    return branding.describe(session, current_organisation().id)


# --- member list and approvals ----------------------------------------------------------

MAX_MEMBER_FILE_BYTES = 10 * 1024 * 1024


def _member_file() -> list[members.MemberRow]:
    refuse_unknown_parts("file")
    upload = request.files.get("file")
    if upload is None:
        raise validation_error({"file": ["Attach the CSV file as multipart field 'file'."]})
    data = upload.read(MAX_MEMBER_FILE_BYTES + 1)
    if len(data) > MAX_MEMBER_FILE_BYTES:
        raise ApiError(413, "payload_too_large", "The file is larger than 10 MB.")
    return members.parse_csv(data)


@blp.route("/members")
class Members(MethodView):
    """The organisation's member list, which member rates check the attendee's email or member number against."""

    decorators = [organiser_required]

    @blp.doc(security=ORGANISER)
    @blp.alt_response(200, schema=CSV, content_type="text/csv", success=True, description="the list; CSV with format=csv")
    @blp.arguments(MemberQuery, location="query")
    @blp.response(200, MemberPage)
    def get(self, query: dict[str, Any]) -> Any:
        organisation_id = current_organisation().id
        if query["format"] == "csv":
            body = members.export_csv(get_db().session_factory, organisation_id, bom=query["bom"])
            return Response(body, mimetype="text/csv",
                            headers={"Content-Disposition": 'attachment; filename="members.csv"'})
        return members.page(get_session(), organisation_id, query.get("cursor"), query["limit"])

    @blp.doc(security=ORGANISER)
    @blp.arguments(MemberUpload, location="files")
    @blp.response(200, MemberImportResult)
    @blp.alt_response(422, description="bad rows, each as \"line N: reason\" in error.fields.file; nothing imported")
    def put(self, _files: dict[str, Any]) -> Any:
        """Replaces the member list with the uploaded CSV, all or nothing."""
        rows = _member_file()
        session = get_session()
        outcome = members.replace_members(session, current_organisation().id, rows)
        return outcome

    @blp.doc(security=ORGANISER)
    @blp.arguments(MemberUpload, location="files")
    @blp.response(200, MemberImportResult)
    @blp.alt_response(422, description="bad rows, each as \"line N: reason\" in error.fields.file; nothing imported")
    def post(self, _files: dict[str, Any]) -> Any:
        """Adds the uploaded CSV to the member list, all or nothing; a row naming a listed member updates it."""
        rows = _member_file()
        session = get_session()
        outcome = members.append_members(session, current_organisation().id, rows)
        return outcome


class _Decided:
    """The registration as the organiser sees it, with where it now stands: its place on the waiting
    list, or where to pay (which opens the Checkout Session, after the decision is committed)."""

    def __init__(self, session: Any, registration: Registration) -> None:
        self._registration = registration
        self.waitlist_position = capacity.waitlist_position(session, registration)
        self.payment_url = checkout.payment_url(registration)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._registration, name)


@blp.route(f"/registrations/<int(max={MAX_ID}):registration_id>/approve", methods=["POST"])
@organiser_required
@blp.doc(security=ORGANISER)
@blp.response(200, DecisionResult)
@blp.alt_response(404, description="no such registration in this organisation")
@blp.alt_response(409, description="not awaiting approval (already decided, or cancelled)")
def approve_registration(registration_id: int) -> Any:
    """Approves a registration awaiting approval: it takes a seat now (confirmed if free, pending_payment
    with payment_url if paid, waitlisted if full) and the attendee is told."""
    session = get_session()
    registration = approvals.approve(session, organiser_registration(registration_id))
    return _Decided(session, registration)


@blp.route(f"/registrations/<int(max={MAX_ID}):registration_id>/reject", methods=["POST"])
@organiser_required
@blp.doc(security=ORGANISER)
@blp.arguments(RejectionInput(), required=False)
@blp.response(200, DecisionResult)
@blp.alt_response(404, description="no such registration in this organisation")
@blp.alt_response(409, description="not awaiting approval (already decided, or cancelled)")
def reject_registration(data: dict[str, Any], registration_id: int) -> Any:
    """Rejects a registration awaiting approval: it is cancelled and the attendee gets the reason by mail."""
    session = get_session()
    registration = approvals.reject(session, organiser_registration(registration_id), (data or {}).get("reason"))
    return _Decided(session, registration)
