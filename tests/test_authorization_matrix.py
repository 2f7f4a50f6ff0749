"""Who may call what, for every route of every service, generated from the apps' URL maps.

A route missing from MATRIX fails the test, so a new endpoint cannot ship without a decision
about who may call it. Audiences:
  public     anyone; never answers 401/403 to an anonymous caller
  organiser  a bearer token of an organisation: 401 without or with a wrong token
  attendee   an unguessable token in the URL: an unknown token answers 404
  service    signed calls from the named services: 401 unsigned or wrongly signed, 403 from others
  stripe     Stripe's webhook: 400 without a valid Stripe signature
  zoom       Zoom's webhook: 401 without a valid x-zm-signature
Another organisation's token is checked on the organiser routes that read one event or
registration (404, indistinguishable from a missing one).
The organiser console's routes (registration's /console/...) are people with roles, not tokens:
their matrix is tests/console/test_role_matrix.py, read from the same URL map.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from suite_common.auth import Organisation, sign
from tests.support.apps import make_settings

ORG = "organiser"
PUBLIC = "public"
ATTENDEE = "attendee"
STRIPE = "stripe"
ZOOM = "zoom"


def service(*names: str) -> tuple[str, tuple[str, ...]]:
    return ("service", names)


MATRIX: dict[tuple[str, str, str], Any] = {
    ("registration", "pages.index", "GET"): PUBLIC,
    ("registration", "organiser_api.Events", "GET"): ORG,
    ("registration", "organiser_api.Events", "POST"): ORG,
    ("registration", "organiser_api.EventItem", "GET"): ORG,
    ("registration", "organiser_api.EventItem", "PATCH"): ORG,
    ("registration", "organiser_api.announce", "POST"): ORG,
    ("registration", "organiser_api.add_discount_code", "POST"): ORG,
    ("registration", "invoices_api.open_invoices", "GET"): ORG,
    ("registration", "organiser_api.add_rate", "POST"): ORG,
    ("registration", "organiser_api.list_registrations", "GET"): ORG,
    ("registration", "public_api.register", "POST"): PUBLIC,
    ("registration", "organiser_api.add_session", "POST"): ORG,
    ("registration", "organiser_api.update_session", "PATCH"): ORG,
    ("registration", "identity.organisation", "GET"): ORG,
    ("registration", "organiser_api.put_billing", "PUT"): ORG,
    ("registration", "organiser_api.get_registration", "GET"): ORG,
    ("registration", "organiser_api.cancel_registration", "POST"): ORG,
    ("registration", "invoices_api.issue", "POST"): ORG,
    ("registration", "invoices_api.mark_paid", "POST"): ORG,
    ("registration", "pages.event_page", "GET"): PUBLIC,
    ("registration", "pages.register", "GET"): PUBLIC,
    ("registration", "pages.register", "POST"): PUBLIC,
    ("registration", "internal_api.attendees", "GET"): service("certificates"),
    ("registration", "internal_api.event", "GET"): service("notifications", "certificates"),
    ("registration", "identity.ping", "POST"): service("registration", "notifications", "certificates"),
    ("registration", "internal_api.registration", "GET"): service("certificates"),
    ("registration", "internal_api.ticket", "GET"): service("certificates"),
    ("registration", "internal_api.introspect", "POST"): service("notifications", "certificates"),
    ("registration", "pages.manage", "GET"): ATTENDEE,
    ("registration", "invoice_pages.document_pdf", "GET"): ATTENDEE,
    ("registration", "pages.calendar_file", "GET"): ATTENDEE,
    ("registration", "pages.cancel", "GET"): ATTENDEE,
    ("registration", "pages.cancel", "POST"): ATTENDEE,
    ("registration", "invoice_pages.request_invoice", "GET"): ATTENDEE,
    ("registration", "invoice_pages.request_invoice", "POST"): ATTENDEE,
    ("registration", "pages.correct_name", "POST"): ATTENDEE,
    ("registration", "pages.pay", "GET"): ATTENDEE,
    ("registration", "pages.receipt", "GET"): ATTENDEE,
    ("registration", "mail_links.unsubscribe", "GET"): ATTENDEE,
    ("registration", "mail_links.unsubscribe", "POST"): ATTENDEE,
    ("registration", "webhooks.stripe_webhook", "POST"): STRIPE,
    ("registration", "webhooks.zoom_webhook", "POST"): ZOOM,
    ("registration", "zoom_attendance.AttendanceFetch", "POST"): ORG,
    ("registration", "zoom_attendance.AttendanceFetches", "GET"): ORG,
    ("certificates", "internal_api.import_attendance", "POST"): service("registration"),
    ("registration", "organiser_api.Members", "GET"): ORG,
    ("registration", "organiser_api.Members", "POST"): ORG,
    ("registration", "organiser_api.Members", "PUT"): ORG,
    ("registration", "organiser_api.approve_registration", "POST"): ORG,
    ("registration", "organiser_api.reject_registration", "POST"): ORG,
    ("registration", "privacy.export", "GET"): ORG,
    ("registration", "audit.audit_log", "GET"): ORG,
    ("notifications", "audit.audit_log", "GET"): ORG,
    ("certificates", "audit.audit_log", "GET"): ORG,
    ("registration", "privacy.erase", "POST"): ORG,
    ("registration", "faculty_api.FacultyCollection", "GET"): ORG,
    ("registration", "faculty_api.FacultyCollection", "POST"): ORG,
    ("registration", "faculty_api.FacultyItem", "GET"): ORG,
    ("registration", "faculty_api.FacultyItem", "PATCH"): ORG,
    ("registration", "faculty_api.FacultyItem", "DELETE"): ORG,
    ("registration", "faculty_api.disclosure_link", "POST"): ORG,
    ("registration", "faculty_pages.speaker_form", "GET"): ATTENDEE,
    ("registration", "faculty_pages.speaker_form", "POST"): ATTENDEE,
    ("registration", "internal_api.faculty", "GET"): service("certificates"),
    ("certificates", "transcripts.request_form", "GET"): PUBLIC,
    ("certificates", "transcripts.request_form", "POST"): PUBLIC,
    ("certificates", "transcripts.page", "GET"): ATTENDEE,
    ("certificates", "transcripts.pdf", "GET"): ATTENDEE,
    ("notifications", "privacy_api.export_view", "POST"): service("registration"),
    ("notifications", "privacy_api.erase_view", "POST"): service("registration"),
    ("certificates", "privacy_api.export_view", "POST"): service("registration"),
    ("certificates", "privacy_api.erase_view", "POST"): service("registration"),
    ("notifications", "organiser_api.EventTemplate", "GET"): ORG,
    ("notifications", "organiser_api.list_event_templates", "GET"): ORG,
    ("notifications", "organiser_api.EventTemplate", "PUT"): ORG,
    ("notifications", "organiser_api.EventTemplate", "DELETE"): ORG,
    ("notifications", "organiser_api.list_messages", "GET"): ORG,
    ("notifications", "identity.organisation", "GET"): ORG,
    ("notifications", "internal_api.create_message", "POST"): service("registration", "certificates"),
    ("notifications", "internal_api.cancel_message", "DELETE"): service("registration", "certificates"),
    ("notifications", "identity.ping", "POST"): service("registration", "notifications", "certificates"),
    ("certificates", "organiser_api.revoke", "POST"): ORG,
    ("certificates", "organiser_api.reissue", "POST"): ORG,
    ("certificates", "organiser_api.match_row", "POST"): ORG,
    ("certificates", "organiser_api.AccreditationView", "GET"): ORG,
    ("certificates", "organiser_api.AccreditationView", "PUT"): ORG,
    ("certificates", "organiser_api.put_image", "PUT"): ORG,
    ("certificates", "organiser_api.attendance_export", "GET"): ORG,
    ("certificates", "organiser_api.Reports", "GET"): ORG,
    ("certificates", "organiser_api.Reports", "POST"): ORG,
    ("certificates", "organiser_api.poll_report", "POST"): ORG,
    ("certificates", "organiser_api.Certificates", "GET"): ORG,
    ("certificates", "organiser_api.Certificates", "POST"): ORG,
    ("certificates", "organiser_api.check_in", "POST"): ORG,
    ("certificates", "organiser_api.credits", "GET"): ORG,
    ("certificates", "organiser_api.Evaluations", "GET"): ORG,
    ("certificates", "organiser_api.Evaluations", "POST"): ORG,
    ("certificates", "organiser_api.evaluation_results", "GET"): ORG,
    ("certificates", "organiser_api.PresenceCodes", "GET"): ORG,
    ("certificates", "organiser_api.PresenceCodes", "POST"): ORG,
    ("certificates", "organiser_api.job", "GET"): ORG,
    ("certificates", "identity.organisation", "GET"): ORG,
    ("certificates", "public.download", "GET"): ATTENDEE,
    ("certificates", "public.badge", "GET"): ATTENDEE,
    ("certificates", "public.participant", "GET"): ATTENDEE,
    ("certificates", "public.participant", "POST"): ATTENDEE,
    ("certificates", "identity.ping", "POST"): service("registration", "notifications", "certificates"),
    ("certificates", "public.verify", "GET"): PUBLIC,
    ("certificates", "credentials.credential", "GET"): ATTENDEE,
    ("certificates", "credentials.credential_by_code", "GET"): PUBLIC,
    ("certificates", "credentials.issuer", "GET"): PUBLIC,
    ("certificates", "credentials.jwks", "GET"): PUBLIC,
    ("certificates", "credentials.status", "GET"): PUBLIC,
    ("certificates", "credentials.verify_page", "GET"): PUBLIC,
    ("certificates", "credentials.verify_page", "POST"): PUBLIC,
    ("certificates", "verify_api.verify", "POST"): PUBLIC,
    ("certificates", "accreditor_reports.pars", "GET"): ORG,
    ("certificates", "accreditor_reports.summary", "GET"): ORG,
    ("certificates", "accreditor_reports.learners", "GET"): ORG,
    ("registration", "integrations.ZoomIntegration", "GET"): ORG,
    ("registration", "integrations.ZoomIntegration", "PUT"): ORG,
    ("registration", "integrations.ZoomIntegration", "DELETE"): ORG,
    ("registration", "integrations.create_zoom_webinar", "POST"): ORG,
    ("registration", "organiser_api.OrganisationBranding", "GET"): ORG,
    ("registration", "organiser_api.OrganisationBranding", "PUT"): ORG,
    ("registration", "organiser_api.put_logo", "PUT"): ORG,
    ("registration", "internal_api.organisation_branding", "GET"): service("notifications", "certificates"),
    ("registration", "pages.review_signup", "POST"): PUBLIC,
    # The society's logo and colours, which its public pages and mails load: public by design.
    **{(name, endpoint, "GET"): PUBLIC for name in ("registration", "notifications", "certificates")
       for endpoint in ("branding.brand_logo", "branding.brand_stylesheet")},
}
# The same on every service: probes, the API description and static files.
COMMON = {("health.healthz", "GET"), ("health.readyz", "GET"), ("api-docs.openapi_json", "GET"),
          ("api-docs.openapi_swagger_ui", "GET"), ("swagger_assets", "GET"), ("static", "GET"), ("favicon", "GET")}
SERVICES = ("registration", "notifications", "certificates")
# (service, first path segment) whose routes another matrix decides.
DELEGATED = {("registration", "console")}
VALUES = {"slug": "matrix-event", "token": "x" * 43, "code": "AAAAA-AAAAA", "idempotency_key": "k1",
          "template": "reminder", "job_id": "0" * 32, "filename": "style.css", "image": "logo",
          "kind": "invoice", "registration_id": "1", "faculty_id": "1", "secret": "fd_" + "x" * 43,
          "organisation_id": "1", "number": "1"}


def routes(app: Flask) -> set[tuple[str, str, str]]:
    found = set()
    for rule in app.url_map.iter_rules():
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            found.add((rule.endpoint, method, rule.rule))
    return found


def concrete(rule: str) -> str:
    return re.sub(r"<(?:[^:<>]+:)?(\w+)>", lambda m: VALUES[m.group(1)], re.sub(r"\([^)]*\)", "", rule))


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Flask]:
    tmp = tmp_path_factory.mktemp("matrix")
    built = {}
    for name in SERVICES:
        module = __import__(name)
        app = module.create_app(make_settings(name, f"sqlite:///{tmp / (name + '.db')}", tmp))
        app.extensions["suite_db"].engine.dispose()
        __import__(f"{name}.models").models.Base.metadata.create_all(app.extensions["suite_db"].engine)
        built[name] = app
    return built


def test_every_route_of_every_service_has_a_decision(apps: dict[str, Flask]) -> None:
    missing, unknown = [], set(MATRIX)
    for name, app in apps.items():
        for endpoint, method, rule in routes(app):
            if (endpoint, method) in COMMON or (name, rule.split("/")[1]) in DELEGATED:
                continue
            key = (name, endpoint, method)
            if key not in MATRIX:
                missing.append(f"{name} {method} {rule} ({endpoint})")
            unknown.discard(key)
    assert not missing, "routes without an entry in MATRIX: " + "; ".join(sorted(missing))
    assert not unknown, f"entries for routes that no longer exist: {sorted(unknown)}"


def _call(app: Flask, method: str, path: str, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return app.test_client().open(path, method=method, headers=headers or {}, data=b"")


@pytest.mark.parametrize("key", sorted(MATRIX), ids=lambda k: f"{k[0]}-{k[1]}-{k[2]}")
def test_each_audience_is_enforced(apps: dict[str, Flask], key: tuple[str, str, str]) -> None:
    name, endpoint, method = key
    app = apps[name]
    app.extensions["suite_token_resolver"] = {"sto_matrix_a": Organisation(1, "a", "A")}.get
    app.config["WTF_CSRF_ENABLED"] = False
    rule = next(r for e, m, r in routes(app) if e == endpoint and m == method)
    path = concrete(rule)
    audience = MATRIX[key]
    anonymous = _call(app, method, path)
    if audience == PUBLIC:
        assert anonymous.status_code not in (401, 403), f"{method} {path}: {anonymous.status_code}"
    elif audience == ORG:
        assert anonymous.status_code == 401
        assert anonymous.get_json()["error"]["code"] == "unauthorized"
        wrong = _call(app, method, path, {"Authorization": "Bearer sto_not_a_token"})
        assert wrong.status_code == 401
    elif audience == ATTENDEE:
        assert anonymous.status_code == 404, f"{method} {path}: {anonymous.status_code}"
    elif audience == STRIPE:
        assert anonymous.status_code == 400 and anonymous.get_json()["error"]["code"] == "bad_signature"
    elif audience == ZOOM:
        assert anonymous.status_code == 401 and anonymous.get_json()["error"]["code"] == "bad_signature"
    else:
        _kind, allowed = audience
        assert anonymous.status_code == 401
        forged = sign(allowed[0], "not-the-key", method, path, b"")
        assert _call(app, method, path, forged).status_code == 401
        others = [s for s in SERVICES if s not in allowed]
        for other in others:
            signed = sign(other, f"dev-insecure-{other}-key", method, path, b"")
            assert _call(app, method, path, signed).status_code == 403, f"{other} may not call {method} {path}"
        signed = sign(allowed[0], f"dev-insecure-{allowed[0]}-key", method, path, b"")
        assert _call(app, method, path, signed).status_code not in (401, 403)


def test_another_organisations_token_finds_nothing(apps: dict[str, Flask], tmp_path: Path) -> None:
    from registration.services import organisations

    app = apps["registration"]
    app.extensions["suite_token_resolver"] = __import__("registration")._resolve_token
    with app.app_context(), app.extensions["suite_db"].session_scope() as session:
        token_a = organisations.create_token(session, organisations.get_or_create_organisation(session, "m-a"), "t")
        token_b = organisations.create_token(session, organisations.get_or_create_organisation(session, "m-b"), "t")
    client = app.test_client()
    a, b = {"Authorization": f"Bearer {token_a}"}, {"Authorization": f"Bearer {token_b}"}
    created = client.post("/api/v1/events", headers=a, json={
        "slug": "matrix-event", "title": "Matrix", "kind": "webinar", "starts_at": "2030-01-01T10:00:00+00:00",
        "ends_at": "2030-01-01T11:00:00+00:00", "timezone": "UTC", "capacity": 5, "currency": "EUR"})
    assert created.status_code == 201
    client.post("/api/v1/events/matrix-event/rates", headers=a, json={
        "code": "free", "name": "Free", "amount": 0, "currency": "EUR", "category": "other"})
    person = client.post("/api/v1/events/matrix-event/registrations", json={
        "email": "m@h.example", "given_name": "M", "family_name": "N", "rate": "free", "consent": True}).get_json()
    for path in ("/api/v1/events/matrix-event", "/api/v1/events/matrix-event/registrations",
                 "/api/v1/events/matrix-event/invoices", f"/api/v1/registrations/{person['id']}"):
        assert client.get(path, headers=a).status_code == 200, path
        theirs = client.get(path, headers=b)
        assert theirs.status_code == 404 and theirs.get_json()["error"]["code"] == "not_found", path
    for path in (f"/api/v1/registrations/{person['id']}/cancel", f"/api/v1/registrations/{person['id']}/mark-paid",
                 f"/api/v1/registrations/{person['id']}/approve", f"/api/v1/registrations/{person['id']}/reject"):
        assert client.post(path, headers=b).status_code == 404, path
    assert client.get("/api/v1/events", headers=b).get_json()["items"] == []
