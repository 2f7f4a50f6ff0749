"""Idempotency keys, read in one place (suite_common.idempotency) for the JSON sign-up, the form and announcements."""
from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from tests.support.assertions import assert_error
from tests.support.factories import create_event, signup_payload


def form(slug: str, client: FlaskClient, form_key: str, **overrides: str) -> Any:
    data = {"given_name": "Zoë", "family_name": "Łukasiewicz", "email": "zoe@h.example", "rate": "free",
            "consent": "yes", "form_key": form_key, **overrides}
    return client.post(f"/events/{slug}/register", data=data)


def roster(client: FlaskClient, auth: dict[str, str], slug: str) -> list[tuple[str, str]]:
    items = client.get(f"/api/v1/events/{slug}/registrations", headers=auth).get_json()["items"]
    return [(item["email"], item["status"]) for item in items]


def test_a_very_long_form_key_signs_up_once_and_replays(client, auth) -> None:
    slug = create_event(client, auth)["slug"]
    key = "k" * 5000
    first = form(slug, client, key)
    assert first.status_code == 303, first.get_data(as_text=True)[:500]
    again = form(slug, client, key)  # the browser's second click
    assert again.status_code == 303 and again.headers["Location"] == first.headers["Location"]
    assert roster(client, auth, slug) == [("zoe@h.example", "confirmed")]


def test_form_keys_that_differ_only_after_the_hundredth_character_are_two_keys(client, auth) -> None:
    slug = create_event(client, auth)["slug"]
    assert form(slug, client, "k" * 100 + "one").status_code == 303
    other = form(slug, client, "k" * 100 + "two", email="ann@h.example", given_name="Ann")
    assert other.status_code == 303, "not taken for a replay of the first person's sign-up"
    assert sorted(roster(client, auth, slug)) == [("ann@h.example", "confirmed"), ("zoe@h.example", "confirmed")]


def test_a_form_key_is_not_a_header_key(client, auth) -> None:
    """A form's key and a JSON client's header key with the same text are stored apart."""
    slug = create_event(client, auth)["slug"]
    assert form(slug, client, "shared-key").status_code == 303
    response = client.post(f"/api/v1/events/{slug}/registrations", json=signup_payload(email="ann@h.example"),
                           headers={"Idempotency-Key": "shared-key"})
    assert response.status_code == 201 and "Idempotent-Replayed" not in response.headers


def test_a_header_key_of_100_characters_replays_and_one_of_101_is_a_clear_400(client, auth) -> None:
    slug = create_event(client, auth)["slug"]
    payload = signup_payload()
    key = "x" * 100
    first = client.post(f"/api/v1/events/{slug}/registrations", json=payload, headers={"Idempotency-Key": key})
    replay = client.post(f"/api/v1/events/{slug}/registrations", json=payload, headers={"Idempotency-Key": key})
    assert (first.status_code, replay.status_code) == (201, 201)
    assert replay.headers["Idempotent-Replayed"] == "true" and replay.get_json() == first.get_json()
    error = assert_error(client.post(f"/api/v1/events/{slug}/registrations", json=payload,
                                     headers={"Idempotency-Key": key + "x"}), 400, "bad_request", "Idempotency-Key")
    assert "1-100 visible ASCII" in error["message"]


def test_an_announcement_with_a_malformed_key_is_refused_before_anyone_is_mailed(client, auth) -> None:
    slug = create_event(client, auth)["slug"]
    response = client.post(f"/api/v1/events/{slug}/announcements", json={"subject": "Hello", "body": "News."},
                           headers={**auth, "Idempotency-Key": "has space"})
    assert_error(response, 400, "bad_request", "Idempotency-Key")
