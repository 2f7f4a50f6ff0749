"""Attendee pages: event page, sign-up form, self-service (/r/<token>).

Server-rendered, CSRF-protected, usable without JavaScript. The form is checked
with the same marshmallow schema as the JSON API, so both refuse the same input.
"""
from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext
from marshmallow import ValidationError

from suite_common.db import get_session, utcnow
from suite_common.errors import ApiError
from suite_common.forms import protect_forms
from suite_common.i18n import current_language
from suite_common.idempotency import request_key

from ..models import RegistrationStatus
from ..schemas.registrations import NameCorrection
from ..services import calendar, capacity, pricing, receipts, signup
from ..services import events as event_service
from ..services import faculty as faculty_service
from ..services.urls import manage_url, participant_url, public_domain
from . import checkout, signup_form
from .countries import country_choices
from .lookups import attendee_registration, public_event

blp = Blueprint("pages", __name__)


protect_forms(blp)

# The error summary's order is the form's (the summary links to each field, top to bottom).
FIELD_LABELS = {"given_name": lazy_gettext("Given name"), "family_name": lazy_gettext("Family name"),
                "email": lazy_gettext("Email"), "rate": lazy_gettext("Rate"),
                "member_number": lazy_gettext("Member number"), "workshops": lazy_gettext("Workshops"),
                "discount_code": lazy_gettext("Discount code"), "country": lazy_gettext("Country where you work"),
                "answers": lazy_gettext("Institution"),
                "consent": lazy_gettext("Consent")}
# The answer stored is the English value, whatever language the form was shown in: the roster and the
# reports group by it. The label is the attendee's language.
PROFESSIONS = {
    "Radiologist": lazy_gettext("Radiologist"),
    "Nuclear medicine physician": lazy_gettext("Nuclear medicine physician"),
    "Radiation oncologist": lazy_gettext("Radiation oncologist"),
    "Pathologist": lazy_gettext("Pathologist"),
    "Radiographer / technologist": lazy_gettext("Radiographer / technologist"),
    "Medical physicist": lazy_gettext("Medical physicist"),
    "Technical physician": lazy_gettext("Technical physician"),
    "Data scientist / engineer": lazy_gettext("Data scientist / engineer"),
    "Trainee / resident": lazy_gettext("Trainee / resident"),
    "Student": lazy_gettext("Student"),
    "Other": lazy_gettext("Other"),
}


@blp.get("/")
def index() -> str:
    return render_template("index.html", events=event_service.upcoming_events(get_session(), utcnow()))


@blp.get("/events/<slug:slug>")
def event_page(slug: str) -> str:
    event = public_event(slug)
    now = utcnow()
    return render_template("event.html", event=event, refusal=event_service.registration_window_refusal(event, now),
                           rates=event_service.rates_on_offer(event, now),
                           faculty=faculty_service.list_faculty(get_session(), event))


def _form(event: Any, rates: list[Any], values: dict[str, Any], errors: dict[str, list[str]], status: int,
          now: Any) -> tuple[str, int]:
    """The sign-up form: empty, shown again after "Change" with what was typed, or with every error at once."""
    return render_template(
        "register.html", event=event, rates=rates, values=values, errors=errors, professions=PROFESSIONS,
        countries=country_choices(), field_labels=FIELD_LABELS, refusal=event_service.registration_window_refusal(event, now),
        language_page=url_for("pages.register", slug=event.slug),
    ), status


@blp.route("/events/<slug:slug>/register", methods=["GET", "POST"])
def register(slug: str) -> Any:
    """The form (GET), and the sign-up itself (POST: the review step's "Confirm", with the review's hidden
    fields and the form's key, so that a second Confirm replays the first instead of signing up twice)."""
    session = get_session()
    event = public_event(slug)
    now = utcnow()
    rates = event_service.rates_on_offer(event, now)
    if request.method == "GET":
        values = {"rate": rates[0].code if len(rates) == 1 else "", "form_key": uuid.uuid4().hex}
        return _form(event, rates, values, {}, 200, now)
    values = signup_form.values(request.form)
    data, errors = signup_form.parse(request.form)
    if errors:
        return _form(event, rates, values, signup_form.merge(errors, signup.review(session, event, data, now).errors),
                     422, now)
    try:
        outcome = signup.sign_up(session, event, data, idempotency_key=request_key("form_key"),
                                 language=current_language())
    except ApiError as exc:
        errors = dict(exc.fields or {"_form": [exc.message]})
        if exc.fields and exc.code != "validation_error":
            errors["_form"] = [exc.message]
        return _form(event, rates, values, errors, exc.status, now)
    if outcome.registration.status == RegistrationStatus.PENDING_PAYMENT:
        return redirect(url_for("pages.pay", token=outcome.registration.manage_token), code=303)
    return redirect(url_for("pages.manage", token=outcome.registration.manage_token, new=1), code=303)


@blp.post("/events/<slug:slug>/register/review")
def review_signup(slug: str) -> Any:
    """The review step: the form checked in full (every refusal at once, nothing stored) and, when all is
    well, the total (rate, discount, workshops, VAT) before the attendee commits or leaves for payment.
    "Change" comes back here and shows the form again with everything kept. No JavaScript involved."""
    event = public_event(slug)
    now = utcnow()
    rates = event_service.rates_on_offer(event, now)
    values = signup_form.values(request.form)
    if request.form.get("change"):
        return _form(event, rates, values, {}, 200, now)
    data, errors = signup_form.parse(request.form)
    checked = signup.review(get_session(), event, data, now)
    errors = signup_form.merge(errors, checked.errors)
    if errors:
        return _form(event, rates, values, errors, 422, now)
    return render_template("review.html", event=event, values=values, checked=checked, professions=PROFESSIONS,
                           countries=dict(country_choices()),
                           language_page=url_for("pages.register", slug=event.slug))


@blp.get("/r/<token>")
def manage(token: str) -> str:
    registration = attendee_registration(token)
    return render_template(
        "manage.html", registration=registration, event=registration.event, just_registered=request.args.get("new"),
        participant_url=participant_url(registration), paid_now=request.args.get("paid") and not registration.paid_at,
        position=capacity.waitlist_position(get_session(), registration), message=request.args.get("done"),
    )


@blp.get("/r/<token>/calendar.ics")
def calendar_file(token: str) -> Response:
    registration = attendee_registration(token)
    body = calendar.registration_calendar(registration, public_domain(), manage_url(registration),
                                          cancelled=RegistrationStatus(registration.status).ended)
    return Response(body, mimetype="text/calendar", headers={
        "Content-Disposition": f'attachment; filename="{registration.event.slug}.ics"'})


@blp.route("/r/<token>/cancel", methods=["GET", "POST"])
def cancel(token: str) -> Any:
    """A confirm step that shows the refund (or what the policy keeps) before anything is cancelled; the
    POST carries the refund it showed, and a refund changed in between is shown again, not applied."""
    registration = attendee_registration(token)
    changed = None
    if request.method == "POST":
        try:
            signup.cancel(get_session(), registration, refund_shown=request.form.get("refund"))
            return redirect(url_for("pages.manage", token=token, done="cancelled"), code=303)
        except ApiError as exc:
            if exc.code != "refund_changed":
                raise
            changed = exc.message
    return render_template("cancel.html", registration=registration, event=registration.event, changed=changed,
                           preview=pricing.refund_preview(registration, utcnow()),
                           language_page=url_for("pages.cancel", token=token)), 409 if changed else 200


@blp.post("/r/<token>/name")
def correct_name(token: str) -> Any:
    registration = attendee_registration(token)
    session = get_session()
    try:
        data = NameCorrection().load({"given_name": request.form.get("given_name", ""),
                                      "family_name": request.form.get("family_name", "")})
        signup.correct_name(session, registration, data["given_name"], data["family_name"])
    except ValidationError as exc:
        return render_template(
            "manage.html", registration=registration, event=registration.event,
            name_errors={name: [signup_form.in_words(name, request.form.get(name))] for name in exc.normalized_messages()},
            position=capacity.waitlist_position(session, registration), name_values=request.form,
            language_page=url_for("pages.manage", token=token),
        ), 422
    except ApiError as exc:
        abort(exc.status, description=exc.message)
    return redirect(url_for("pages.manage", token=token, done="name"), code=303)


@blp.get("/r/<token>/pay")
def pay(token: str) -> Any:
    """To Stripe's checkout page while the seat is held for this registration."""
    registration = attendee_registration(token)
    url = checkout.payment_url(registration)
    if url is None or url.endswith(f"/r/{token}/pay"):
        return redirect(url_for("pages.manage", token=token), code=303)
    return redirect(url, code=303)


@blp.get("/r/<token>/receipt.pdf")
def receipt(token: str) -> Response:
    registration = attendee_registration(token)
    document = receipts.for_registration(get_session(), registration, "receipt")
    if document is None:
        abort(404, description=gettext("There is no receipt for this registration (yet)."))
    return Response(receipts.render(document), mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="receipt-{document.number}.pdf"',
        "Cache-Control": "private, no-store"})
