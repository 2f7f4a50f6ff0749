"""Two replicas of every service and of every worker, as real processes against one PostgreSQL:
the sign-up burst, the outbox dispatchers, the SMTP senders and the certificate job stay exactly-once.

Replica n of each service listens on its own port and calls replica n of the others, so requests,
deliveries and jobs really cross process boundaries; the only thing the replicas share is each
service's database. Mails are counted at the SMTP sink, deliveries in the services' own tables.
"""
from __future__ import annotations

import collections
import csv
import datetime as dt
import io
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from sqlalchemy import Engine, create_engine, text

from devtools.smtp_sink import SmtpSink
from devtools.stack import Stack, replica_name
from suite_common.client import ServiceClient
from tests.support.databases import BACKENDS, fresh_database
from tests.support.factories import event_payload, iso
from tests.support.mail import WEBINAR_CONTEXT, eventually
from tests.support.stack import running_stack

pytestmark = pytest.mark.e2e

REPLICAS = (1, 2)
CAPACITY = 50
SIGNUPS = 120
TZ = ZoneInfo("Europe/Vienna")


@dataclass
class Suite:
    stack: Stack
    sink: SmtpSink
    databases: dict[str, Engine]
    auth: dict[str, str]

    def urls(self, service: str) -> list[str]:
        return self.stack.urls[service]

    def rows(self, service: str, sql: str, **params: Any) -> list[Any]:
        with self.databases[service].connect() as connection:
            return list(connection.execute(text(sql), params))

    def stop(self, process: str) -> None:
        for replica in REPLICAS:
            self.stack.stop_service(replica_name(process, replica))


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Suite]:
    if "postgresql" not in BACKENDS:
        if os.environ.get("CI"):
            pytest.fail("CI must provide DATABASE_URL_TEST: replicas share PostgreSQL, never SQLite")
        pytest.skip("needs PostgreSQL: set DATABASE_URL_TEST (replicas share one database per service)")
    tmp = tmp_path_factory.mktemp("replicas")
    with ExitStack() as resources:
        urls = {name: resources.enter_context(fresh_database("postgresql", tmp, name))
                for name in ("registration", "notifications", "certificates")}
        sink = resources.enter_context(SmtpSink(tmp / "mail"))
        stack = resources.enter_context(running_stack(tmp, urls, workers=1, replicas=len(REPLICAS),
                                                      SMTP_PORT=str(sink.port)))
        databases = {name: create_engine(url) for name, url in urls.items()}
        resources.callback(lambda: [engine.dispose() for engine in databases.values()])
        yield Suite(stack, sink, databases, {"Authorization": f"Bearer {stack.create_token('society')}"})


def create_event(suite: Suite, **overrides: Any) -> str:
    base = suite.urls("registration")[0]
    event = requests.post(f"{base}/api/v1/events", json=event_payload(**overrides), headers=suite.auth)
    assert event.status_code == 201, event.text
    slug = event.json()["slug"]
    rate = requests.post(f"{base}/api/v1/events/{slug}/rates", headers=suite.auth, json={
        "code": "free", "name": "Free", "amount": 0, "currency": "EUR", "category": "other"})
    assert rate.status_code == 201, rate.text
    return slug


def sign_up_alternating(suite: Suite, slug: str, count: int) -> list[requests.Response]:
    """``count`` sign-ups at once, even numbers on registration replica 1, odd ones on replica 2."""
    bases = suite.urls("registration")

    def sign_up(n: int) -> requests.Response:
        return requests.post(f"{bases[n % len(bases)]}/api/v1/events/{slug}/registrations", timeout=60, json={
            "email": f"{slug}-{n}@hospital.example", "given_name": "Ana", "family_name": f"Núñez {n}",
            "rate": "free", "consent": True})

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(sign_up, range(count)))


def outbox(suite: Suite, service: str, event: str) -> list[Any]:
    return suite.rows(service, "SELECT idempotency_key, attempts, delivered_at, last_error FROM outbox "
                               "WHERE body->>'event' = :event", event=event)


def messages(suite: Suite, where: str, **params: Any) -> list[Any]:
    return suite.rows("notifications", "SELECT idempotency_key, status, message_id, recipient, "
                                       "send_at <= now() AS due FROM messages WHERE " + where, **params)


def handed_over(suite: Suite, service: str, event: str) -> list[Any] | None:
    """The event's messages once every outbox row of ``service`` reached notifications and every
    message due now has been sent; None while anything is still on its way."""
    rows = outbox(suite, service, event)
    if not rows or any(row.delivered_at is None for row in rows):
        return None
    received = messages(suite, "event_slug = :event", event=event)
    if sorted(m.idempotency_key for m in received) != sorted(row.idempotency_key for row in rows):
        return None
    return received if all(m.status == "sent" for m in received if m.due) else None


def assert_each_mail_caught_once(sink: SmtpSink, sent: list[Any]) -> None:
    """Every sent message is in the sink exactly once. Called once the messages are recorded as
    sent, when no sender holds them any more: no repeat can still be on its way."""
    expected = {m.message_id: m.recipient for m in sent}
    caught = [mail for mail in sink.messages() if mail["Message-ID"] in expected]
    assert collections.Counter(mail["Message-ID"] for mail in caught) == collections.Counter(set(expected)), \
        "mails missing or caught twice"
    assert {mail["Message-ID"]: mail["To"] for mail in caught} == expected


def test_a_sign_up_burst_across_both_registration_replicas_fills_exactly_the_capacity(suite: Suite) -> None:
    slug = create_event(suite, capacity=CAPACITY, starts_at=iso(hours=12), ends_at=iso(hours=14))
    responses = sign_up_alternating(suite, slug, SIGNUPS)

    assert [r.status_code for r in responses] == [201] * SIGNUPS, {r.status_code: r.text for r in responses}
    results = sorted((r.json() for r in responses), key=lambda r: r["id"])
    statuses = collections.Counter(r["status"] for r in results)
    assert statuses == {"confirmed": CAPACITY, "waitlisted": SIGNUPS - CAPACITY}
    waitlisted = [r["waitlist_position"] for r in results if r["status"] == "waitlisted"]
    assert waitlisted == list(range(1, SIGNUPS - CAPACITY + 1)), "positions in arrival order, none twice"
    for base in suite.urls("registration"):  # both replicas read the same seats
        event = requests.get(f"{base}/api/v1/events/{slug}", headers=suite.auth).json()
        assert event["seats_taken"] == CAPACITY

    # Each sign-up's mail (and each confirmed person's join-link reminder) went through the two
    # dispatchers: every outbox row delivered by exactly one HTTP call, every mail caught once.
    received = eventually(lambda: handed_over(suite, "registration", slug), timeout=90, interval=0.5)
    rows = outbox(suite, "registration", slug)
    assert [row.attempts for row in rows] == [1] * len(rows), "an outbox row was delivered more than once"
    sent = [m for m in received if m.due]
    assert len(sent) == SIGNUPS
    assert_each_mail_caught_once(suite.sink, sent)


def test_both_dispatchers_retry_while_notifications_is_down_and_then_deliver_each_row_once(suite: Suite) -> None:
    suite.stop("notifications")
    try:
        slug = create_event(suite, capacity=100, starts_at=iso(hours=12), ends_at=iso(hours=14))
        signups = 30
        assert [r.status_code for r in sign_up_alternating(suite, slug, signups)] == [201] * signups
        failed = eventually(lambda: [row for row in outbox(suite, "registration", slug) if row.attempts], timeout=30)
        assert all(row.delivered_at is None and "unreachable" in row.last_error for row in failed)
    finally:
        for replica in REPLICAS:
            suite.stack.start_service("notifications", replica)
        suite.stack.wait_ready()

    received = eventually(lambda: handed_over(suite, "registration", slug), timeout=90, interval=0.5)
    assert all(suite.stack.processes[name].poll() is None for name in ("registration-worker", "registration-worker-2"))
    sent = [m for m in received if m.due]
    assert len(sent) == signups
    assert_each_mail_caught_once(suite.sink, sent)


def test_two_senders_send_each_queued_message_once(suite: Suite) -> None:
    count = 100
    # Queued for one moment a little ahead, so both senders find the whole backlog due at once.
    due = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5)).isoformat()
    clients = [ServiceClient(base, "registration", "dev-insecure-registration-key", retries=0)
               for base in suite.urls("notifications")]

    def queue(n: int) -> int:
        response = clients[n % len(clients)].post("/internal/v1/messages", json={
            "idempotency_key": f"senders-{n}", "template": "registration_confirmed",
            "to": f"senders-{n}@hospital.example", "context": WEBINAR_CONTEXT, "organisation_id": 1,
            "event": "senders", "send_at": due})
        return response.status_code

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(queue, range(count))) == [202] * count

    def all_sent() -> list[Any] | None:
        found = messages(suite, "event_slug = 'senders'")
        return found if all(m.status == "sent" for m in found) else None

    sent = eventually(all_sent, timeout=60, interval=0.5)
    assert len(sent) == count
    assert all(suite.stack.processes[name].poll() is None for name in ("notifications-worker", "notifications-worker-2"))
    assert_each_mail_caught_once(suite.sink, sent)


def zoom_report(start: dt.datetime, people: list[tuple[str, str]]) -> bytes:
    """A Zoom webinar attendee report in which everyone stayed from start to end."""
    local = start.astimezone(TZ).replace(tzinfo=None)

    def at(minutes: float) -> str:
        return (local + dt.timedelta(minutes=minutes)).strftime("%m/%d/%Y %I:%M:%S %p")

    out = io.StringIO()
    out.write("Attendee Report\r\nTopic,Webinar ID,Actual Start Time,Actual Duration (minutes)\r\n")
    out.write(f"\"Replicas\",812 3456 7890,\"{at(-5)}\",100\r\nAttendee Details\r\n")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["Attended", "User Name (Original Name)", "First Name", "Last Name", "Email",
                     "Registration Time", "Approval Status", "Join Time", "Leave Time",
                     "Time in Session (minutes)", "Is Guest", "Country/Region Name"])
    for name, email in people:
        writer.writerow(["Yes", name, "", "", email, at(-6000), "approved", at(-5), at(95), "", "No", "Austria"])
    return out.getvalue().encode("utf-8")


def test_a_certificate_job_started_on_both_replicas_at_once_issues_one_certificate_and_one_mail_each(
        suite: Suite) -> None:
    people = 40
    start = (dt.datetime.now(TZ) + dt.timedelta(days=3)).replace(hour=18, minute=0, second=0, microsecond=0)
    end = start + dt.timedelta(minutes=90)
    slug = create_event(suite, capacity=100, starts_at=start.isoformat(), ends_at=end.isoformat())
    registration, (first, second) = suite.urls("registration")[0], suite.urls("certificates")
    requests.post(f"{registration}/api/v1/events/{slug}/sessions", headers=suite.auth, json={
        "code": "LIVE", "title": "Live webinar", "starts_at": start.isoformat(), "ends_at": end.isoformat(),
        "credits": "1.5"}).raise_for_status()
    signed_up = [r.json() for r in sign_up_alternating(suite, slug, people)]
    assert collections.Counter(r["status"] for r in signed_up) == {"confirmed": people}
    requests.put(f"{first}/api/v1/events/{slug}/accreditation", headers=suite.auth, json={
        "body": "EACCME®", "statement": "Accredited with 1.5 European CME credits (ECMEC®s).",
        "credit_step": "0.5", "min_session_share": "0.5", "max_credits": "1.5",
        "signatory": "Prof. Dr. Eva de Vries", "signatory_title": "Chair"}).raise_for_status()
    report = zoom_report(start, [(f"Ana Núñez {n}", f"{slug}-{n}@hospital.example") for n in range(people)])
    uploaded = requests.post(f"{second}/api/v1/events/{slug}/attendance-reports", headers=suite.auth,
                             files={"file": ("zoom.csv", report)})
    assert uploaded.status_code == 201 and uploaded.json()["matched"] == people, uploaded.text

    with ThreadPoolExecutor(2) as pool:
        started = list(pool.map(lambda base: requests.post(f"{base}/api/v1/events/{slug}/certificates",
                                                           headers=suite.auth), (first, second)))
    assert [r.status_code for r in started] == [202, 202], [r.text for r in started]

    def job(base: str, job_id: str) -> dict[str, Any] | None:
        found = requests.get(f"{base}/api/v1/jobs/{job_id}", headers=suite.auth).json()
        return found if found["status"] == "done" else None

    jobs = [eventually(lambda b=base, r=response: job(b, r.json()["id"]), timeout=60)
            for base, response in zip((first, second), started, strict=True)]
    assert [(j["processed"], j["error"]) for j in jobs] == [(people, None), (people, None)]
    assert sum(j["issued"] for j in jobs) == people and sum(j["unchanged"] for j in jobs) == people

    for base in (first, second):
        listed = requests.get(f"{base}/api/v1/events/{slug}/certificates", headers=suite.auth).json()["items"]
        assert sorted(c["registration_id"] for c in listed) == sorted(r["id"] for r in signed_up)
        assert {c["revision"] for c in listed} == {1}

    def ready_mails() -> list[Any] | None:
        found = messages(suite, "event_slug = :event AND template = 'certificate_ready'", event=slug)
        rows = outbox(suite, "certificates", slug)
        settled = len(found) == len(rows) == people and all(m.status == "sent" for m in found)
        return found if settled and all(row.delivered_at for row in rows) else None

    sent = eventually(ready_mails, timeout=60, interval=0.5)
    assert sorted(m.recipient for m in sent) == sorted(f"{slug}-{n}@hospital.example" for n in range(people))
    assert [row.attempts for row in outbox(suite, "certificates", slug)] == [1] * people
    assert_each_mail_caught_once(suite.sink, sent)
