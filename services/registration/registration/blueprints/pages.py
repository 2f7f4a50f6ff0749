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
from ..schemas.registrations import NameCorrection, SignUpInput
from ..services import calendar, capacity, receipts, signup
from ..services import events as event_service
from ..services import faculty as faculty_service
from ..services.urls import manage_url, participant_url, public_domain
from . import checkout
from .lookups import attendee_registration, public_event

blp = Blueprint("pages", __name__)


protect_forms(blp)

FORM_FIELDS = ("email", "given_name", "family_name", "rate", "member_number", "discount_code", "profession",
               "institution")
FIELD_LABELS = {"given_name": lazy_gettext("Given name"), "family_name": lazy_gettext("Family name"),
                "email": lazy_gettext("Email"), "rate": lazy_gettext("Rate"),
                "member_number": lazy_gettext("Member number"), "answers": lazy_gettext("Answers"),
                "consent": lazy_gettext("Consent"), "discount_code": lazy_gettext("Discount code"),
                "workshops": lazy_gettext("Workshops")}
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


def _form_payload(form: Any) -> dict[str, Any]:
    answers = {k: form.get(k, "").strip() for k in ("profession", "institution") if form.get(k, "").strip()}
    return {
        "email": form.get("email", ""),
        "given_name": form.get("given_name", ""),
        "family_name": form.get("family_name", ""),
        "rate": form.get("rate", ""),
        **({"member_number": form["member_number"]} if form.get("member_number", "").strip() else {}),
        "answers": answers,
        "consent": form.get("consent") == "yes",
        "announcements": form.get("announcements") == "yes",
        "discount_code": form.get("discount_code", "").strip() or None,
        "workshops": form.getlist("workshops"),
    }


@blp.route("/events/<slug:slug>/register", methods=["GET", "POST"])
def register(slug: str) -> Any:
    session = get_session()
    event = public_event(slug)
    now = utcnow()
    rates = event_service.rates_on_offer(event, now)
    values: dict[str, Any] = {"rate": rates[0].code if len(rates) == 1 else "", "form_key": uuid.uuid4().hex}
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        values = {k: request.form.get(k, "") for k in FORM_FIELDS}
        values["consent"] = request.form.get("consent") == "yes"
        values["announcements"] = request.form.get("announcements") == "yes"
        values["workshops"] = request.form.getlist("workshops")
        values["form_key"] = request.form.get("form_key") or uuid.uuid4().hex
        try:
            data = SignUpInput().load(_form_payload(request.form))
            outcome = signup.sign_up(session, event, data, idempotency_key=request_key("form_key"),
                                     language=current_language())
            if outcome.registration.status == RegistrationStatus.PENDING_PAYMENT:
                return redirect(url_for("pages.pay", token=outcome.registration.manage_token), code=303)
            return redirect(url_for("pages.manage", token=outcome.registration.manage_token, new=1), code=303)
        except ValidationError as exc:
            errors = {k: v for k, v in exc.normalized_messages().items()}
            status = 422
        except ApiError as exc:
            errors = exc.fields or {"_form": [exc.message]}
            if exc.fields and exc.code != "validation_error":
                errors["_form"] = [exc.message]
            status = exc.status
    return render_template(
        "register.html", event=event, rates=rates, values=values, errors=errors, professions=PROFESSIONS,
        field_labels=FIELD_LABELS,
        refusal=event_service.registration_window_refusal(event, now),
    ), status


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
    registration = attendee_registration(token)
    if request.method == "POST":
        signup.cancel(get_session(), registration)
        return redirect(url_for("pages.manage", token=token, done="cancelled"), code=303)
    return render_template("cancel.html", registration=registration, event=registration.event)


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
            "manage.html", registration=registration, event=registration.event, name_errors=exc.normalized_messages(),
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
