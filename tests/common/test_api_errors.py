"""No input ends in a 5xx, and every error of an API path has the JSON error body (issue 10).

The first cases are the ones a fuzz run with another seed found: an integer beyond 64 bits in a
path or a query, a slug with control and astral-plane characters reaching SQL and a CSV's
Content-Disposition. Then the errors raised before any view (routing, 405, 413) and an
unexpected exception, on each service; pages keep their HTML.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.exceptions import MethodNotAllowed, NotFound

from suite_common.auth import Organisation
from suite_common.routing import INT64_MAX
from tests.support.apps import make_settings

SERVICES = ("registration", "notifications", "certificates")
ORGANISER = {"Authorization": "Bearer token-a"}
HUGE = "1718543764594044119810048"
# A control character and an emoji (outside the Basic Multilingual Plane), percent-encoded.
NOT_A_SLUG = "fuzz%01%F0%9F%98%80congress"


def _app(service: str, tmp_path: Path) -> Flask:
    module = __import__(service)
    app: Flask = module.create_app(make_settings(service, f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path))
    __import__(f"{service}.models", fromlist=["Base"]).Base.metadata.create_all(app.extensions["suite_db"].engine)
    # Organiser tokens are registration's; a fixed table stands in for them on every service.
    app.extensions["suite_token_resolver"] = {"token-a": Organisation(id=1, slug="society-a", name="A")}.get
    # And registration's answer to "is this organisation's event?": yes, for any slug.
    app.extensions["suite_event_lookup"] = lambda organisation_id, slug: {"slug": slug}

    @app.get("/api/v1/test-crash")
    def api_crash() -> Any:
        raise RuntimeError("a bug")

    @app.get("/test-crash")
    def page_crash() -> Any:
        raise RuntimeError("a bug")

    return app


@pytest.fixture(params=SERVICES)
def service_app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Flask]:
    app = _app(request.param, tmp_path)
    yield app
    app.extensions["suite_db"].engine.dispose()


def assert_json_error(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, (response.status_code, response.data[:300])
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["code"] == code and error["message"]


@pytest.mark.parametrize(("method", "path"), [
    ("POST", f"/api/v1/registrations/{HUGE}/invoice"),
    ("POST", f"/api/v1/registrations/{INT64_MAX + 1}/mark-paid"),
    ("POST", "/api/v1/registrations/0/invoice"),
    ("GET", f"/internal/v1/registrations/{HUGE}"),
    ("GET", f"/api/v1/events/{NOT_A_SLUG}"),
    ("POST", f"/api/v1/events/{NOT_A_SLUG}/registrations"),
    ("GET", "/api/v1/events/-fuzz"),
    ("GET", "/api/v1/events/" + "a" * 65),
])
def test_registration_refuses_what_cannot_name_a_registration_or_an_event_as_a_json_404(
        tmp_path: Path, method: str, path: str) -> None:
    client = _app("registration", tmp_path).test_client()
    assert_json_error(client.open(path, method=method, headers=ORGANISER, json={}), 404, "not_found")


def test_a_page_for_a_slug_that_cannot_be_one_is_an_html_404(tmp_path: Path) -> None:
    response = _app("registration", tmp_path).test_client().get(f"/events/{NOT_A_SLUG}/register")
    assert response.status_code == 404 and response.mimetype == "text/html"


@pytest.mark.parametrize("cursor", ["546557763402337654537523612876800", str(INT64_MAX + 1), "0", "-1"])
def test_notifications_refuses_a_cursor_beyond_an_id_as_a_422(tmp_path: Path, cursor: str) -> None:
    client = _app("notifications", tmp_path).test_client()
    response = client.get(f"/api/v1/messages?cursor={cursor}", headers=ORGANISER)
    assert_json_error(response, 422, "validation_error")
    assert "cursor" in response.get_json()["error"]["fields"]
    assert client.get(f"/api/v1/messages?cursor={INT64_MAX}", headers=ORGANISER).status_code == 200


@pytest.mark.parametrize("path", [
    f"/api/v1/events/{NOT_A_SLUG}/attendance",
    f"/api/v1/events/{NOT_A_SLUG}/certificates?format=csv",
    f"/api/v1/events/{NOT_A_SLUG}/credits",
    "/api/v1/events/Fuzz/attendance",
])
def test_certificates_answers_a_slug_that_cannot_be_one_with_a_json_404_not_a_csv(tmp_path: Path, path: str) -> None:
    client = _app("certificates", tmp_path).test_client()
    assert_json_error(client.get(path, headers=ORGANISER), 404, "not_found")


def test_notifications_template_path_refuses_a_slug_that_cannot_be_one(tmp_path: Path) -> None:
    client = _app("notifications", tmp_path).test_client()
    response = client.get(f"/api/v1/events/{NOT_A_SLUG}/templates/confirmation", headers=ORGANISER)
    assert_json_error(response, 404, "not_found")


def _with_values(rule: str, text: str) -> str:
    """A path of ``rule`` with valid ids, slugs and choices, and ``text`` for every other value."""
    path = re.sub(r"<int[^>]*>", "5", rule.replace("<slug:slug>", "fuzz-congress"))
    # A closed list's first name, quoted or not: any(events, sessions) or any('pars.xlsx', 'summary.pdf').
    path = re.sub(r"<any\(['\"]?([\w.-]+)[^>]*>", r"\1", path)
    return re.sub(r"<[^>]+>", text, path)


def test_no_path_value_with_a_control_character_reaches_a_view(service_app: Flask) -> None:
    """No token, code or name of the suite has one; PostgreSQL refuses a NUL (a 500 before)."""
    adapter = service_app.url_map.bind("service.test")

    def reaches(rule: Any, text: str) -> bool:
        try:
            # A method the rule itself serves: OPTIONS would match whichever rule of that path came first.
            method = sorted((rule.methods or set()) - {"OPTIONS", "HEAD"})[0]
            endpoint, _ = adapter.match(_with_values(rule.rule, text), method=method)
        except (NotFound, MethodNotAllowed):
            return False
        return bool(endpoint == rule.endpoint)

    # Flask adds its static route before any converter can be installed; send_from_directory refuses these itself.
    rules = [rule for rule in service_app.url_map.iter_rules() if rule.endpoint != "static"
             and re.search(r"<(?!int|slug:|any\()", rule.rule)]
    assert rules and all(reaches(rule, "abc") for rule in rules)  # the paths built here do reach their views
    assert not [f"{rule.rule} with {text!r}" for rule in rules for text in ("a\x00b", "a\x1fb", "\x7f")
                if reaches(rule, text)]


@pytest.mark.parametrize("path", ["/verify/a%00b", "/c/a%00b", "/c/a%00b/badge.json", "/api/v1/jobs/a%00b"])
def test_certificates_answers_a_nul_in_a_path_with_a_404_on_every_database(
        database_url: str, tmp_path: Path, path: str) -> None:
    from certificates import create_app
    from certificates.models import Base

    app = create_app(make_settings("certificates", database_url, tmp_path))
    Base.metadata.create_all(app.extensions["suite_db"].engine)
    app.extensions["suite_token_resolver"] = {"token-a": Organisation(id=1, slug="society-a", name="A")}.get
    response = app.test_client().get(path, headers=ORGANISER)
    app.extensions["suite_db"].engine.dispose()
    assert response.status_code == 404
    if path.startswith("/api/"):
        assert_json_error(response, 404, "not_found")


def test_routing_errors_of_api_paths_have_the_json_error_body(service_app: Flask) -> None:
    client: FlaskClient = service_app.test_client()
    for headers in ({}, {"Accept": "text/html"}):  # the path decides, not what the client prefers
        assert_json_error(client.get("/api/v1/no-such-thing", headers=headers), 404, "not_found")
        assert_json_error(client.get("/internal/v1/no-such-thing", headers=headers), 404, "not_found")
        response = client.patch("/api/v1/organisation", headers=headers)
        assert_json_error(response, 405, "method_not_allowed")
        assert "GET" in response.headers["Allow"]


def test_a_body_over_the_limit_is_a_json_413(service_app: Flask) -> None:
    body = b"x" * (service_app.config["MAX_CONTENT_LENGTH"] + 1)
    response = service_app.test_client().post(
        "/api/v1/test-crash", data=body, headers={"Content-Type": "application/json"})
    # The route has no POST: the router answers first, still as JSON; a route that reads the body gets 413.
    assert_json_error(response, 405, "method_not_allowed")
    target = {"registration": "/api/v1/events/fuzz-congress/registrations",
              "notifications": "/api/v1/events/fuzz-congress/templates/confirmation",
              "certificates": "/api/v1/events/fuzz-congress/check-ins"}[service_app.extensions["suite_settings"].service]
    method = "PUT" if "templates" in target else "POST"
    response = service_app.test_client().open(
        target, method=method, data=body, headers={**ORGANISER, "Content-Type": "application/json"})
    assert_json_error(response, 413, "payload_too_large")


def test_an_unexpected_exception_is_a_json_500_on_apis_and_an_html_page_elsewhere(service_app: Flask) -> None:
    client = service_app.test_client()
    assert_json_error(client.get("/api/v1/test-crash"), 500, "internal_error")
    page = client.get("/test-crash")
    assert page.status_code == 500 and page.mimetype == "text/html"
    missing = client.get("/no-such-page", headers={"Accept": "text/html"})
    assert missing.status_code == 404 and missing.mimetype == "text/html"


def test_the_html_error_page_says_the_status_in_the_pages_language_and_json_stays_english(service_app: Flask) -> None:
    client = service_app.test_client()
    dutch = client.get("/no-such-page?lang=nl", headers={"Accept": "text/html"})
    assert dutch.status_code == 404 and dutch.mimetype == "text/html"
    page = dutch.get_data(as_text=True)
    assert '<html lang="nl">' in page and "Deze pagina bestaat niet. Controleer het adres." in page
    assert "requested URL" not in page  # Werkzeug's English description is not shown
    english = service_app.test_client().get("/no-such-page", headers={"Accept": "text/html"})
    assert "This page does not exist. Please check the address." in english.get_data(as_text=True)
    german = service_app.test_client().get("/test-crash?lang=de")
    assert german.status_code == 500
    assert "Bei uns ist ein Fehler aufgetreten; es wurde nichts geändert." in german.get_data(as_text=True)
    api = service_app.test_client().get("/api/v1/no-such-route?lang=nl")
    assert_json_error(api, 404, "not_found")
    assert "requested URL was not found" in api.get_json()["error"]["message"]  # the contract's English


def _integers(schema: dict[str, Any], components: dict[str, Any], seen: frozenset[str] = frozenset()) -> Iterator[
        dict[str, Any]]:
    """Every integer schema inside ``schema``, following references once."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name not in seen:
            yield from _integers(components[name], components, seen | {name})
        return
    if schema.get("type") == "integer":
        yield schema
    children = [*schema.get("properties", {}).values(), *schema.get("allOf", []), *schema.get("oneOf", []),
                *schema.get("anyOf", [])]
    children += [schema[key] for key in ("items", "additionalProperties") if isinstance(schema.get(key), dict)]
    for child in children:
        yield from _integers(child, components, seen)


def test_every_integer_a_client_sends_is_bounded_within_64_bits(service_app: Flask) -> None:
    """The rule for the future: a new integer parameter or body field without bounds fails here."""
    spec = service_app.test_client().get("/openapi.json").get_json()
    components = spec["components"]["schemas"]
    checked = 0
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            schemas = [parameter["schema"] for parameter in operation.get("parameters", [])]
            schemas += [body["schema"] for body in operation.get("requestBody", {}).get("content", {}).values()]
            for schema in schemas:
                for integer in _integers(schema, components):
                    checked += 1
                    where = f"{method.upper()} {path}: {integer}"
                    assert integer.get("minimum", -INT64_MAX - 2) >= -INT64_MAX - 1, where
                    assert integer.get("maximum", INT64_MAX + 1) <= INT64_MAX, where
    assert checked  # the walk found the cursors and ids it is about


@pytest.mark.parametrize(("registration_says", "organisation_is_none"), [(404, True), (422, True), (500, False)])
def test_a_token_registration_refuses_to_read_is_a_401_not_a_503(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, registration_says: int, organisation_is_none: bool) -> None:
    """Registration answers 422 to a token over its length limit: no token, not an outage (a 503 before)."""
    import requests

    from suite_common.client import ServiceClient, introspecting_resolver
    from suite_common.errors import ApiError

    def answer(self: ServiceClient, method: str, path: str, **_: Any) -> requests.Response:
        response = requests.Response()
        response.status_code = registration_says
        return response

    monkeypatch.setattr(ServiceClient, "request", answer)
    resolve = introspecting_resolver(make_settings("notifications", "sqlite://", tmp_path))
    if organisation_is_none:
        assert resolve("0" * 300) is None
    else:
        with pytest.raises(ApiError) as refused:
            resolve("0" * 300)
        assert refused.value.status == 503


def test_a_query_parameter_the_operation_does_not_have_is_refused_by_name(service_app: Flask) -> None:
    """As an unknown JSON field is: a misspelt parameter must not answer as if it were absent (the
    fuzz with seed 3288886209 had ``GET /events/{slug}/invoices?<junk>`` answer 200)."""
    client = service_app.test_client()
    assert client.get("/api/v1/audit?limit=5", headers=ORGANISER).status_code == 200
    response = client.get("/api/v1/audit?limt=5", headers=ORGANISER)
    assert_json_error(response, 422, "validation_error")
    assert "limt" in response.get_json()["error"]["fields"]
