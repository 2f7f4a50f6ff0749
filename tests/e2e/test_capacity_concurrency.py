"""The last seat goes to exactly one person, however many sign up at once, across gunicorn workers."""
from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from devtools.stack import Stack
from tests.support.databases import BACKENDS, fresh_database
from tests.support.factories import event_payload
from tests.support.stack import running_stack, url

pytestmark = pytest.mark.e2e

CAPACITY = 50
SIGNUPS = 200


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The conftest's ``backend``, at module scope: one stack per backend serves every test here."""
    return request.param


@pytest.fixture(scope="module")
def stack(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """One stack per backend; each test has its own organisation and event, so none sees another's seats."""
    tmp = tmp_path_factory.mktemp(f"capacity-{backend}")
    with fresh_database(backend, tmp, "registration") as database_url, running_stack(
        tmp, {"registration": database_url}, workers=4, services=("registration",)
    ) as running:
        yield running


def test_200_concurrent_signups_fill_exactly_50_seats_and_waitlist_the_rest_in_order(stack: Stack) -> None:
    base = url(stack, "registration")
    auth = {"Authorization": f"Bearer {stack.create_token('capacity-burst')}"}
    event = requests.post(f"{base}/api/v1/events", json=event_payload(capacity=CAPACITY), headers=auth).json()
    slug = event["slug"]
    response = requests.post(f"{base}/api/v1/events/{slug}/rates", headers=auth, json={
        "code": "free", "name": "Free", "amount": 0, "currency": "EUR", "category": "other"})
    assert response.status_code == 201

    def sign_up(n: int) -> requests.Response:
        return requests.post(f"{base}/api/v1/events/{slug}/registrations", timeout=60, json={
            "email": f"radiologist{n}@hospital.example", "given_name": "Ana", "family_name": f"Núñez {n}",
            "rate": "free", "consent": True})

    with ThreadPoolExecutor(max_workers=SIGNUPS) as pool:
        responses = list(pool.map(sign_up, range(SIGNUPS)))

    assert [r.status_code for r in responses] == [201] * SIGNUPS
    results = [r.json() for r in responses]
    confirmed = [r for r in results if r["status"] == "confirmed"]
    waitlisted = [r for r in results if r["status"] == "waitlisted"]
    assert (len(confirmed), len(waitlisted)) == (CAPACITY, SIGNUPS - CAPACITY)

    # The organiser's view agrees, and the event's counter matches the seats actually held.
    roster, cursor = [], None
    while True:
        page = requests.get(f"{base}/api/v1/events/{slug}/registrations", headers=auth,
                            params={"limit": 1000, **({"cursor": cursor} if cursor else {})}).json()
        roster += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sum(item["status"] == "confirmed" for item in roster) == CAPACITY
    assert requests.get(f"{base}/api/v1/events/{slug}", headers=auth).json()["seats_taken"] == CAPACITY

    # The waiting list is in arrival order: positions 1..150, by registration id.
    by_id = sorted(waitlisted, key=lambda r: r["id"])
    assert [r["waitlist_position"] for r in by_id] == list(range(1, SIGNUPS - CAPACITY + 1))

    # A cancellation promotes exactly the first person on the waiting list.
    first_confirmed = confirmed[0]
    response = requests.post(f"{base}/api/v1/registrations/{first_confirmed['id']}/cancel", headers=auth)
    assert response.json()["status"] == "cancelled"
    promoted = requests.get(f"{base}/api/v1/registrations/{by_id[0]['id']}", headers=auth).json()
    assert promoted["status"] == "confirmed"
    assert requests.get(f"{base}/api/v1/events/{slug}", headers=auth).json()["seats_taken"] == CAPACITY


def test_the_last_workshop_seat_goes_to_exactly_one_of_20_concurrent_sign_ups(stack: Stack) -> None:
    base = url(stack, "registration")
    auth = {"Authorization": f"Bearer {stack.create_token('capacity-workshop')}"}
    event = requests.post(f"{base}/api/v1/events", json=event_payload(capacity=100), headers=auth).json()
    slug = event["slug"]
    requests.post(f"{base}/api/v1/events/{slug}/rates", headers=auth, json={
        "code": "free", "name": "Free", "amount": 0, "currency": "EUR", "category": "other"}).raise_for_status()
    requests.post(f"{base}/api/v1/events/{slug}/sessions", headers=auth, json={
        "code": "W1", "title": "Hands-on segmentation", "starts_at": event["starts_at"],
        "ends_at": event["ends_at"], "credits": "1", "capacity": 1, "is_workshop": True}).raise_for_status()

    def sign_up(n: int) -> requests.Response:
        return requests.post(f"{base}/api/v1/events/{slug}/registrations", timeout=60, json={
            "email": f"w{n}@hospital.example", "given_name": "Ana", "family_name": f"Núñez {n}",
            "rate": "free", "consent": True, "workshops": ["W1"]})

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = sorted(r.status_code for r in pool.map(sign_up, range(20)))
    assert statuses == [201] + [422] * 19
    details = requests.get(f"{base}/api/v1/events/{slug}", headers=auth).json()
    assert (details["seats_taken"], details["sessions"][0]["seats_taken"]) == (1, 1)
