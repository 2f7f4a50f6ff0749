"""Public sign-up as JSON (POST /api/v1/events/{slug}/registrations), as society web sites call it."""
from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.support.assertions import assert_error
from tests.support.factories import create_event, iso, sign_up, signup_payload

MISSING = object()


def post(client: FlaskClient, slug: str, payload: Any, key: str | None = None) -> Any:
    headers = {"Idempotency-Key": key} if key is not None else {}
    return client.post(f"/api/v1/events/{slug}/registrations", json=payload, headers=headers)


def payload_with(**overrides: Any) -> dict[str, Any]:
    return {k: v for k, v in signup_payload(**overrides).items() if v is not MISSING}


def roster_ids(client: FlaskClient, auth: dict[str, str], slug: str) -> list[int]:
    items = client.get(f"/api/v1/events/{slug}/registrations", headers=auth).get_json()["items"]
    return [item["id"] for item in items]


def test_sign_up_returns_201_with_id_reference_status_and_manage_url(client, auth):
    event = create_event(client, auth)
    payload = signup_payload(answers={"profession": "Radiographer / technologist", "years": 4})
    response = post(client, event["slug"], payload)

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert isinstance(body["id"], int)
    assert re.fullmatch(r"R[23456789A-HJ-NP-Z]{9}", body["reference"])
    assert body["status"] == "confirmed"
    assert re.fullmatch(r"http://registration\.test/r/[A-Za-z0-9_-]{43}", body["manage_url"])
    assert "Idempotent-Replayed" not in response.headers

    stored = client.get(f"/api/v1/registrations/{body['id']}", headers=auth).get_json()
    assert stored["email"] == payload["email"] and stored["given_name"] == payload["given_name"]
    assert stored["family_name"] == payload["family_name"] and stored["rate"] == "free"
    assert stored["answers"] == {"profession": "Radiographer / technologist", "years": 4}
    assert stored["consent_at"] and stored["consent_version"]


def test_manage_urls_are_distinct_and_lead_to_the_attendee_page(client, auth):
    event = create_event(client, auth)
    first, second = sign_up(client, event["slug"]), sign_up(client, event["slug"])
    assert first["manage_url"] != second["manage_url"] and first["reference"] != second["reference"]
    page = client.get(first["manage_url"].removeprefix("http://registration.test"))
    assert page.status_code == 200 and first["reference"] in page.get_data(as_text=True)


def test_a_full_event_puts_people_on_the_waiting_list(client, auth):
    event = create_event(client, auth, capacity=1)
    assert sign_up(client, event["slug"])["status"] == "confirmed"
    second, third = sign_up(client, event["slug"]), sign_up(client, event["slug"])
    assert (second["status"], second["waitlist_position"]) == ("waitlisted", 1)
    assert (third["status"], third["waitlist_position"]) == ("waitlisted", 2)


def test_capacity_zero_waitlists_everyone(client, auth):
    event = create_event(client, auth, capacity=0)
    assert sign_up(client, event["slug"])["status"] == "waitlisted"


@pytest.mark.parametrize("consent", [False, MISSING, None, "yes", "true", 1, "on"])
def test_consent_must_be_true(client, auth, consent):
    event = create_event(client, auth)
    assert_error(post(client, event["slug"], payload_with(consent=consent)), 422, "validation_error", "consent")
    assert roster_ids(client, auth, event["slug"]) == []


@pytest.mark.parametrize("overrides, field", [
    ({"rate": "gold"}, "rate"),
    ({"rate": MISSING}, "rate"),
    ({"rate": ""}, "rate"),
    ({"rate": 1}, "rate"),
    ({"email": "not-an-email"}, "email"),
    ({"email": MISSING}, "email"),
    ({"email": "a" * 250 + "@x.example"}, "email"),
    ({"given_name": MISSING}, "given_name"),
    ({"given_name": ""}, "given_name"),
    ({"given_name": "  "}, "given_name"),
    ({"given_name": "G" * 101}, "given_name"),
    ({"given_name": ["Anna"]}, "given_name"),
    ({"family_name": "F" * 101}, "family_name"),
    ({"family_name": "tab\x0bbed"}, "family_name"),
    ({"answers": {f"q{i}": "a" for i in range(31)}}, "answers"),
    ({"answers": {"nested": {"a": 1}}}, "answers"),
    ({"answers": {"long": "x" * 1001}}, "answers"),
    ({"answers": ["a"]}, "answers"),
    ({"discount_code": "SAVE10"}, "discount_code"),
    ({"phone": "+43 1 234"}, "phone"),
])
def test_sign_up_refuses_bad_input(client, auth, overrides, field):
    event = create_event(client, auth)
    assert_error(post(client, event["slug"], payload_with(**overrides)), 422, "validation_error", field)
    assert roster_ids(client, auth, event["slug"]) == []


def test_a_rate_past_its_valid_until_is_not_on_offer(client, auth):
    event = create_event(client, auth)
    response = client.post(f"/api/v1/events/{event['slug']}/rates", headers=auth, json={
        "code": "early", "name": "Early bird", "amount": 0, "currency": "EUR", "category": "member",
        "valid_until": iso(days=-1)})
    assert response.status_code == 201
    assert_error(post(client, event["slug"], signup_payload(rate="early")), 422, "validation_error", "rate")
    assert post(client, event["slug"], signup_payload(rate="free")).status_code == 201


def test_malformed_and_non_object_bodies(client, auth):
    event = create_event(client, auth)
    path = f"/api/v1/events/{event['slug']}/registrations"
    assert_error(client.post(path, data="{email:", content_type="application/json"), 400, "bad_request")
    assert_error(client.post(path, data='{"answers": {"n": NaN}}', content_type="application/json"),
                 400, "bad_request")
    assert_error(client.post(path, data='{"given_name": "\\udc00"}', content_type="application/json"),
                 400, "bad_request")
    assert_error(client.post(path, data="[]", content_type="application/json"), 422, "validation_error")


def test_same_email_twice_is_409(client, auth):
    event = create_event(client, auth)
    first = sign_up(client, event["slug"], email="anna.berg@hospital.example")
    response = post(client, event["slug"], signup_payload(email="anna.berg@hospital.example"))
    assert_error(response, 409, "already_registered", "email")
    assert roster_ids(client, auth, event["slug"]) == [first["id"]]


@pytest.mark.parametrize("variant", ["Anna.Berg@Hospital.example", "ANNA.BERG@HOSPITAL.EXAMPLE"])
def test_same_email_in_other_case_is_409(client, auth, variant):
    event = create_event(client, auth)
    sign_up(client, event["slug"], email="anna.berg@hospital.example")
    assert_error(post(client, event["slug"], signup_payload(email=variant)), 409, "already_registered", "email")


def test_same_email_for_another_event_is_fine(client, auth):
    first, second = create_event(client, auth), create_event(client, auth)
    sign_up(client, first["slug"], email="anna.berg@hospital.example")
    assert sign_up(client, second["slug"], email="anna.berg@hospital.example")["status"] == "confirmed"


def test_a_cancelled_person_may_sign_up_again(client, auth):
    event = create_event(client, auth)
    first = sign_up(client, event["slug"], email="anna.berg@hospital.example")
    assert client.post(f"/api/v1/registrations/{first['id']}/cancel", headers=auth).status_code == 200

    again = sign_up(client, event["slug"], email="Anna.Berg@hospital.example")
    assert again["id"] != first["id"] and again["status"] == "confirmed"
    # ...but only once while the new registration is live.
    assert_error(post(client, event["slug"], signup_payload(email="anna.berg@hospital.example")),
                 409, "already_registered", "email")
    statuses = {item["id"]: item["status"] for item in
                client.get(f"/api/v1/events/{event['slug']}/registrations", headers=auth).get_json()["items"]}
    assert statuses == {first["id"]: "cancelled", again["id"]: "confirmed"}


# --- Idempotency-Key -----------------------------------------------------------------


def test_same_idempotency_key_and_body_returns_the_same_registration(client, auth):
    event = create_event(client, auth, capacity=1)
    payload = signup_payload()
    first = post(client, event["slug"], payload, key="order-4711")
    assert first.status_code == 201

    replay = post(client, event["slug"], dict(reversed(list(payload.items()))), key="order-4711")
    assert replay.status_code == 201
    assert replay.get_json()["id"] == first.get_json()["id"]
    assert replay.get_json() == first.get_json()
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert roster_ids(client, auth, event["slug"]) == [first.get_json()["id"]]
    # The replay took no second seat.
    assert client.get(f"/api/v1/events/{event['slug']}", headers=auth).get_json()["seats_taken"] == 1


def test_same_idempotency_key_with_another_body_is_409(client, auth):
    event = create_event(client, auth)
    first = post(client, event["slug"], signup_payload(), key="order-4712")
    assert first.status_code == 201
    response = post(client, event["slug"], signup_payload(), key="order-4712")
    assert_error(response, 409, "idempotency_conflict")
    assert roster_ids(client, auth, event["slug"]) == [first.get_json()["id"]]


def test_idempotency_keys_are_per_event(client, auth):
    first, second = create_event(client, auth), create_event(client, auth)
    payload = signup_payload()
    one = post(client, first["slug"], payload, key="same-key")
    two = post(client, second["slug"], payload, key="same-key")
    assert one.status_code == two.status_code == 201
    assert one.get_json()["id"] != two.get_json()["id"]


def test_without_idempotency_key_a_repeat_is_a_duplicate(client, auth):
    event = create_event(client, auth)
    payload = signup_payload()
    assert post(client, event["slug"], payload).status_code == 201
    assert_error(post(client, event["slug"], payload), 409, "already_registered", "email")


@pytest.mark.parametrize("key", ["", "k" * 101, "has space", "caf\u00e9"])
def test_malformed_idempotency_key_is_400(client, auth, key):
    event = create_event(client, auth)
    assert_error(post(client, event["slug"], signup_payload(), key=key), 400, "bad_request", "Idempotency-Key")


# --- registration window and unknown events -------------------------------------------


def test_before_registration_opens_is_403(client, auth):
    event = create_event(client, auth, registration_opens_at=iso(days=1))
    error = assert_error(post(client, event["slug"], signup_payload()), 403, "registration_closed")
    assert "not opened" in error["message"]


def test_after_registration_closes_is_403(client, auth):
    event = create_event(client, auth, registration_opens_at=iso(days=-3), registration_closes_at=iso(days=-1))
    assert_error(post(client, event["slug"], signup_payload()), 403, "registration_closed")


def test_after_the_event_ended_is_403_without_an_explicit_close(client, auth):
    event = create_event(client, auth, starts_at=iso(days=-2), ends_at=iso(days=-1))
    assert_error(post(client, event["slug"], signup_payload()), 403, "registration_closed")


def test_inside_the_window_is_fine(client, auth):
    event = create_event(client, auth, registration_opens_at=iso(hours=-1), registration_closes_at=iso(days=1))
    assert sign_up(client, event["slug"])["status"] == "confirmed"


def test_idempotent_replay_still_answers_after_registration_closed(client, auth):
    event = create_event(client, auth)
    payload = signup_payload()
    first = post(client, event["slug"], payload, key="late-retry").get_json()
    client.patch(f"/api/v1/events/{event['slug']}", headers=auth,
                 json={"registration_opens_at": iso(days=-2), "registration_closes_at": iso(hours=-1)})
    replay = post(client, event["slug"], payload, key="late-retry")
    assert replay.status_code == 201 and replay.get_json()["id"] == first["id"]
    assert_error(post(client, event["slug"], signup_payload()), 403, "registration_closed")


@pytest.mark.parametrize("slug", ["no-such-event", "Not-A-Slug", "a%00b", "x" * 65])
def test_unknown_event_is_404(client, slug):
    assert_error(client.post(f"/api/v1/events/{slug}/registrations", json=signup_payload()), 404, "not_found")


def test_names_are_kept_exactly_as_typed(client, auth):
    event = create_event(client, auth)
    person = sign_up(client, event["slug"], given_name="  Ngọc Anh ", family_name="Nguyễn-O'Brien 🩻")
    stored = client.get(f"/api/v1/registrations/{person['id']}", headers=auth).get_json()
    assert (stored["given_name"], stored["family_name"]) == ("Ngọc Anh", "Nguyễn-O'Brien 🩻")
