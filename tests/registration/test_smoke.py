from tests.support.factories import create_event, sign_up


def test_free_webinar_fills_then_waitlists_and_cancellation_promotes(client, auth):
    event = create_event(client, auth, capacity=2)
    first, second, third = (sign_up(client, event["slug"]) for _ in range(3))
    assert [first["status"], second["status"], third["status"]] == ["confirmed", "confirmed", "waitlisted"]
    assert third["waitlist_position"] == 1

    response = client.post(f"/api/v1/registrations/{first['id']}/cancel", headers=auth)
    assert response.status_code == 200
    assert response.get_json()["status"] == "cancelled"

    roster = client.get(f"/api/v1/events/{event['slug']}/registrations", headers=auth).get_json()
    statuses = {item["id"]: item["status"] for item in roster["items"]}
    assert statuses == {first["id"]: "cancelled", second["id"]: "confirmed", third["id"]: "confirmed"}
