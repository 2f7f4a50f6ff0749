"""The console's roster, a registration's page and its actions, and the member list: each action's
effect is checked through the JSON API, a viewer is refused every action, another organisation's
registration is a 404."""
from __future__ import annotations

import csv
import io
import re
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.support.console import signed_in
from tests.support.factories import create_event, iso, sign_up


def _text(response: Any) -> str:
    return response.get_data(as_text=True)


def _csv_rows(body: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body)))


def _api_registration(client: FlaskClient, auth: dict[str, str], registration_id: int) -> dict[str, Any]:
    response = client.get(f"/api/v1/registrations/{registration_id}", headers=auth)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _add_rate(client: FlaskClient, auth: dict[str, str], slug: str, **fields: Any) -> None:
    response = client.post(f"/api/v1/events/{slug}/rates", headers=auth,
                           json={"name": fields["code"].title(), "currency": "EUR", "category": "other", **fields})
    assert response.status_code == 201, response.get_json()


class _FakeCheckout:
    """Stripe's Checkout Sessions, answered in process: a paid sign-up gets a payment link."""

    def __init__(self) -> None:
        self.count = 0

    def create(self, params: dict[str, Any], options: dict[str, Any]) -> SimpleNamespace:
        self.count += 1
        return SimpleNamespace(id=f"cs_test_{self.count}", url=f"https://checkout.example/pay/{self.count}")


@pytest.fixture
def staff(registration_app: Flask, token: str) -> FlaskClient:
    return signed_in(registration_app, "society-a", "staff")


@pytest.fixture
def viewer(registration_app: Flask, token: str) -> FlaskClient:
    return signed_in(registration_app, "society-a", "viewer")


@pytest.fixture
def paid_event(registration_app: Flask, client: FlaskClient, auth: dict[str, str]) -> dict[str, Any]:
    """A conference with a paid rate, payment by invoice, a half refund until the start, and a
    free trainee rate that waits for approval."""
    registration_app.extensions["stripe_client"] = SimpleNamespace(
        v1=SimpleNamespace(checkout=SimpleNamespace(sessions=_FakeCheckout())))
    event = create_event(client, auth, rate="free", kind="conference", allows_invoice=True,
                         refund_partial_until=iso(days=9), refund_partial_percent=50)
    _add_rate(client, auth, event["slug"], code="standard", amount=20000)
    _add_rate(client, auth, event["slug"], code="trainee", amount=0, category="trainee", requires_approval=True)
    return event


def test_staff_search_filter_page_and_download_the_same_csv_as_the_api(
        client: FlaskClient, auth: dict[str, str], staff: FlaskClient) -> None:
    event = create_event(client, auth)
    slug = event["slug"]
    _add_rate(client, auth, slug, code="guest", amount=0)
    ada = sign_up(client, slug, given_name="Ada", family_name="Łukasiewicz", email="Ada.L@Hospital.example")
    sign_up(client, slug, given_name="Bob", family_name="Smith", email="bob@clinic.example", rate="guest")
    for n in range(3):
        sign_up(client, slug, given_name="Carla", family_name=f"Other-{n}")

    page = staff.get(f"/console/events/{slug}/registrations")
    assert page.status_code == 200
    assert all(name in _text(page) for name in ("Ada", "Bob", "Carla"))
    assert f'href="/console/registrations/{ada["id"]}"' in _text(page)

    for query in ("łukas", "ŁUKASIEWICZ", "ada.l@hospital", "ADA LUK".replace("LUK", "ŁUK"), ada["reference"].lower()):
        found = staff.get(f"/console/events/{slug}/registrations", query_string={"q": query})
        assert found.status_code == 200 and ada["reference"] in _text(found), query
        assert "Bob" not in _text(found) and "Carla" not in _text(found), query
    by_rate = staff.get(f"/console/events/{slug}/registrations", query_string={"rate": "guest"})
    assert "Bob" in _text(by_rate) and "Ada" not in _text(by_rate)
    nobody = staff.get(f"/console/events/{slug}/registrations", query_string={"status": "cancelled"})
    assert "No registration matches" in _text(nobody)
    bad = staff.get(f"/console/events/{slug}/registrations", query_string={"status": "lost", "cursor": "xyz"})
    assert bad.status_code == 422 and 'aria-invalid="true"' in _text(bad) and "error-summary" in _text(bad)

    # The API answers the same search (one rule): q is a roster filter there too.
    api = client.get(f"/api/v1/events/{slug}/registrations", headers=auth, query_string={"q": "smith"})
    assert [item["given_name"] for item in api.get_json()["items"]] == ["Bob"]

    # Paging follows the API's cursor, keeping the filters.
    first = staff.get(f"/console/events/{slug}/registrations", query_string={"q": "carla"})
    assert "Next page" not in _text(first)
    from registration.console import roster as console_roster
    console_roster.ROSTER_PAGE_SIZE = 2
    try:
        first = staff.get(f"/console/events/{slug}/registrations", query_string={"q": "carla"})
        link = re.search(r'href="([^"]+)">Next page', _text(first))
        assert link is not None and "q=carla" in link.group(1)
        second = staff.get(link.group(1).replace("&amp;", "&"))
        assert second.status_code == 200 and "Other-2" in _text(second) and "Other-0" not in _text(second)
    finally:
        console_roster.ROSTER_PAGE_SIZE = 50

    download = staff.get(f"/console/events/{slug}/registrations.csv")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    assert f'{slug}-registrations.csv' in download.headers["Content-Disposition"]
    api_csv = client.get(f"/api/v1/events/{slug}/registrations", headers=auth, query_string={"format": "csv"})
    assert _csv_rows(_text(download)) == _csv_rows(_text(api_csv)) and len(_csv_rows(_text(download))) == 5
    filtered = staff.get(f"/console/events/{slug}/registrations.csv", query_string={"q": "carla"})
    api_filtered = client.get(f"/api/v1/events/{slug}/registrations", headers=auth,
                              query_string={"format": "csv", "q": "carla"})
    assert _text(filtered) == _text(api_filtered) and len(_csv_rows(_text(filtered))) == 3
    # A download of personal data is in the audit log, with who made it, like the API's.
    logged = [(e["method"], e["route"], e["actor"]) for e in client.get("/api/v1/audit", headers=auth).get_json()["items"]]
    assert ("GET", "/console/events/<slug:slug>/registrations.csv", "Staff of society-a (console, person 1)") in logged


def test_staff_cancels_seeing_the_refund_first_after_an_invoice_is_issued_and_paid(
        registration_app: Flask, client: FlaskClient, auth: dict[str, str], staff: FlaskClient,
        paid_event: dict[str, Any]) -> None:
    joined = sign_up(client, paid_event["slug"], rate="standard")
    assert joined["status"] == "pending_payment"
    page = staff.get(f"/console/registrations/{joined['id']}")
    assert page.status_code == 200 and "Awaiting payment" in _text(page) and "Issue the invoice" in _text(page)

    missing = staff.post(f"/console/registrations/{joined['id']}/invoice", data={"name": "", "address": "",
                                                                                 "email": "not-an-address"})
    assert missing.status_code == 422
    assert 'id="address-error"' in _text(missing) and 'id="email-error"' in _text(missing)
    assert 'value="not-an-address"' in _text(missing)

    issued = staff.post(f"/console/registrations/{joined['id']}/invoice", data={
        "name": "Universitätsklinikum Köln, Radiology", "address": "Kerpener Str. 62\r\n50937 Köln",
        "purchase_order": "PO-77"})
    assert issued.status_code == 303 and issued.headers["Location"] == f"/console/registrations/{joined['id']}"
    shown = staff.get(issued.headers["Location"])
    assert "Invoice" in _text(shown) and "issued and mailed" in _text(shown)
    invoiced = _api_registration(client, auth, joined["id"])
    assert invoiced["payment_method"] == "invoice" and invoiced["invoice_number"]
    assert f"Mark invoice {invoiced['invoice_number']} paid" in _text(shown)

    assert staff.post(f"/console/registrations/{joined['id']}/mark-paid").status_code == 303
    paid = _api_registration(client, auth, joined["id"])
    assert paid["status"] == "confirmed" and paid["amount_paid"] == 20000
    again = staff.post(f"/console/registrations/{joined['id']}/mark-paid")  # marked paid already: a no-op
    assert again.status_code == 303

    page = _text(staff.get(f"/console/registrations/{joined['id']}"))
    assert "Cancelling now refunds <strong>EUR 100.00</strong>" in page
    assert "Invoice " + invoiced["invoice_number"] + " issued" in page  # the history: the document
    assert "Mark the invoice paid (in the console)" in page and "Staff of society-a" in page  # the audit log
    confirm = staff.get(f"/console/registrations/{joined['id']}/cancel")
    assert confirm.status_code == 200 and "EUR 100.00" in _text(confirm)
    assert "Cancel the registration and refund EUR 100.00" in _text(confirm)
    assert _api_registration(client, auth, joined["id"])["status"] == "confirmed"  # a GET changes nothing

    cancelled = staff.post(f"/console/registrations/{joined['id']}/cancel")
    assert cancelled.status_code == 303
    assert _api_registration(client, auth, joined["id"])["status"] == "refunded"
    shown = _text(staff.get(cancelled.headers["Location"]))
    assert "cancelled and refunded" in shown and "Credit note" in shown
    twice = staff.post(f"/console/registrations/{joined['id']}/cancel")
    assert twice.status_code == 409 and "cancelled already" in _text(twice)


def test_staff_approve_and_reject_trainees_and_a_refused_transition_is_shown_on_the_page(
        registration_app: Flask, client: FlaskClient, auth: dict[str, str], staff: FlaskClient,
        paid_event: dict[str, Any]) -> None:
    slug = paid_event["slug"]
    first = sign_up(client, slug, rate="trainee")
    second = sign_up(client, slug, rate="trainee")
    assert first["status"] == second["status"] == "pending_approval"
    page = _text(staff.get(f"/console/registrations/{first['id']}"))
    assert "Awaiting the organiser" in page and ">Approve</button>" in page and ">Reject</button>" in page

    assert staff.post(f"/console/registrations/{first['id']}/approve").status_code == 303
    assert _api_registration(client, auth, first["id"])["status"] == "confirmed"
    refused = staff.post(f"/console/registrations/{first['id']}/approve")
    assert refused.status_code == 409
    assert "Only a registration awaiting approval can be approved; this one is confirmed." in _text(refused)
    assert "<h1>" in _text(refused) and "Resend the confirmation" in _text(refused)  # the registration's page

    too_long = staff.post(f"/console/registrations/{second['id']}/reject", data={"reason": "x" * 1001})
    assert too_long.status_code == 422 and 'id="reason-error"' in _text(too_long)
    rejected = staff.post(f"/console/registrations/{second['id']}/reject", data={"reason": "Not a trainee."})
    assert rejected.status_code == 303
    body = _api_registration(client, auth, second["id"])
    assert body["status"] == "cancelled" and body["rejection_reason"] == "Not a trainee."
    assert "Rejected: Not a trainee." in _text(staff.get(f"/console/registrations/{second['id']}"))


def test_resending_the_confirmation_queues_one_mail_per_resend(
        registration_app: Flask, client: FlaskClient, auth: dict[str, str], staff: FlaskClient) -> None:
    from sqlalchemy import select

    from registration.models import Outbox

    event = create_event(client, auth)
    joined = sign_up(client, event["slug"])
    page = _text(staff.get(f"/console/registrations/{joined['id']}"))
    resend_id = re.search(r'name="resend_id" value="([0-9a-f]{32})"', page).group(1)  # type: ignore[union-attr]
    for _ in range(2):  # the same form twice (a double click): one mail
        assert staff.post(f"/console/registrations/{joined['id']}/resend-confirmation",
                          data={"resend_id": resend_id}).status_code == 303
    assert staff.post(f"/console/registrations/{joined['id']}/resend-confirmation",
                      data={"resend_id": "f" * 32}).status_code == 303
    with registration_app.extensions["suite_db"].session_scope() as session:
        keys = session.scalars(select(Outbox.idempotency_key).where(
            Outbox.idempotency_key.like(f"reg:{joined['reference']}:registration_confirmed%"))).all()
    assert sorted(keys) == sorted([f"reg:{joined['reference']}:registration_confirmed",
                                   f"reg:{joined['reference']}:registration_confirmed:resend:{resend_id}",
                                   f"reg:{joined['reference']}:registration_confirmed:resend:{'f' * 32}"])
    forged = staff.post(f"/console/registrations/{joined['id']}/resend-confirmation", data={"resend_id": "x"})
    assert forged.status_code == 422
    assert client.post(f"/api/v1/registrations/{joined['id']}/cancel", headers=auth).status_code == 200
    late = staff.post(f"/console/registrations/{joined['id']}/resend-confirmation", data={"resend_id": "e" * 32})
    assert late.status_code == 409 and "Only a confirmed registration" in _text(late)


def test_staff_upload_a_member_file_see_each_bad_line_and_download_the_list(
        client: FlaskClient, auth: dict[str, str], staff: FlaskClient) -> None:
    def upload(content: str, mode: str = "append") -> Any:
        return staff.post("/console/members/upload", content_type="multipart/form-data",
                          data={"mode": mode, "file": (io.BytesIO(content.encode()), "members.csv")})

    page = staff.get("/console/members")
    assert page.status_code == 200 and 'type="file"' in _text(page) and 'enctype="multipart/form-data"' in _text(page)
    bad = upload("email,member_number,name\nada@society.example,M-1,Ada\nnot-an-email,,Bob\n,,\n,M-1,Carla\n")
    assert bad.status_code == 422
    text = _text(bad)
    assert "line 3: &#39;not-an-email&#39; is not a valid email address" in text
    assert "line 5: the member number M-1 is already on line 2" in text
    assert "2 lines of the file cannot be imported; nothing was imported." in text
    assert 'aria-invalid="true"' in text
    assert client.get("/api/v1/members", headers=auth).get_json()["count"] == 0
    assert upload("", mode="everything").status_code == 422
    no_file = staff.post("/console/members/upload", data={"mode": "append"})
    assert no_file.status_code == 422 and "Choose a CSV file" in _text(no_file)

    done = upload("email,member_number,name\nada@society.example,M-1,Ada\nbob@society.example,M-2,Bob\n")
    assert done.status_code == 303 and done.headers["Location"] == "/console/members"
    listed = _text(staff.get("/console/members"))
    assert "2 added" in listed and 'id="member-count">2<' in listed and "bob@society.example" in listed
    assert upload("email\ncarla@society.example\n", mode="replace").status_code == 303
    assert client.get("/api/v1/members", headers=auth).get_json()["count"] == 1

    download = staff.get("/console/members.csv")
    api_csv = client.get("/api/v1/members", headers=auth, query_string={"format": "csv"})
    assert download.status_code == 200 and download.mimetype == "text/csv"
    assert _text(download) == _text(api_csv) and "carla@society.example" in _text(download)


def test_a_viewer_reads_but_every_action_is_refused(
        client: FlaskClient, auth: dict[str, str], viewer: FlaskClient, paid_event: dict[str, Any]) -> None:
    joined = sign_up(client, paid_event["slug"], rate="trainee")
    assert viewer.get(f"/console/events/{paid_event['slug']}/registrations").status_code == 200
    assert viewer.get(f"/console/events/{paid_event['slug']}/registrations.csv").status_code == 200
    page = viewer.get(f"/console/registrations/{joined['id']}")
    assert page.status_code == 200 and "<form method=\"post\" action=\"/console/registrations" not in _text(page)
    assert viewer.get("/console/members").status_code == 200 and 'type="file"' not in _text(viewer.get("/console/members"))
    assert viewer.get("/console/members.csv").status_code == 200
    assert viewer.get(f"/console/registrations/{joined['id']}/cancel").status_code == 403
    for action in ("cancel", "approve", "reject", "resend-confirmation", "invoice", "mark-paid"):
        response = viewer.post(f"/console/registrations/{joined['id']}/{action}",
                               data={"reason": "no", "name": "X", "address": "Y", "resend_id": "a" * 32})
        assert response.status_code == 403, action
    refused = viewer.post("/console/members/upload", content_type="multipart/form-data",
                          data={"file": (io.BytesIO(b"email\nx@y.example\n"), "members.csv")})
    assert refused.status_code == 403
    assert _api_registration(client, auth, joined["id"])["status"] == "pending_approval"
    assert client.get("/api/v1/members", headers=auth).get_json()["count"] == 0


def test_another_organisations_registration_and_event_are_not_found(
        registration_app: Flask, client: FlaskClient, other_token: str, staff: FlaskClient) -> None:
    other = {"Authorization": f"Bearer {other_token}"}
    event = create_event(client, other)
    theirs = sign_up(client, event["slug"])
    assert staff.get(f"/console/registrations/{theirs['id']}").status_code == 404
    assert staff.get(f"/console/registrations/{theirs['id']}/cancel").status_code == 404
    for action in ("cancel", "approve", "reject", "resend-confirmation", "invoice", "mark-paid"):
        assert staff.post(f"/console/registrations/{theirs['id']}/{action}",
                          data={"name": "X", "address": "Y", "resend_id": "a" * 32}).status_code == 404, action
    assert staff.get(f"/console/events/{event['slug']}/registrations").status_code == 404
    assert staff.get(f"/console/events/{event['slug']}/registrations.csv").status_code == 404
    assert _api_registration(client, other, theirs["id"])["status"] == "confirmed"
