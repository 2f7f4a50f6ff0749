"""Member and trainee rates as real processes: the organiser uploads the member list, a member pays
at the member rate, a trainee waits for approval, is approved onto a paid seat and pays on the
Stripe stand-in's page, another is rejected; every step reaches the attendee by mail."""
from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import requests

from devtools.smtp_sink import SmtpSink
from devtools.stripe_standin import StripeStandin
from tests.support.factories import iso
from tests.support.mail import eventually
from tests.support.stack import running_stack, url

pytestmark = pytest.mark.e2e

SECRET = "whsec_test_member_rates"
TITLE = "Congress of Imaging Informatics"


@pytest.fixture
def world(tmp_path: Path):  # type: ignore[no-untyped-def]
    with SmtpSink(tmp_path / "mail") as sink, StripeStandin(webhook_secret=SECRET) as stripe_standin, running_stack(
        tmp_path, SMTP_PORT=str(sink.port), STRIPE_API_BASE=stripe_standin.url, STRIPE_WEBHOOK_SECRET=SECRET,
    ) as stack:
        registration = url(stack, "registration")
        requests.post(f"{stripe_standin.url}/_standin/webhook",
                      json={"url": f"{registration}/webhooks/stripe"}).raise_for_status()
        auth = {"Authorization": f"Bearer {stack.create_token('society')}"}
        created = requests.post(f"{registration}/api/v1/events", headers=auth, json={
            "slug": "congress", "title": TITLE, "kind": "conference", "starts_at": iso(days=40),
            "ends_at": iso(days=41), "timezone": "Europe/Vienna", "capacity": 2, "currency": "EUR",
            "venue": "Vienna", "vat_rate": "20"})
        assert created.status_code == 201, created.text
        for rate in ({"code": "member", "name": "Member", "amount": 45000, "category": "member"},
                     {"code": "trainee", "name": "Trainee", "amount": 20000, "category": "trainee"}):
            response = requests.post(f"{registration}/api/v1/events/congress/rates", headers=auth,
                                     json={**rate, "currency": "EUR"})
            assert response.status_code == 201, response.text
        yield stack, stripe_standin, sink, registration, auth


def sign_up(registration: str, email: str, rate: str, **extra: Any) -> requests.Response:
    return requests.post(f"{registration}/api/v1/events/congress/registrations", json={
        "email": email, "given_name": "Zoë", "family_name": "Łukasiewicz", "rate": rate, "consent": True, **extra})


def status_of(registration: str, auth: dict[str, str], reg_id: int) -> str:
    return requests.get(f"{registration}/api/v1/registrations/{reg_id}", headers=auth).json()["status"]


def mail_to(sink: SmtpSink, to: str, subject: str) -> EmailMessage:
    """The one mail to ``to`` with ``subject``, once it has arrived."""
    def found() -> list[EmailMessage]:
        return [m for m in sink.messages() if m["To"] == to and m["Subject"] == subject]

    (mail,) = eventually(found, timeout=30)
    return mail


def text_of(mail: EmailMessage) -> str:
    return mail.get_body(("plain",)).get_content()


def test_member_list_member_rate_and_trainee_approval_onto_a_paid_seat(world) -> None:  # type: ignore[no-untyped-def]
    stack, stripe_standin, sink, registration, auth = world
    members = "\ufeffE-Mail;Member number;Name\r\nzoe@szpital.example;;Zoë Łukasiewicz\r\n;ESII-0042;Jean Dupont\r\n"
    bad = "email,member_number,name\nok@h.example,,\n,,Nobody\nnot-an-email,,\n,,\n"

    # A file with bad rows is refused whole, line by line; a good one (an Excel export) is taken.
    refused = requests.put(f"{registration}/api/v1/members", headers=auth,
                           files={"file": ("members.csv", bad.encode(), "text/csv")})
    assert refused.status_code == 422, refused.text
    assert [p.split(":")[0] for p in refused.json()["error"]["fields"]["file"]] == ["line 3", "line 4"]
    loaded = requests.put(f"{registration}/api/v1/members", headers=auth,
                          files={"file": ("members.csv", members.encode("utf-8"), "text/csv")})
    assert loaded.status_code == 200 and loaded.json()["count"] == 2, loaded.text

    # The member rate: by email, by member number, and refused to someone not on the list.
    stranger = sign_up(registration, "stranger@h.example", "member")
    assert stranger.status_code == 422 and "not on the member list" in stranger.json()["error"]["fields"]["rate"][0]
    by_email = sign_up(registration, "ZOE@szpital.example", "member")
    assert by_email.status_code == 201 and by_email.json()["status"] == "pending_payment", by_email.text
    by_number = sign_up(registration, "jean@private.example", "member", member_number="esii-0042")
    assert by_number.status_code == 201 and by_number.json()["payment_url"].startswith(stripe_standin.url)
    # The member who signed up by number cancels before paying: their held seat goes back.
    requests.post(f"{registration}/api/v1/registrations/{by_number.json()['id']}/cancel", headers=auth)

    # The trainee rate waits for approval, with no seat and a mail saying so.
    trainee = sign_up(registration, "trainee@uniklinik.example", "trainee")
    assert trainee.status_code == 201, trainee.text
    trainee_body = trainee.json()
    assert (trainee_body["status"], trainee_body.get("payment_url")) == ("pending_approval", None)
    event = requests.get(f"{registration}/api/v1/events/congress", headers=auth).json()
    assert event["seats_taken"] == 1
    waiting = mail_to(sink, "trainee@uniklinik.example", f"Awaiting approval: {TITLE}")
    assert trainee_body["manage_url"] in text_of(waiting)
    pending = requests.get(f"{registration}/api/v1/events/congress/registrations", headers=auth,
                           params={"status": "pending_approval"}).json()["items"]
    assert [item["id"] for item in pending] == [trainee_body["id"]]

    # Approved: the paid trainee rate now holds the last seat while they pay on the checkout page.
    approved = requests.post(f"{registration}/api/v1/registrations/{trainee_body['id']}/approve", headers=auth)
    assert approved.status_code == 200, approved.text
    decision = approved.json()
    assert decision["status"] == "pending_payment" and decision["hold_expires_at"]
    assert decision["payment_url"].startswith(stripe_standin.url)
    assert requests.get(f"{registration}/api/v1/events/congress", headers=auth).json()["seats_taken"] == 2
    granted = mail_to(sink, "trainee@uniklinik.example", f"Approved: {TITLE}")
    assert "Trainee" in text_of(granted)
    again = requests.post(f"{registration}/api/v1/registrations/{trainee_body['id']}/approve", headers=auth)
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"

    page = requests.get(decision["payment_url"])
    assert page.status_code == 200 and "200.00" in page.text
    paid = requests.post(decision["payment_url"], allow_redirects=False)
    assert paid.status_code == 303
    eventually(lambda: status_of(registration, auth, trainee_body["id"]) == "confirmed")
    mail_to(sink, "trainee@uniklinik.example", f"Registration confirmed: {TITLE}")
    mail_to(sink, "trainee@uniklinik.example", f"Payment received: {TITLE}")

    # Another trainee is rejected, with the reason in the mail; no seat was ever theirs.
    other = sign_up(registration, "student@uni.example", "trainee").json()
    reason = "Please send proof of your training status."
    rejected = requests.post(f"{registration}/api/v1/registrations/{other['id']}/reject", headers=auth,
                             json={"reason": reason})
    assert rejected.status_code == 200 and rejected.json()["status"] == "cancelled", rejected.text
    assert reason in text_of(mail_to(sink, "student@uni.example", f"Not approved: {TITLE}"))
    assert requests.get(f"{registration}/api/v1/events/congress", headers=auth).json()["seats_taken"] == 2

    # The member list exports as CSV that imports again.
    exported = requests.get(f"{registration}/api/v1/members", headers=auth, params={"format": "csv"})
    assert exported.headers["Content-Type"].startswith("text/csv")
    assert exported.text.splitlines()[0] == "email,member_number,name,created_at"
    assert "ESII-0042" in exported.text
