"""Registration tells certificates and notifications whether an organisation owns an event
(GET /internal/v1/events/<slug>), the check behind their organiser routes keyed by a slug."""
from __future__ import annotations

from flask.testing import FlaskClient

from suite_common.auth import sign
from tests.support.factories import create_event


def _get(client: FlaskClient, path: str, service: str):  # type: ignore[no-untyped-def]
    return client.get(path, headers=sign(service, f"dev-insecure-{service}-key", "GET", path, b""))


def _organisation_id(client: FlaskClient, auth: dict[str, str]) -> int:
    return client.get("/api/v1/organisation", headers=auth).get_json()["id"]


def test_the_owner_gets_the_event_with_its_sessions_and_another_organisation_a_404(
        client: FlaskClient, auth: dict[str, str], other_token: str) -> None:
    event = create_event(client, auth)
    client.post(f"/api/v1/events/{event['slug']}/sessions", headers=auth, json={
        "code": "S1", "title": "Opening", "starts_at": event["starts_at"], "ends_at": event["ends_at"],
        "credits": "1.5"})
    owner = _organisation_id(client, auth)
    other = _organisation_id(client, {"Authorization": f"Bearer {other_token}"})
    for service in ("certificates", "notifications"):
        found = _get(client, f"/internal/v1/events/{event['slug']}?organisation_id={owner}", service)
        assert found.status_code == 200, found.get_json()
        body = found.get_json()
        assert (body["slug"], body["organisation_id"], body["sessions"][0]["code"]) == (event["slug"], owner, "S1")
        theirs = _get(client, f"/internal/v1/events/{event['slug']}?organisation_id={other}", service)
        assert theirs.status_code == 404 and theirs.get_json()["error"]["code"] == "not_found"
    assert _get(client, f"/internal/v1/events/no-such-event?organisation_id={owner}", "notifications").status_code == 404
    assert client.get(f"/internal/v1/events/{event['slug']}?organisation_id={owner}").status_code == 401
