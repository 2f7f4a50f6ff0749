"""Retention purges, service by service: what is past its period goes (deleted, or anonymised as by
erasure), what is inside it stays, and a second run finds nothing more to do."""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from suite_common.db import utcnow
from suite_common.retention import PeriodicPurge, run_purge
from suite_common.settings import RetentionPeriods
from tests.support.apps import make_settings
from tests.support.factories import create_event, signup_payload

NOW = utcnow()
PERIODS = RetentionPeriods(personal_data=dt.timedelta(days=365), messages=dt.timedelta(days=90),
                           idempotency=dt.timedelta(days=30))


def ago(days: float) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


@pytest.fixture
def app_of(database_url: str, tmp_path: Path) -> Iterator[Any]:
    built: list[Flask] = []

    def build(service: str) -> Flask:
        app = __import__(service).create_app(make_settings(service, database_url, tmp_path))
        __import__(f"{service}.models").models.Base.metadata.create_all(app.extensions["suite_db"].engine)
        built.append(app)
        return app

    yield build
    for app in built:
        app.extensions["suite_db"].engine.dispose()


def add_guards(session: Any, models: Any) -> None:
    """An expired and a live row in each of the service's guard tables."""
    session.add_all([models.SeenSignature(signature="a" * 64, expires_at=NOW.timestamp() - 5),
                     models.SeenSignature(signature="b" * 64, expires_at=NOW.timestamp() + 3600)])
    if hasattr(models, "RateLimitCounter"):
        session.add_all([models.RateLimitCounter(key="old", count=3, expires_at=NOW.timestamp() - 5),
                         models.RateLimitCounter(key="live", count=3, expires_at=NOW.timestamp() + 3600)])


def test_registration_anonymises_ended_events_and_drops_what_only_recognised_repeats(
        registration_app: Flask, auth: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    from registration import models
    from registration.services import privacy

    monkeypatch.setenv("TAX_RETENTION_YEARS", "10")
    # The CLI purges at the moment every time below is computed from, not whenever this test happens to run
    # (under xdist that was minutes after NOW, and a link live for 14 minutes had expired).
    monkeypatch.setattr("suite_common.retention.utcnow", lambda: NOW)
    client = registration_app.test_client()
    old_event, recent_event = create_event(client, auth), create_event(client, auth)
    ancient_event = create_event(client, auth)  # past the accreditation period too
    signed_up = {}
    for name, event in (("old", old_event), ("recent", recent_event)):
        answer = client.post(f"/api/v1/events/{event['slug']}/registrations", json=signup_payload(),
                             headers={"Idempotency-Key": f"key-{name}"})
        assert answer.status_code == 201
        signed_up[name] = answer.get_json()
    database = registration_app.extensions["suite_db"]
    with database.session_scope() as session:
        for slug, ended_days_ago in ((old_event["slug"], 400), (recent_event["slug"], 10)):
            session.execute(update(models.Event).where(models.Event.slug == slug).values(
                starts_at=ago(ended_days_ago) - dt.timedelta(hours=2), ends_at=ago(ended_days_ago)))
        session.execute(update(models.Registration).where(models.Registration.id == signed_up["old"]["id"])
                        .values(created_at=ago(401)))
        organisation_id = session.scalar(select(models.Event.organisation_id))
        for number, issued in (("R-2015-1", ago(11 * 366)), ("R-2025-1", ago(400))):
            session.add(models.Document(organisation_id=organisation_id, registration_id=signed_up["old"]["id"],
                                        kind="receipt", number=number, amount=1000, currency="EUR",
                                        content={"billing": {"name": "Zoë"}}, issued_at=issued))
        session.execute(update(models.Event).where(models.Event.slug == ancient_event["slug"]).values(
            starts_at=ago(7 * 366) - dt.timedelta(hours=2), ends_at=ago(7 * 366)))
        session.add_all([models.StripeEvent(id="evt_old", type="x", received_at=ago(40)),
                         models.StripeEvent(id="evt_new", type="x", received_at=ago(1)),
                         models.ZoomWebhookEvent(key="webinar.ended:old", event="webinar.ended",
                                                 organisation_id=organisation_id, received_at=ago(40)),
                         models.ZoomWebhookEvent(key="webinar.ended:new", event="webinar.ended",
                                                 organisation_id=organisation_id, received_at=ago(1))])
        # Faculty: past the personal-data period the address and link go, the name and statement stay as
        # the accreditation record; past the accreditation period the record goes with its relationships.
        event_ids = {slug: session.scalar(select(models.Event.id).where(models.Event.slug == slug))
                     for slug in (old_event["slug"], recent_event["slug"], ancient_event["slug"])}
        for slug, name in ((old_event["slug"], "Old"), (recent_event["slug"], "Recent"),
                           (ancient_event["slug"], "Ancient")):
            member = models.FacultyMember(event_id=event_ids[slug], role="speaker", name=name,
                                          email=f"{name}@h.example", email_key=f"{name.lower()}@h.example",
                                          link_token_hash=name[0] * 64)
            member.relationships.append(models.FinancialRelationship(company="Acme", nature="Consultant"))
            session.add(member)
        outbox = session.scalars(select(models.Outbox).order_by(models.Outbox.id)).all()
        assert len(outbox) >= 3
        outbox[0].delivered_at, outbox[1].delivered_at = ago(40), ago(1)
        outbox[2].created_at = ago(40)  # old but never delivered: still owed
        add_guards(session, models)
        # Console sign-in: a spent link and a session idle for a day go; a live link and session stay.
        person = models.OrganiserAccount(organisation_id=organisation_id, email="ada@red.example",
                                         email_key="ada@red.example", name="Ada", role="owner")
        session.add(person)
        session.flush()
        session.add_all([
            models.SignInLink(account_id=person.id, token_hash="a" * 64, expires_at=ago(-0.01), used_at=ago(0.001)),
            models.SignInLink(account_id=person.id, token_hash="b" * 64, expires_at=ago(-0.01)),
            models.ConsoleSession(account_id=person.id, token_hash="c" * 64, created_at=ago(1), last_seen_at=ago(1)),
            models.ConsoleSession(account_id=person.id, token_hash="d" * 64, created_at=ago(0.01),
                                  last_seen_at=ago(0.001)),
        ])

    result = registration_app.test_cli_runner().invoke(args=["purge"], env={"PERSONAL_DATA_RETENTION_DAYS": "365"})
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {
        "registrations_anonymised": 1, "documents_deleted": 1, "idempotency_keys_cleared": 1,
        "stripe_event_ids_deleted": 1, "outbox_rows_deleted": 1, "seen_signatures_deleted": 1,
        "rate_limit_counters_deleted": 1, "console_links_and_sessions_deleted": 2,
        "zoom_webhook_events_deleted": 1, "faculty_contacts_erased": 2, "faculty_records_deleted": 1}

    with database.session_scope() as session:
        old = session.get(models.Registration, signed_up["old"]["id"])
        recent = session.get(models.Registration, signed_up["recent"]["id"])
        assert old.email.endswith("@erased.invalid") and old.given_name == old.family_name == "Erased"
        assert old.idempotency_key is None and old.status == "confirmed" and old.consent_version
        assert recent.email == recent.email_normalised != old.email and recent.idempotency_key == "key-recent"
        assert session.scalars(select(models.Document.number)).all() == ["R-2025-1"]  # inside the tax period
        assert session.scalars(select(models.StripeEvent.id)).all() == ["evt_new"]
        assert session.scalar(select(models.Outbox).where(models.Outbox.id == outbox[2].id)) is not None
        assert session.scalars(select(models.ZoomWebhookEvent.key)).all() == ["webinar.ended:new"]
        faculty = {m.name: (m.email, m.email_key, m.link_token_hash, [r.company for r in m.relationships])
                   for m in session.scalars(select(models.FacultyMember))}
        assert faculty == {"Old": (None, None, None, ["Acme"]),
                           "Recent": ("Recent@h.example", "recent@h.example", "R" * 64, ["Acme"])}
        assert session.scalar(select(func.count()).select_from(models.FinancialRelationship)) == 2  # Ancient's gone
    assert client.get(signed_up["old"]["manage_url"].removeprefix("http://registration.test")).status_code == 404
    assert client.get(signed_up["recent"]["manage_url"].removeprefix("http://registration.test")).status_code == 200
    assert set(run_purge(database, privacy.purge, periods=PERIODS).values()) == {0}


def test_notifications_keeps_only_the_fact_of_settled_messages_past_the_period(app_of: Any) -> None:
    from notifications import models
    from notifications.services import privacy

    app = app_of("notifications")
    database = app.extensions["suite_db"]

    def message(key: str, status: str, updated_days_ago: float) -> Any:
        return models.Message(idempotency_key=key, template="confirmation", recipient=f"{key}@hospital.example",
                              context={"given_name": "Zoë"}, status=status, message_id=f"<{key}@test>",
                              updated_at=ago(updated_days_ago))

    with database.session_scope() as session:
        session.add_all([message("sent-old", "sent", 100), message("failed-old", "failed", 100),
                         message("sent-new", "sent", 10), message("queued-old", "queued", 100)])
        add_guards(session, models)
    assert run_purge(database, privacy.purge, NOW, PERIODS) == {"messages_anonymised": 2,
                                                                 "seen_signatures_deleted": 1}
    with database.session_scope() as session:
        kept = {m.idempotency_key: (m.recipient, m.context) for m in session.scalars(select(models.Message))}
    assert kept == {"sent-old": (privacy.ERASED, {}), "failed-old": (privacy.ERASED, {}),
                    "sent-new": ("sent-new@hospital.example", {"given_name": "Zoë"}),
                    "queued-old": ("queued-old@hospital.example", {"given_name": "Zoë"})}
    assert set(run_purge(database, privacy.purge, NOW, PERIODS).values()) == {0}


def test_certificates_deletes_an_event_once_its_latest_record_is_past_the_accreditation_period(
        app_of: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from certificates import models
    from certificates.services import privacy

    monkeypatch.setenv("ACCREDITATION_RETENTION_YEARS", "6")
    app = app_of("certificates")
    database = app.extensions["suite_db"]

    def certificate(slug: str, registration_id: int, issued: dt.datetime) -> Any:
        return models.Certificate(
            organisation_id=1, event_slug=slug, registration_id=registration_id, email=f"p{registration_id}@h.example",
            participant="Zoë Ł", credits=Decimal("3"), code=f"CODE-{registration_id}", download_token=f"t{registration_id}",
            snapshot={}, explanation={}, issued_at=issued, updated_at=issued)

    with database.session_scope() as session:
        # "old-congress" ended seven years ago; "long-course" has an old certificate but a recent check-in.
        old = certificate("old-congress", 1, ago(7 * 366))
        session.add_all([old, certificate("long-course", 2, ago(7 * 366)),
                         models.CheckIn(organisation_id=1, event_slug="long-course", registration_id=3,
                                        email="p3@h.example", day=ago(30).date(), checked_in_at=ago(30))])
        session.flush()
        session.add_all([
            models.CertificateRevision(certificate_id=old.id, revision=1, participant="Zoë", credits=Decimal("3"),
                                       reason="issued", created_at=ago(7 * 366)),
            models.AttendanceInterval(organisation_id=1, event_slug="old-congress", registration_id=1,
                                      email="p1@h.example", starts_at=ago(7 * 366 + 1), ends_at=ago(7 * 366),
                                      source="check-in"),
            models.Evaluation(organisation_id=1, event_slug="old-congress", registration_id=1, answers={"a": 5},
                              recorded_by="attendee", completed_at=ago(7 * 366)),
            models.Claim(organisation_id=1, event_slug="old-congress", registration_id=1, system_code="NVVTG",
                         credits=Decimal("2"), attestation="I claim only...", claimed_at=ago(7 * 366)),
            models.PresenceConfirmation(organisation_id=1, event_slug="old-congress", registration_id=1,
                                        session_code="AM", check_key="code:1", source="code",
                                        confirmed_at=ago(7 * 366)),
            models.PresenceAttempt(organisation_id=1, event_slug="old-congress", registration_id=1,
                                   day=ago(7 * 366).date(), wrong=2),
            *[models.LearnerIdentifier(organisation_id=1, event_slug=slug, registration_id=number, email="p@h.example",
                                       system_code="CME", kind="gmc", value="1234567", consent_text="I agree",
                                       consent_version="v1", consented_at=ago(7 * 366))
              for slug, number in (("old-congress", 1), ("long-course", 2))],
            # A transcript link goes when it expires, whatever the events: it only opens the list it was mailed for.
            models.TranscriptLink(organisation_id=1, email_key="p1@h.example", token_hash="e" * 64,
                                  expires_at=ago(1)),
            models.TranscriptLink(organisation_id=1, email_key="p2@h.example", token_hash="f" * 64,
                                  expires_at=ago(-1))])
        add_guards(session, models)
    # Signing keys and status entries are not personal data and stay: a revoked credential must stay revoked
    # after its certificate is purged (tests/certificates/test_signed_credentials.py).
    assert run_purge(database, privacy.purge, NOW, PERIODS) == {
        "events_past_retention": 1, "event_records_deleted": 8, "outbox_rows_deleted": 0,
        "seen_signatures_deleted": 1, "rate_limit_counters_deleted": 1, "transcript_links_deleted": 1}
    with database.session_scope() as session:
        assert session.scalars(select(models.Certificate.event_slug)).all() == ["long-course"]
        for model in (models.AttendanceInterval, models.Evaluation, models.CertificateRevision, models.Claim,
                      models.PresenceConfirmation, models.PresenceAttempt):
            assert session.scalars(select(model)).all() == []
        assert session.scalars(select(models.CheckIn.event_slug)).all() == ["long-course"]
        assert session.scalars(select(models.LearnerIdentifier.event_slug)).all() == ["long-course"]
        assert session.scalars(select(models.TranscriptLink.email_key)).all() == ["p2@h.example"]
    assert set(run_purge(database, privacy.purge, NOW, PERIODS).values()) == {0}


def test_the_worker_purges_at_start_and_then_once_per_interval(app_of: Any,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PURGE_INTERVAL_HOURS", "24")
    app = app_of("notifications")
    runs: list[dt.datetime] = []

    def purge(_session: Any, now: dt.datetime, _periods: RetentionPeriods) -> dict[str, int]:
        runs.append(now)
        return {}

    daily = PeriodicPurge(app, app.extensions["suite_db"], purge)
    assert [daily.run_once() for _ in range(3)] == [0, 0, 0] and len(runs) == 1
    settings = app.extensions["suite_settings"]
    app.extensions["suite_settings"] = dataclasses.replace(
        settings, retention=dataclasses.replace(settings.retention, purge_interval=dt.timedelta(0)))
    always = PeriodicPurge(app, app.extensions["suite_db"], purge)
    always.run_once()
    always.run_once()
    assert len(runs) == 3
