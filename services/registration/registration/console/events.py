"""Events: the list with counts and revenue, an event's overview, creating and editing an event,
adding its sessions, workshops, rates and discount codes, and editing a session or workshop.

Each form is turned into the JSON the organiser API takes and loaded with the API's own schema;
the change itself is the API's service function (``services.events``, ``services.pricing``).
People type times in the event's time zone (``datetime-local``) and money in major units
(450.00); this module turns those into ISO 8601 with the zone's offset and minor units, which is
all the reading of a form it does.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask import current_app, flash, request
from marshmallow import Schema, ValidationError

from suite_common.auth import current_organisation
from suite_common.db import commit_before_calling_out, get_db, get_session, utcnow
from suite_common.errors import ApiError

from ..blueprints.lookups import organiser_event
from ..models import Event, EventSession, Role
from ..schemas.events import (
    CATEGORIES,
    KINDS,
    DiscountCodeInput,
    EventInput,
    EventPatch,
    EventSessionInput,
    EventSessionPatch,
    RateInput,
)
from ..services import event_summary, pricing
from ..services import events as event_service
from ..services.money import format_money, minor_units
from ..services.urls import public_base
from ..services.zoom import webinars
from . import credit_systems
from .core import messages_of, render, route, see_other

Errors = dict[str, list[str]]

# (value, label) pairs of the time zone select: every IANA name this server knows, as the schema takes them.
TIME_ZONES = [(zone, zone) for zone in sorted(available_timezones())]
CATEGORY_LABELS = {"member": "Member", "non_member": "Non-member", "trainee": "Trainee", "other": "Other"}
KIND_LABELS = {"conference": "Conference", "webinar": "Webinar"}
REQUIRED_MESSAGE = "Missing data for required field."
# Fields given as an object whose errors come per key, each key its own input (name-KEY).
BY_KEY_FIELDS = ("credits",)

# In the order of the form's fields, which is the order of the error summary.
EVENT_LABELS = {
    "title": "Title", "slug": "Address (slug)", "kind": "Kind", "description": "Description",
    "timezone": "Time zone", "starts_at": "Starts", "ends_at": "Ends", "venue": "Venue", "join_url": "Join link",
    "zoom_webinar_id": "Zoom webinar ID",
    "capacity": "Capacity", "registration_opens_at": "Registration opens",
    "registration_closes_at": "Registration closes", "seat_hold_minutes": "Seat hold (minutes)",
    "consent_text": "Consent text", "currency": "Currency", "vat_rate": "VAT rate (%)",
    "prices_include_vat": "Prices include VAT", "allows_invoice": "Payment by invoice",
    "invoice_due_days": "Invoice due (days)", "refund_full_until": "Full refund until",
    "refund_partial_until": "Partial refund until", "refund_partial_percent": "Partial refund (%)",
    "cancellation_fee": "Cancellation fee",
}
SESSION_LABELS = {"code": "Code", "title": "Title", "starts_at": "Starts", "ends_at": "Ends", "credits": "Credits (CME hours)",
                  "capacity": "Capacity", "amount": "Price", "is_workshop": "Workshop"}
RATE_LABELS = {"code": "Code", "name": "Name", "amount": "Amount", "currency": "Currency", "category": "Category",
               "valid_until": "Offered until", "requires_membership": "Members only",
               "requires_approval": "Needs approval"}
DISCOUNT_LABELS = {"code": "Code", "percent_off": "Percent off", "amount_off": "Amount off", "max_uses": "Maximum uses",
                   "valid_until": "Valid until", "rates": "Rates"}

EVENT_MOMENTS = ("starts_at", "ends_at", "registration_opens_at", "registration_closes_at", "refund_full_until",
                 "refund_partial_until")
_INTEGER = re.compile(r"^[+-]?[0-9]+$")
# Digits beyond any limit the schemas allow; longer numbers are refused before Python reads them.
MAX_DIGITS = 15
# How people write an amount: 450, 450.00, -5.5 (no exponents, no NaN); thousands separators are taken out first.
_AMOUNT = re.compile(rf"^(?P<sign>[+-]?)(?P<whole>[0-9]{{1,{MAX_DIGITS}}})(?:\.(?P<fraction>[0-9]*))?$")


class FormReader:
    """Reads a submitted form into the API's JSON shape; what cannot be read at all (a date that is
    no date, an amount with too many decimals) is noted with a message a person understands, and
    the raw text still goes to the schema so that every other problem shows too."""

    def __init__(self, form: Mapping[str, str], timezone: str) -> None:
        self.form = form
        try:
            self.zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):  # the schema names the bad time zone; read times as UTC
            self.zone = ZoneInfo("UTC")
        self.errors: Errors = {}

    def raw(self, name: str) -> str:
        return self.form.get(name, "").strip()

    def integer(self, name: str) -> int | str | None:
        value = self.raw(name)
        if not value:
            return None
        if not _INTEGER.match(value):
            self.errors[name] = ["Enter a whole number."]
            return value
        if len(value.lstrip("+-")) > MAX_DIGITS:
            self.errors[name] = ["This number is too large."]
            return value
        return int(value)

    def moment(self, name: str) -> str | None:
        """A ``datetime-local`` value (2027-03-04T18:00) in the form's time zone, as ISO 8601 with its offset."""
        value = self.raw(name)
        if not value:
            return None
        try:
            local = dt.datetime.fromisoformat(value)
        except ValueError:
            self.errors[name] = ["Enter a date and time, e.g. 2027-03-04 18:00."]
            return value
        if local.tzinfo is None:
            local = local.replace(tzinfo=self.zone)
        return local.isoformat(timespec="seconds")

    def amount(self, name: str, currency: str) -> int | str | None:
        """Major units as typed (450.00, 450) in minor units of ``currency`` (45000)."""
        value = self.raw(name).replace(",", "")
        if not value:
            return None
        try:
            decimals = minor_units(currency)
        except ValueError:  # the currency field has its own error; read as the usual 2 decimals
            decimals = 2
        typed = _AMOUNT.match(value)
        if typed is None:
            self.errors[name] = ["Enter an amount such as 450.00."]
            return value
        fraction = (typed["fraction"] or "").rstrip("0")
        if len(fraction) > decimals:
            self.errors[name] = [f"Enter an amount with at most {decimals} decimals."]
            return value
        minor = Decimal(f"{typed['sign']}{typed['whole']}.{fraction or '0'}").scaleb(decimals)
        return int(minor)

    def checkbox(self, name: str) -> bool:
        return name in self.form

    def choice(self, name: str) -> bool | None:
        """A yes/no select whose empty choice leaves the API's default."""
        return {"yes": True, "no": False}.get(self.raw(name))


def as_list(messages: Any) -> list[Any]:
    return messages if isinstance(messages, list) else [messages]


def load(schema: Schema, payload: dict[str, Any], reader: FormReader) -> tuple[dict[str, Any], Errors]:
    """The API's schema over the form's payload: its data, or every error at once, field by field."""
    try:
        data = schema.load(payload)
    except ValidationError as error:
        errors = {}
        for name, messages in error.normalized_messages().items():
            if name in BY_KEY_FIELDS and isinstance(messages, dict):  # a session's credits by system: credits-ECMEC
                errors.update({f"{name}-{key}": messages_of(nested) for key, nested in messages.items()})
            else:
                errors[name] = ["This is required." if m == REQUIRED_MESSAGE else str(m) for m in as_list(messages)]
        return {}, {**errors, **reader.errors}
    if reader.errors:
        return {}, dict(reader.errors)
    return data, {}


def in_form_order(errors: Errors, labels: dict[str, str]) -> Errors:
    """The error summary lists problems in the order of the fields on the page (the labels' order)."""
    order = {name: position for position, name in enumerate(labels)}
    return {name: errors[name] for name in sorted(errors, key=lambda name: order.get(name, len(order)))}


def refused(error: ApiError) -> Errors:
    """A service's refusal (a conflict, a rule the schema cannot see) as form errors."""
    if error.fields:
        return {name: [str(m) for m in as_list(messages)] for name, messages in error.fields.items()}
    return {"_schema": [error.message]}


def without_empty(payload: dict[str, Any], *keep_none: str) -> dict[str, Any]:
    """Empty optional fields are left out (the API's default applies), except those where empty means
    "none" (unlimited capacity, no venue, no end of the offer)."""
    return {key: value for key, value in payload.items() if value not in (None, "") or key in keep_none}


def local_input(value: dt.datetime | None, timezone: str) -> str:
    """A stored moment as a ``datetime-local`` value in the event's zone; seconds only when it has them,
    so an untouched field reads back as the same moment."""
    if value is None:
        return ""
    local = value.astimezone(ZoneInfo(timezone))
    return local.strftime("%Y-%m-%dT%H:%M:%S" if local.second else "%Y-%m-%dT%H:%M")


def plain_decimal(value: Decimal | int) -> str:
    """1.5 for 1.50, 10 for 10.00 (never 1E+1): credits as people write them."""
    return f"{Decimal(value).normalize():f}"


def credits_text(item: EventSession) -> str:
    """A session's credits as the overview shows them: "ECMEC 3; NVVTG 2" when given by credit system
    (none in any: "none"), else its one figure, the event's first system's."""
    if item.credits_by_system is None:
        return plain_decimal(item.credits)
    return "; ".join(f"{code} {plain_decimal(Decimal(amount))}" for code, amount in item.credits_by_system.items()) \
        or "none"


def credit_totals(items: list[EventSession]) -> str | None:
    """The sessions' credits added up per credit system ("ECMEC 5; NVVTG 2"), those given as one figure
    under "first system"; None when no session has credits by system (one total says it all)."""
    if not any(item.credits_by_system is not None for item in items):
        return None
    totals: dict[str, Decimal] = {}
    for item in items:
        given = item.credits_by_system if item.credits_by_system is not None else {"first system": item.credits}
        for code, amount in given.items():
            totals[code] = totals.get(code, Decimal(0)) + Decimal(amount)
    return "; ".join(f"{code} {plain_decimal(total)}" for code, total in totals.items())


def revenue_text(figures: event_summary.EventCounts, currency: str) -> str:
    """What an event kept, e.g. "EUR 1,250.00" ("EUR 0.00" before anyone paid; each currency if several)."""
    return ", ".join(format_money(amount, code) for code, amount in sorted(figures.revenue.items())) \
        or format_money(0, currency)


def major_input(amount: int, currency: str) -> str:
    decimals = minor_units(currency)
    return f"{Decimal(amount).scaleb(-decimals):.{decimals}f}"


# --- the list and the overview ------------------------------------------------------------


@route("/events", Role.VIEWER)
def events() -> tuple[str, int]:
    """Upcoming and running events first (soonest first), then past ones (latest first)."""
    session = get_session()
    organisation_id = current_organisation().id
    every_event = event_service.list_events(session, organisation_id)
    now = utcnow()
    return render("console/events.html",
                  upcoming=[event for event in every_event if event.ends_at > now],
                  past=sorted((event for event in every_event if event.ends_at <= now),
                              key=lambda event: event.starts_at, reverse=True),
                  counts=event_summary.event_counts(session, organisation_id), revenue_text=revenue_text,
                  empty=event_summary.EventCounts())


@route("/events/<slug:slug>", Role.VIEWER)
def event_overview(slug: str) -> tuple[str, int]:
    session = get_session()
    event = organiser_event(slug)
    counts = event_summary.event_counts(session, event.organisation_id, event.id).get(event.id)
    return render("console/event_overview.html", event=event, counts=counts or event_summary.EventCounts(),
                  discount_codes=event_summary.discount_codes(session, event), plain=plain_decimal,
                  revenue_text=revenue_text, credits_text=credits_text, credit_totals=credit_totals,
                  public_url=f"{public_base()}/events/{event.slug}",
                  category_labels=CATEGORY_LABELS, kind_labels=KIND_LABELS)


# --- creating and editing an event ------------------------------------------------------


def _event_payload(reader: FormReader, creating: bool) -> dict[str, Any]:
    """The form as ``EventInput``/``EventPatch`` JSON. Creating, an empty optional field takes the API's
    default; editing, the form shows every value, so an emptied text is a blank the schema refuses."""
    currency = reader.raw("currency").upper()
    payload: dict[str, Any] = {
        "title": reader.raw("title"), "kind": reader.raw("kind"), "timezone": reader.raw("timezone"),
        "currency": currency, "capacity": reader.integer("capacity"),
        "venue": reader.raw("venue") or None, "join_url": reader.raw("join_url") or None,
        "zoom_webinar_id": reader.raw("zoom_webinar_id").replace(" ", "") or None,
        "description": reader.raw("description") or None,
        **{name: reader.moment(name) for name in EVENT_MOMENTS},
        "consent_text": reader.raw("consent_text"), "vat_rate": reader.raw("vat_rate"),
        "prices_include_vat": reader.checkbox("prices_include_vat"),
        "seat_hold_minutes": reader.integer("seat_hold_minutes"),
        "refund_partial_percent": reader.integer("refund_partial_percent"),
        "cancellation_fee": reader.amount("cancellation_fee", currency),
        "allows_invoice": reader.checkbox("allows_invoice"),
        "invoice_due_days": reader.integer("invoice_due_days"),
    }
    nullable = ("capacity", "venue", "join_url", "zoom_webinar_id", "description", "registration_opens_at", "registration_closes_at",
                "refund_full_until", "refund_partial_until")
    if creating:
        payload["slug"] = reader.raw("slug")
        return without_empty(payload, *nullable)
    return without_empty(payload, *nullable, "title", "kind", "timezone", "currency", "consent_text", "vat_rate")


def _event_form(template: str, status: int, values: Mapping[str, Any], errors: Errors, **context: Any) -> tuple[str, int]:
    return render(template, status, values=values, errors=in_form_order(errors, EVENT_LABELS), labels=EVENT_LABELS,
                  time_zones=TIME_ZONES,
                  kinds=KINDS, kind_labels=KIND_LABELS, **context)


@route("/events/new", Role.STAFF, methods=("GET", "POST"))
def event_new() -> Any:
    """A new event with everything the API's ``POST /events`` takes; sessions and rates come next."""
    if request.method == "GET":
        defaults = {"kind": "webinar", "currency": "EUR", "prices_include_vat": "on", "vat_rate": "0",
                    "seat_hold_minutes": "30", "invoice_due_days": "30", "refund_partial_percent": "0",
                    "consent_text": event_service.DEFAULT_CONSENT_TEXT}
        return _event_form("console/event_new.html", 200, defaults, {})
    reader = FormReader(request.form, request.form.get("timezone", ""))
    data, errors = load(EventInput(), _event_payload(reader, creating=True), reader)
    if not errors:
        try:
            event = event_service.create_event(get_session(), current_organisation().id, data)
        except ApiError as error:
            errors = refused(error)
        else:
            flash(f"Event “{event.title}” created. Add its sessions and rates next.")
            return see_other("console.event_overview", slug=event.slug)
    return _event_form("console/event_new.html", 422, request.form, errors)


def _event_values(event: Event) -> dict[str, Any]:
    """The event as the edit form shows it: times in its zone, money in major units."""
    values: dict[str, Any] = {name: getattr(event, name) or "" for name in (
        "title", "kind", "timezone", "currency", "venue", "join_url", "zoom_webinar_id", "description",
        "consent_text")}
    values.update({name: local_input(getattr(event, name), event.timezone) for name in EVENT_MOMENTS})
    values.update({
        "capacity": "" if event.capacity is None else str(event.capacity),
        "vat_rate": f"{event.vat_rate.normalize():f}", "seat_hold_minutes": str(event.seat_hold_minutes),
        "refund_partial_percent": str(event.refund_partial_percent),
        "cancellation_fee": major_input(event.cancellation_fee, event.currency) if event.cancellation_fee else "",
        "invoice_due_days": str(event.invoice_due_days),
    })
    values.update({name: "on" for name in ("prices_include_vat", "allows_invoice") if getattr(event, name)})
    return values


@route("/events/<slug:slug>/edit", Role.STAFF, methods=("GET", "POST"))
def event_edit(slug: str) -> Any:
    """Everything ``PATCH /events/{slug}`` changes. Only what differs from the event goes to
    ``update_event``: attendees hear of a new time or place, not of a form saved unchanged."""
    event = organiser_event(slug)
    if request.method == "GET":
        return _event_form("console/event_edit.html", 200, _event_values(event), {}, event=event)
    reader = FormReader(request.form, request.form.get("timezone", ""))
    data, errors = load(EventPatch(), _event_payload(reader, creating=False), reader)
    if not errors:
        changes = {name: value for name, value in data.items() if value != getattr(event, name)}
        try:
            event_service.update_event(get_session(), event, changes)
        except ApiError as error:
            errors = refused(error)
        else:
            flash("Event settings saved." if changes else "Nothing was changed.")
            return see_other("console.event_overview", slug=event.slug)
    return _event_form("console/event_edit.html", 422, request.form, errors, event=event)


ZOOM_NOT_CONNECTED = ("Zoom is not connected: an owner connects the organisation’s Zoom app on the Zoom page "
                      "first, then the webinar can be created here.")


@route("/events/<slug:slug>/zoom-webinar", Role.STAFF, methods=("POST",))
def event_zoom_webinar(slug: str) -> Any:
    """Creates the event's webinar at Zoom and links it (the API's ``POST /events/{slug}/zoom-webinar``);
    a refusal (no connection, linked already, Zoom failed) is said in words on the settings page."""
    event = organiser_event(slug)
    commit_before_calling_out()
    try:
        webinar_id = webinars.create_and_link(get_session(), get_db(), current_app.extensions["suite_settings"], event)
    except ApiError as refusal:
        not_connected = refusal.code == "zoom_not_connected"
        return _event_form("console/event_edit.html", refusal.status, _event_values(event), {}, event=event,
                           zoom_error=ZOOM_NOT_CONNECTED if not_connected else refusal.message,
                           zoom_not_connected=not_connected)
    flash(f"Zoom webinar {webinar_id} created and linked: confirmed attendees become its registrants.")
    return see_other("console.event_edit", slug=event.slug, _anchor="zoom")


# --- sessions, workshops, rates, discount codes ------------------------------------------


def _add_form(slug: str, template: str, labels: dict[str, str], defaults: Callable[[Event], dict[str, Any]],
              payload: Callable[[FormReader, Event], dict[str, Any]], schema: Schema,
              add: Callable[[Any, Event, dict[str, Any]], Any], done: str, **context: Any) -> Any:
    """One "add to this event" page: the form, the API's schema, the API's service function, and
    back to the overview with a short note of what was added."""
    event = organiser_event(slug)
    if request.method == "GET":
        values, errors, status = defaults(event), {}, 200
    else:
        reader = FormReader(request.form, event.timezone)
        data, errors = load(schema, payload(reader, event), reader)
        if not errors:
            try:
                added = add(get_session(), event, data)
            except ApiError as error:
                errors = refused(error)
            else:
                flash(done.format(code=added.code))
                return see_other("console.event_overview", slug=event.slug)
        values, status = request.form, 422
    return render(template, status, event=event, values=values, errors=in_form_order(errors, labels), labels=labels,
                  **context)


def _session_payload(reader: FormReader, event: Event, workshop: bool, codes: list[str]) -> dict[str, Any]:
    """With several credit systems (``codes``), the credits as an object by system; an empty input is
    left out, which the API reads as no credits in that system."""
    credits: str | dict[str, str] = reader.raw("credits")
    if codes:
        credits = {code: reader.raw(f"credits-{code}") for code in codes if reader.raw(f"credits-{code}")}
    payload = {"code": reader.raw("code"), "title": reader.raw("title"), "starts_at": reader.moment("starts_at"),
               "ends_at": reader.moment("ends_at"), "capacity": reader.integer("capacity"), "credits": credits}
    if workshop:
        payload.update(is_workshop=True, amount=reader.amount("amount", event.currency))
        if payload["amount"] is None:
            payload["amount"] = 0
    return without_empty(payload, "capacity")


def _session_defaults(event: Event) -> dict[str, Any]:
    return {"starts_at": local_input(event.starts_at, event.timezone),
            "ends_at": local_input(event.ends_at, event.timezone), "credits": "0"}


def _session_systems(slug: str) -> tuple[list[dict[str, Any]], str | None, dict[str, str]]:
    """The credit systems a session's form asks credits in (none: one credits input), the note when
    certificates cannot say, and the form's labels (credits-CODE per system when there are several)."""
    systems, note = credit_systems.systems_for_sessions(slug)
    several = systems if len(systems) > 1 else []
    labels: dict[str, str] = {}
    for name, label in SESSION_LABELS.items():
        if name != "credits" or not several:
            labels[name] = label
            continue
        labels.update({f"credits-{system['code']}": f"Credits in {system['name']} ({system['code']})"
                       for system in several})
    return several, note, labels


def _session_form(slug: str, workshop: bool) -> Any:
    """The session form; with several credit systems at certificates, one credits input per system."""
    organiser_event(slug)  # another organisation's event is a 404 before certificates is asked
    several, note, labels = _session_systems(slug)
    codes = [system["code"] for system in several]
    return _add_form(slug, "console/event_session_new.html", labels, _session_defaults,
                     lambda reader, event: _session_payload(reader, event, workshop, codes), EventSessionInput(),
                     event_service.add_session, ("Workshop" if workshop else "Session") + " {code} added.",
                     workshop=workshop, systems=several, systems_note=note)


@route("/events/<slug:slug>/sessions/new", Role.STAFF, methods=("GET", "POST"))
def session_new(slug: str) -> Any:
    """A programme session with its accredited credits, as ``POST /events/{slug}/sessions``."""
    return _session_form(slug, workshop=False)


@route("/events/<slug:slug>/workshops/new", Role.STAFF, methods=("GET", "POST"))
def workshop_new(slug: str) -> Any:
    """A workshop: a session attendees choose at sign-up, at its own price and capacity."""
    return _session_form(slug, workshop=True)


# The fields a session's edit form always shows: emptied, they are missing, not left unchanged.
SESSION_REQUIRED = ("title", "starts_at", "ends_at")


def _current_credits(item: EventSession, codes: list[str]) -> Decimal | dict[str, Decimal]:
    """A session's credits as its edit form gives them back: by system when the form asks per system
    (plain credits being the first system's), else its one figure."""
    if not codes:
        return item.credits
    if item.credits_by_system is None:
        return {codes[0]: item.credits}
    return {code: Decimal(amount) for code, amount in item.credits_by_system.items()}


def _session_values(item: EventSession, event: Event, codes: list[str]) -> dict[str, Any]:
    """The session as its edit form shows it: times in the event's zone, credits as people write them."""
    values: dict[str, Any] = {"title": item.title, "starts_at": local_input(item.starts_at, event.timezone),
                              "ends_at": local_input(item.ends_at, event.timezone),
                              "capacity": "" if item.capacity is None else str(item.capacity)}
    current = _current_credits(item, codes)
    if isinstance(current, dict):
        values.update({f"credits-{code}": plain_decimal(amount) for code, amount in current.items()})
    else:
        values["credits"] = plain_decimal(current)
    if item.is_workshop:
        values["amount"] = major_input(item.amount, event.currency)
    return values


def _session_changes(reader: FormReader, item: EventSession, event: Event,
                     codes: list[str]) -> tuple[dict[str, Any], Errors]:
    """The form loaded with the API's ``EventSessionPatch`` (partial, as ``PATCH`` takes it), and of
    it only what differs from the session: credits count as unchanged when they are the same figures
    (plain credits asked per system are the first system's)."""
    payload = _session_payload(reader, event, item.is_workshop, codes)
    payload.pop("code", None)  # the session's address, not one of its fields
    payload.pop("is_workshop", None)
    for name in (*SESSION_REQUIRED, *([] if codes else ["credits"])):
        if payload.get(name) in (None, ""):
            payload.pop(name, None)
            reader.errors[name] = ["This is required."]
    data, errors = load(EventSessionPatch(partial=True), payload, reader)
    if errors:
        return {}, errors
    current = {"title": item.title, "starts_at": item.starts_at, "ends_at": item.ends_at, "capacity": item.capacity,
               "amount": item.amount, "credits": _current_credits(item, codes)}
    # Credits shown as one figure (certificates unreachable) and left as they were keep their systems.
    return {name: value for name, value in data.items() if value != current[name]}, {}


@route("/events/<slug:slug>/sessions/<code>/edit", Role.STAFF, methods=("GET", "POST"))
def session_edit(slug: str, code: str) -> Any:
    """A session's or workshop's title, time, capacity, credits and (a workshop's) price, as
    ``PATCH /events/{slug}/sessions/{code}``; only what differs goes to ``update_session``. The
    code is the session's address and stays."""
    event = organiser_event(slug)
    item = event_service.get_session_of(event, code)  # an unknown code is a 404 before certificates is asked
    several, note, labels = _session_systems(slug)
    labels.pop("code", None)
    codes = [system["code"] for system in several]
    what = "Workshop" if item.is_workshop else "Session"
    if request.method == "GET":
        values, errors, status = _session_values(item, event, codes), {}, 200
    else:
        changes, errors = _session_changes(FormReader(request.form, event.timezone), item, event, codes)
        if not errors:
            try:
                event_service.update_session(get_session(), item, changes)
            except ApiError as error:
                errors = refused(error)
            else:
                flash(f"{what} {item.code} saved." if changes else f"{what} {item.code}: nothing was changed.")
                return see_other("console.event_overview", slug=event.slug)
        values, status = request.form, 422
    return render("console/event_session_edit.html", status, event=event, item=item, values=values,
                  errors=in_form_order(errors, labels), labels=labels, workshop=item.is_workshop, systems=several,
                  systems_note=note)


def _rate_payload(reader: FormReader, event: Event) -> dict[str, Any]:
    currency = reader.raw("currency").upper()
    return without_empty({
        "code": reader.raw("code"), "name": reader.raw("name"), "amount": reader.amount("amount", currency),
        "currency": currency, "category": reader.raw("category"), "valid_until": reader.moment("valid_until"),
        "requires_membership": reader.choice("requires_membership"),
        "requires_approval": reader.choice("requires_approval"),
    })


@route("/events/<slug:slug>/rates/new", Role.STAFF, methods=("GET", "POST"))
def rate_new(slug: str) -> Any:
    """A price, as ``POST /events/{slug}/rates``; an early-bird rate is one offered until a date."""
    return _add_form(slug, "console/event_rate_new.html", RATE_LABELS,
                     lambda event: {"currency": event.currency, "category": "other"},
                     _rate_payload, RateInput(), event_service.add_rate, "Rate {code} added.",
                     categories=CATEGORIES, category_labels=CATEGORY_LABELS)


def _discount_payload(reader: FormReader, event: Event) -> dict[str, Any]:
    return without_empty({
        "code": reader.raw("code"), "percent_off": reader.integer("percent_off"),
        "amount_off": reader.amount("amount_off", event.currency), "max_uses": reader.integer("max_uses"),
        "valid_until": reader.moment("valid_until"), "rates": request.form.getlist("rates") or None,
    })


@route("/events/<slug:slug>/discount-codes/new", Role.STAFF, methods=("GET", "POST"))
def discount_code_new(slug: str) -> Any:
    """A discount code, as ``POST /events/{slug}/discount-codes``: percent or amount off."""
    return _add_form(slug, "console/event_discount_new.html", DISCOUNT_LABELS, lambda event: {},
                     _discount_payload, DiscountCodeInput(), pricing.add_code, "Discount code {code} added.")

