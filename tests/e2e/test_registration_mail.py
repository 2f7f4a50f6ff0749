"""Sign-ups, cancellations and event changes reach attendees as mail, exactly once, through the
outbox, notifications and a real SMTP server on loopback."""
from __future__ import annotations

import collections
import datetime as dt
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from icalendar import Calendar

from devtools.smtp_sink import SmtpSink
from devtools.stack import SERVICES, Stack
from tests.support.factories import event_payload, iso
from tests.support.mail import eventually, messages
from tests.support.stack import running_stack, url

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, SmtpSink]]:
    """One stack for the module: each test has its own organisation (``_setup``), so the messages
    it lists are its own, and starts with an empty sink."""
    var = tmp_path_factory.mktemp("registration-mail")
    with SmtpSink(var / "mail") as sink, running_stack(var, SMTP_PORT=str(sink.port)) as stack:
        yield stack, sink


@pytest.fixture
def stack(suite: tuple[Stack, SmtpSink]) -> Stack:
    """The module's stack with every service up, though an earlier test stopped one and failed."""
    running, _ = suite
    stopped = [name for name in SERVICES if name not in running.processes or running.processes[name].poll() is not None]
    for name in stopped:
        running.start_service(name)
    if stopped:
        running.wait_ready()
    return running


@pytest.fixture
def sink(suite: tuple[Stack, SmtpSink]) -> SmtpSink:
    """The module's sink, emptied: a test counts only the mail it caused."""
    _, running = suite
    running.clear()
    return running


def _setup(stack, capacity: int, organisation: str, **overrides):  # type: ignore[no-untyped-def]
    base = url(stack, "registration")
    token = stack.create_token(organisation)
    auth = {"Authorization": f"Bearer {token}"}
    event = requests.post(f"{base}/api/v1/events", headers=auth,
                          json=event_payload(capacity=capacity, title="Lesion tracking with AI", **overrides)).json()
    assert requests.post(f"{base}/api/v1/events/{event['slug']}/rates", headers=auth, json={
        "code": "free", "name": "Free", "amount": 0, "currency": "EUR", "category": "other"}).status_code == 201
    return base, token, auth, event


def _sign_up(base: str, slug: str, email: str, given: str = "Zoë", family: str = "Παπαδόπουλος") -> dict:
    response = requests.post(f"{base}/api/v1/events/{slug}/registrations", json={
        "email": email, "given_name": given, "family_name": family, "rate": "free", "consent": True})
    assert response.status_code == 201, response.text
    return response.json()


def _calendar(mail) -> Calendar:  # type: ignore[no-untyped-def]
    parts = [p for p in mail.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1, "exactly one calendar file"
    return Calendar.from_ical(parts[0].get_payload(decode=True))


def test_confirmation_waitlist_cancellation_and_promotion_mails_with_calendar_files(
    stack: Stack, sink: SmtpSink
) -> None:
    base, token, auth, event = _setup(stack, capacity=1, organisation="mail-promotion")
    first = _sign_up(base, event["slug"], "zoe@hospital.example")
    second = _sign_up(base, event["slug"], "li@hospital.example", "小明", "王")
    assert second["status"] == "waitlisted"
    caught = sink.wait_for(2, timeout=30)
    by_to = {m["To"]: m for m in caught}

    confirmed = by_to["zoe@hospital.example"]
    assert confirmed["Subject"] == "Registration confirmed: Lesion tracking with AI"
    text = confirmed.get_body(("plain",)).get_content()
    html = confirmed.get_body(("html",)).get_content()
    assert "Zoë Παπαδόπουλος" in text and first["manage_url"] in text and "https://zoom.us/j/123" in text
    assert "Zoë Παπαδόπουλος" in html and f'href="{first["manage_url"]}"' in html
    vevent = _calendar(confirmed).walk("VEVENT")[0]
    assert vevent.decoded("dtstart").astimezone(dt.UTC) == dt.datetime.fromisoformat(event["starts_at"])
    uid = str(vevent["uid"])

    waitlisted = by_to["li@hospital.example"]
    assert waitlisted["Subject"] == "Waiting list: Lesion tracking with AI"
    assert "position 1" in waitlisted.get_body(("plain",)).get_content()
    assert not [p for p in waitlisted.iter_attachments()]

    # Reminders wait in notifications for their time: 7 days, 1 day and 1 hour before a webinar.
    reminders = eventually(lambda: messages(stack, token, to="zoe@hospital.example", status="queued"))
    assert sorted(dt.datetime.fromisoformat(m["send_at"]) for m in reminders) == sorted(
        dt.datetime.fromisoformat(event["starts_at"]) - delta
        for delta in (dt.timedelta(days=7), dt.timedelta(days=1), dt.timedelta(hours=1)))

    requests.post(f"{base}/api/v1/registrations/{first['id']}/cancel", headers=auth).raise_for_status()
    caught = sink.wait_for(4, timeout=30)
    later = {m["To"]: m for m in caught[2:]}
    cancel_mail = later["zoe@hospital.example"]
    assert cancel_mail["Subject"] == "Registration cancelled: Lesion tracking with AI"
    cancelled_entry = _calendar(cancel_mail)
    assert cancelled_entry["method"] == "CANCEL" and str(cancelled_entry.walk("VEVENT")[0]["uid"]) == uid
    promoted = later["li@hospital.example"]
    assert promoted["Subject"] == "A seat is yours: Lesion tracking with AI"
    assert "王" in promoted.get_body(("plain",)).get_content()

    # The cancelled person's reminders are cancelled; the promoted person's are scheduled.
    eventually(lambda: {m["status"] for m in messages(stack, token, to="zoe@hospital.example")
                        if m["template"] in ("reminder", "webinar_join_link")} == {"cancelled"})
    eventually(lambda: len([m for m in messages(stack, token, to="li@hospital.example", status="queued")
                            if m["template"] in ("reminder", "webinar_join_link")]) == 3)
    assert len(sink.messages()) == 4


def test_moving_the_event_updates_calendars_and_moves_the_reminders(stack: Stack, sink: SmtpSink) -> None:
    base, token, auth, event = _setup(stack, capacity=10, organisation="mail-moved")
    _sign_up(base, event["slug"], "zoe@hospital.example")
    original = _calendar(sink.wait_for(1, timeout=30)[0]).walk("VEVENT")[0]
    eventually(lambda: len(messages(stack, token, status="queued")) == 3)

    new_start, new_end = iso(days=20), iso(days=20, hours=2)
    response = requests.patch(f"{base}/api/v1/events/{event['slug']}", headers=auth,
                              json={"starts_at": new_start, "ends_at": new_end})
    assert response.status_code == 200

    changed = sink.wait_for(2, timeout=30)[1]
    assert changed["Subject"] == "Changed: Lesion tracking with AI"
    updated = _calendar(changed).walk("VEVENT")[0]
    assert str(updated["uid"]) == str(original["uid"])
    assert int(updated["sequence"]) == int(original["sequence"]) + 1
    assert updated.decoded("dtstart").astimezone(dt.UTC) == dt.datetime.fromisoformat(new_start)

    def moved() -> bool:
        reminders = [m for m in messages(stack, token) if m["template"] in ("reminder", "webinar_join_link")]
        queued = sorted(dt.datetime.fromisoformat(m["send_at"]) for m in reminders if m["status"] == "queued")
        cancelled = [m for m in reminders if m["status"] == "cancelled"]
        start = dt.datetime.fromisoformat(new_start)
        expected = sorted(start - d for d in (dt.timedelta(days=7), dt.timedelta(days=1), dt.timedelta(hours=1)))
        return len(cancelled) == 3 and queued == expected

    eventually(moved)


def test_notifications_down_while_50_register_then_everyone_gets_exactly_one_confirmation(
    stack: Stack, sink: SmtpSink
) -> None:
    base, _token, _auth, event = _setup(stack, capacity=100, organisation="mail-outage")
    stack.stop_service("notifications")
    with ThreadPoolExecutor(10) as pool:
        results = list(pool.map(lambda n: _sign_up(base, event["slug"], f"p{n}@hospital.example"), range(50)))
    assert {r["status"] for r in results} == {"confirmed"}
    assert sink.messages() == []
    stack.start_service("notifications")
    stack.wait_ready()
    caught = sink.wait_for(50, timeout=90)
    per_person = collections.Counter(m["To"] for m in caught)
    assert per_person == {f"p{n}@hospital.example": 1 for n in range(50)}
    assert {m["Subject"] for m in caught} == {"Registration confirmed: Lesion tracking with AI"}


def test_announcements_reach_only_those_who_consented_and_one_click_unsubscribe_works(
    stack: Stack, sink: SmtpSink
) -> None:
    base, _token, auth, event = _setup(stack, capacity=10, organisation="mail-announcements")
    slug = event["slug"]
    for email, consent in (("yes1@h.example", True), ("yes2@h.example", True), ("no@h.example", False),
                           ("gone@h.example", True)):
        response = requests.post(f"{base}/api/v1/events/{slug}/registrations", json={
            "email": email, "given_name": "Ana", "family_name": "Núñez", "rate": "free", "consent": True,
            "announcements": consent})
        assert response.status_code == 201
        if email.startswith("gone"):
            requests.post(f"{base}/api/v1/registrations/{response.json()['id']}/cancel", headers=auth)
    sink.wait_for(5, timeout=30)  # four confirmations and one cancellation
    sink.clear()

    announce = {"subject": "Programme update", "body": "The keynote moves to 18:15."}
    response = requests.post(f"{base}/api/v1/events/{slug}/announcements", json=announce,
                             headers={**auth, "Idempotency-Key": "update-1"})
    assert response.status_code == 202 and response.json() == {"recipients": 2}
    # The same announcement again (a retried request) reaches nobody a second time.
    requests.post(f"{base}/api/v1/events/{slug}/announcements", json=announce,
                  headers={**auth, "Idempotency-Key": "update-1"})
    caught = sink.wait_for(2, timeout=30)
    assert sorted(m["To"] for m in caught) == ["yes1@h.example", "yes2@h.example"]
    mail = next(m for m in caught if m["To"] == "yes1@h.example")
    assert mail["Subject"] == "Programme update"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe_url = mail["List-Unsubscribe"].strip().strip("<>")
    assert unsubscribe_url in mail.get_body(("plain",)).get_content()

    # RFC 8058: the mail client POSTs "List-Unsubscribe=One-Click", without cookies or CSRF token.
    one_click = requests.post(unsubscribe_url, data={"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 200
    assert requests.post(unsubscribe_url, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert requests.get(unsubscribe_url.replace("/u/", "/u/x")).status_code == 404

    sink.clear()
    response = requests.post(f"{base}/api/v1/events/{slug}/announcements", headers=auth,
                             json={"subject": "Recording online", "body": "Watch it again."})
    assert response.json() == {"recipients": 1}
    assert [m["To"] for m in sink.wait_for(1, timeout=30)] == ["yes2@h.example"]
