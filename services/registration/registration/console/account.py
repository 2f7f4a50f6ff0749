"""Signing in by an emailed one-time link, signing out, and the way in (``/console/``).

Opening a link only shows a "Sign in" button; the POST of that button spends the link. Mail
scanners and link previews open links by GET, and would otherwise spend them before the person
clicks.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Response, current_app, g, make_response, redirect, request, url_for
from marshmallow import Schema, ValidationError, fields, validate

from suite_common.db import get_session, utcnow

from ..models import Organisation
from ..services import accounts
from ..services.accounts import LinkRefused
from .core import COOKIE, form_errors, render, route

LINK_REFUSALS = {
    "used": "This sign-in link has been used already: each link works once.",
    "expired": "This sign-in link has expired: links work for 15 minutes.",
    "unknown": "This sign-in link is not valid: it may have been copied incompletely.",
}


class SignInRequest(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254),
                         error_messages={"required": "Enter your email address."})


def _safe_next(target: str | None) -> str:
    """Only a console path of this site: a link must not lead from sign-in to anywhere else."""
    if target and target.startswith("/console/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("console.events")


@route("/", None)
def index() -> Response:
    return redirect(url_for("console.events" if g.get("person") else "console.sign_in"), 303)


@route("/sign-in", None, methods=("GET", "POST"))
def sign_in() -> Any:
    """Asks for an address and mails a link to it, answering the same whether or not it belongs to
    someone (the form tells no stranger who organises what)."""
    if request.method == "GET":
        return render("console/sign_in.html", values={}, errors={}, next=request.args.get("next", ""))
    try:
        data = SignInRequest().load({"email": request.form.get("email", "").strip()})
    except ValidationError as error:
        return render("console/sign_in.html", 422, values=request.form, errors=form_errors(error), next="")
    accounts.request_sign_in(get_session(), data["email"], utcnow())
    return render("console/sign_in_sent.html", email=data["email"])


@route("/sign-in/<token>", None, methods=("GET", "POST"))
def redeem(token: str) -> Any:
    """GET shows who the link signs in; POST signs in. A used or expired link says so (410) and
    offers a new one; an unknown one is a 404 (and counts towards the failed-lookup limit)."""
    session = get_session()
    now = utcnow()
    try:
        if request.method == "GET":
            link = accounts.check_link(session, token, now)
            organisation = session.get(Organisation, link.account.organisation_id)
            return render("console/sign_in_confirm.html", account=link.account, organisation=organisation,
                          next=request.args.get("next", ""))
        secret = accounts.redeem_link(session, token, now)
    except LinkRefused as refusal:
        status = 404 if refusal.reason == "unknown" else 410
        return render("console/sign_in.html", status, values={}, errors={}, next="",
                      refusal=LINK_REFUSALS[refusal.reason])
    response = make_response(redirect(_safe_next(request.form.get("next")), 303))
    settings = current_app.extensions["suite_settings"]
    response.set_cookie(COOKIE, secret, httponly=True, samesite="Lax", path="/console",
                        secure=settings.public_base_url.startswith("https://") or request.is_secure)
    return response


@route("/sign-out", None, methods=("POST",))
def sign_out() -> Response:
    secret = request.cookies.get(COOKIE)
    if secret:
        accounts.sign_out(get_session(), secret)
    response = make_response(redirect(url_for("console.sign_in", signed_out=1), 303))
    response.delete_cookie(COOKIE, path="/console")
    return response
