"""The internal messages API: stored before acknowledged, one message per idempotency key."""
from __future__ import annotations

from typing import Any

from tests.notifications.conftest import InternalClient

A = {"Authorization": "Bearer token-a"}
B = {"Authorization": "Bearer token-b"}
CONTEXT = {
    "event": {"title": "Webinar", "kind": "webinar", "slug": "w", "timezone": "Europe/Vienna", "starts": "x",
              "ends": "y", "venue": None, "join_url": "https://zoom.us/j/1", "url": "http://r/events/w"},
    "attendee": {"given_name": "Zoë", "family_name": "Ñúñez"},
    "registration": {"reference": "R1", "status": "confirmed", "rate": "Free", "manage_url": "http://r/r/t",
                     "waitlist_position": None},
    "ticket": {"code": "T23456789ABCDEFGHJKLMNPQR"},
}


def message(key: str = "k1", **overrides: Any) -> dict[str, Any]:
    body = {"idempotency_key": key, "template": "registration_confirmed", "to": "zoe@hospital.example",
            "context": CONTEXT, "organisation_id": 1, "event": "w"}
    body.update(overrides)
    return body


def test_a_message_is_accepted_with_202_and_the_same_key_returns_the_same_message(internal: InternalClient) -> None:
    first = internal.request("POST", "/internal/v1/messages", message())
    again = internal.request("POST", "/internal/v1/messages", message())
    assert first.status_code == again.status_code == 202
    assert first.get_json() == again.get_json() == {"id": first.get_json()["id"], "status": "queued"}


def test_the_same_key_with_a_different_message_is_a_conflict(internal: InternalClient) -> None:
    internal.request("POST", "/internal/v1/messages", message())
    response = internal.request("POST", "/internal/v1/messages", message(to="other@hospital.example"))
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "idempotency_conflict"


def test_unknown_template_bad_address_and_unsigned_calls_are_refused(internal: InternalClient, organiser) -> None:
    response = internal.request("POST", "/internal/v1/messages", message(template="nope"))
    assert response.status_code == 422 and "template" in response.get_json()["error"]["fields"]
    response = internal.request("POST", "/internal/v1/messages", message(to="not an address"))
    assert response.status_code == 422 and "to" in response.get_json()["error"]["fields"]
    assert organiser.post("/internal/v1/messages", json=message()).status_code == 401
    stranger = InternalClient(organiser, service="certificates")
    stranger.service = "certificates"
    assert stranger.request("POST", "/internal/v1/messages", message("k9")).status_code == 202


def test_cancel_before_sending_and_a_cancellation_that_overtakes_its_message(internal: InternalClient) -> None:
    internal.request("POST", "/internal/v1/messages", message("k1"))
    cancelled = internal.request("DELETE", "/internal/v1/messages/k1")
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"

    early = internal.request("DELETE", "/internal/v1/messages/k2")
    assert early.get_json()["status"] == "cancelled"
    late = internal.request("POST", "/internal/v1/messages", message("k2"))
    assert late.status_code == 202 and late.get_json()["status"] == "cancelled"


def test_organisers_see_only_their_own_messages_with_status_and_filters(internal: InternalClient, organiser) -> None:
    internal.request("POST", "/internal/v1/messages", message("k1"))
    internal.request("POST", "/internal/v1/messages", message("k2", to="b@hospital.example"))
    internal.request("POST", "/internal/v1/messages", message("k3", organisation_id=2))
    items = organiser.get("/api/v1/messages", headers=A).get_json()["items"]
    assert sorted(i["idempotency_key"] for i in items) == ["k1", "k2"]
    assert {i["status"] for i in items} == {"queued"} and all(i["attempts"] == 0 for i in items)
    only_b = organiser.get("/api/v1/messages?to=b@hospital.example", headers=A).get_json()["items"]
    assert [i["idempotency_key"] for i in only_b] == ["k2"]
    assert [i["idempotency_key"] for i in organiser.get("/api/v1/messages", headers=B).get_json()["items"]] == ["k3"]
    assert organiser.get("/api/v1/messages").status_code == 401
    assert organiser.get("/api/v1/messages?status=bogus", headers=A).status_code == 422


def test_paging_walks_every_message_once(internal: InternalClient, organiser) -> None:
    for n in range(5):
        internal.request("POST", "/internal/v1/messages", message(f"k{n}"))
    seen, cursor = [], None
    while True:
        page = organiser.get("/api/v1/messages", headers=A,
                             query_string={"limit": 2, **({"cursor": cursor} if cursor else {})}).get_json()
        seen += [i["idempotency_key"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == [f"k{n}" for n in range(5)]


def test_a_template_override_that_does_not_render_is_refused_at_upload(organiser) -> None:
    good = {"subject": "Welcome to {{ event.title }}", "text": "Hello {{ attendee.given_name }}!"}
    response = organiser.put("/api/v1/events/w/templates/registration_confirmed", json=good, headers=A)
    assert response.status_code == 200 and response.get_json()["subject"] == good["subject"]
    broken = {"subject": "Hi", "text": "{{ attendee.nickname }}"}
    response = organiser.put("/api/v1/events/w/templates/registration_confirmed", json=broken, headers=A)
    assert response.status_code == 422 and "nickname" in str(response.get_json()["error"]["fields"])
    syntax = {"subject": "Hi", "text": "{% if %}"}
    assert organiser.put("/api/v1/events/w/templates/reminder", json=syntax, headers=A).status_code == 422
    # A certificate's fields are not given to a confirmation mail, so using them there is refused too.
    wrong_type = {"subject": "Hi", "text": "{{ certificate.code }}"}
    assert organiser.put("/api/v1/events/w/templates/registration_confirmed", json=wrong_type,
                         headers=A).status_code == 422
    assert organiser.put("/api/v1/events/w/templates/nope", json=good, headers=A).status_code == 404
    assert organiser.delete("/api/v1/events/w/templates/registration_confirmed", headers=A).status_code == 204
