"""Zoom's poll report as presence evidence: the webinar and meeting layouts read by hand-checked lines and
times, broken files refused whole, and in a database each poll answered within a session's window
confirming that session once (a poll answered outside it confirming nothing), so a session whose presence
code was missed counts once the poll report is in; the same file twice changes nothing; the API's answers."""
from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
from collections.abc import Iterator
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from certificates.models import AttendanceReport, Base, PresenceConfirmation
from certificates.services import credit_systems, polls, presence, registry
from certificates.services.credits import Interval
from certificates.services.poll_reports import ZOOM_MEETING_POLL, ZOOM_WEBINAR_POLL, parse_poll_report
from certificates.services.reports import ReportError
from suite_common.auth import Organisation
from suite_common.db import make_engine
from suite_common.errors import ApiError
from tests.certificates.test_claims_and_presence import SESSIONS, at, system
from tests.support.apps import make_settings

FIXTURES = Path(__file__).parent / "fixtures"
VIENNA = "Europe/Vienna"
WEBINAR = (FIXTURES / "zoom_webinar_poll.csv").read_bytes()
MEETING = (FIXTURES / "zoom_meeting_poll.csv").read_bytes()
HANS, LUCJA, GIORGOS = 7, 8, 9
PEOPLE = [registry.Person(HANS, "hans.mueller@klinikum-nord.example", "Hans", "Müller", "confirmed", "T7"),
          registry.Person(LUCJA, "Lucja.Wisniewska@szpital.example", "Łucja", "Wiśniewska", "confirmed", "T8"),
          registry.Person(GIORGOS, "g.papadopoulos@iatriko.example.gr", "Γιώργος", "Παπαδόπουλος", "confirmed", "T9")]
EVENT = registry.EventInfo(slug="day", title="Imaging Day", kind="webinar", starts_at=at(8), ends_at=at(18),
                           timezone=VIENNA, venue=None, sessions=list(SESSIONS))


def utc(hour: int, minute: int, second: int = 0) -> dt.datetime:
    return dt.datetime(2027, 3, 10, hour, minute, second, tzinfo=dt.UTC)


# --- Reading ---------------------------------------------------------------------------------------------

def test_the_webinar_poll_report_per_poll_section() -> None:
    report = parse_poll_report(WEBINAR, VIENNA)
    assert report.format == ZOOM_WEBINAR_POLL
    assert report.metadata["webinar_id"] == "812 3456 7890"
    # 10:31:07 AM in Vienna in winter (UTC+1) is 09:31:07 UTC; the poll is named by the line above its table.
    assert [(a.line, a.email, a.poll, a.submitted) for a in report.answers] == [
        (7, "hans.mueller@klinikum-nord.example", "Presence check morning", utc(9, 31, 7)),
        (8, "lucja.wisniewska@szpital.example", "Presence check morning", utc(9, 32, 40)),
        (10, "guest@elsewhere.example", "Presence check morning", utc(9, 33, 15)),
        (13, "hans.mueller@klinikum-nord.example", "Presence check afternoon", utc(14, 20)),
        (14, "lucja.wisniewska@szpital.example", "Presence check afternoon", utc(16, 4))]
    assert report.skipped == [(9, "no email (Anonymous Attendee: an anonymous poll or a guest)"), (15, "no answer")]


def test_the_meeting_poll_report_of_question_answer_pairs() -> None:
    report = parse_poll_report(MEETING, VIENNA)
    assert report.format == ZOOM_MEETING_POLL
    assert [(a.line, a.name, a.poll, a.submitted) for a in report.answers] == [
        (2, "Hans Müller", "Which modality did the case use?", utc(8, 40, 2)),
        (3, "Łucja Wiśniewska", "Which modality did the case use?", utc(10, 58, 30)),
        (4, "Hans Müller", "Are you still with us?", utc(13, 5, 10))]
    assert report.skipped == [(5, "no email (Anonymous Attendee: an anonymous poll or a guest)")]


def test_utf16_tabs_and_a_workbook_read_alike() -> None:
    rows = list(csv.reader(io.StringIO(WEBINAR.decode("utf-8"))))
    tabbed = "\r\n".join("\t".join(row) for row in rows)
    expected = parse_poll_report(WEBINAR, VIENNA).answers
    assert parse_poll_report(codecs.BOM_UTF16_LE + tabbed.encode("utf-16-le"), VIENNA).answers == expected
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row or [None])
    saved = io.BytesIO()
    book.save(saved)
    assert [(a.email, a.submitted) for a in parse_poll_report(saved.getvalue(), VIENNA).answers] == [
        (a.email, a.submitted) for a in expected]


def test_one_row_per_participant_and_poll_with_a_poll_name_column() -> None:
    data = (b"#,User Name,Email Address,Submitted Date/Time,Poll Name,Question,Answer\n"
            b"1,Hans,hans@x.example,2027-03-10 10:00:00,Check 1,Here?,Yes\n"
            b"2,Ann,ann@x.example,2027-03-10 10:01:00,Check 1,Here?,\n")
    report = parse_poll_report(data, VIENNA)
    assert [(a.poll, a.submitted) for a in report.answers] == [("Check 1", utc(9, 0))]
    assert report.skipped == [(3, "no answer")]


@pytest.mark.parametrize(("data", "problem"), [
    (b"", "line 1: the file is empty"),
    ((FIXTURES / "zoom_webinar_attendee.csv").read_bytes(), "no header row with 'Submitted Date/Time'"),
    (b"#,User Name,Submitted Date/Time,\n1,Hans,Mar 10, 2027 09:40:02,Q,A\n", "no email column"),
    (b"#,User Name,User Email,Submitted Date/Time,\n1,Hans,h@x.example,yesterday,Q,A\n",
     "line 2: Submitted Date/Time 'yesterday' is not a date"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "Excel 97-2003"),
])
def test_a_file_that_is_not_a_readable_poll_report_is_refused_whole(data: bytes, problem: str) -> None:
    with pytest.raises(ReportError) as caught:
        parse_poll_report(data, VIENNA)
    assert problem in str(caught.value)


# --- The rule, against a database ------------------------------------------------------------------------

@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Session]:
    engine = make_engine(f"sqlite:///{tmp_path / 'certificates.db'}")
    Base.metadata.create_all(engine)
    monkeypatch.setattr(registry, "event", lambda _organisation_id, _slug: EVENT)
    monkeypatch.setattr(registry, "attendees", lambda _organisation_id, _slug: (EVENT, iter(PEOPLE)))
    with Session(engine) as session:
        yield session
    engine.dispose()


def confirmations(db: Session) -> list[tuple[int, str, str]]:
    return sorted(tuple(row) for row in db.execute(select(PresenceConfirmation.registration_id, PresenceConfirmation.session_code,
                                    PresenceConfirmation.check_key)).all())


def test_a_poll_answered_in_a_sessions_window_counts_for_it_once(db: Session) -> None:
    nvvtg = system("NVVTG", presence_codes_required=1)
    presence.create_code(db, 1, "day", {"session": "AM", "code": "HEART1"})  # announced; nobody entered it

    def credits(registration_id: int) -> D:
        counted = presence.counts(db, 1, "day", [registration_id])
        sessions = [s.__class__(**{**s.__dict__, "presence_codes": counted.checks.get(s.code, 0)}) for s in SESSIONS]
        attended = [Interval(at(9), at(12), "report", None), Interval(at(14), at(17), "report", None)]
        assessed = credit_systems.assess([nvvtg], VIENNA, sessions, {}, attended, True,
                                         counted.confirmed.get(registration_id, {}), None)
        return assessed.systems[0].result.total

    assert credits(HANS) == D(3)  # PM has no check at all yet (outside the rule); AM's code was missed
    outcome = polls.upload_poll_report(db, 1, "day", WEBINAR, "poll.csv", None, None)
    report = outcome.report
    assert outcome.created
    assert (report.format, report.rows_read, report.matched) == (ZOOM_WEBINAR_POLL, 5, 3)
    assert [r["email"] for r in report.unmatched_rows] == ["guest@elsewhere.example"]
    assert [r["line"] for r in report.skipped_rows] == [9, 14, 15]
    assert report.skipped_rows[1]["reason"] == "submitted at 2027-03-10T16:04:00+00:00, outside every session's window"
    assert report.report_metadata["polls"] == [
        {"session": "AM", "poll": "Presence check morning", "answers": 2},
        {"session": "PM", "poll": "Presence check afternoon", "answers": 1}]
    assert confirmations(db) == [(HANS, "AM", "poll:AM:Presence check morning"),
                                 (HANS, "PM", "poll:PM:Presence check afternoon"),
                                 (LUCJA, "AM", "poll:AM:Presence check morning")]
    assert presence.counts(db, 1, "day", []).checks == {"AM": 2, "PM": 1}  # a code and a poll; a poll
    assert credits(HANS) == D(6)  # AM counts now: 1 of its 2 checks, 1 required; PM by its poll
    assert credits(LUCJA) == D(3)  # her afternoon answer came after PM ended: PM is missing its check

    again = polls.upload_poll_report(db, 1, "day", WEBINAR, "poll (1).csv", None, None)
    assert not again.created and again.report.id == report.id
    assert len(confirmations(db)) == 3 and db.query(AttendanceReport).count() == 1
    # The meeting layout's polls count alike; Hans's PM poll of another name is a second check of PM.
    polls.upload_poll_report(db, 1, "day", MEETING, "meeting.csv", None, None)
    assert presence.counts(db, 1, "day", []).checks == {"AM": 3, "PM": 2}


def test_parallel_sessions_are_told_apart_by_the_upload(db: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    parallel = SESSIONS[0].__class__("AM2", "Parallel track", at(9), at(12), D(3))
    event = registry.EventInfo(**{**EVENT.__dict__, "sessions": [*SESSIONS, parallel]})
    monkeypatch.setattr(registry, "attendees", lambda _organisation_id, _slug: (event, iter(PEOPLE)))
    first = polls.upload_poll_report(db, 1, "day", WEBINAR, None, None, None).report
    assert first.skipped_rows[0]["reason"].endswith("within the windows of AM and AM2: upload again with the "
                                                    "session the poll ran in")
    chosen = polls.upload_poll_report(db, 1, "day", WEBINAR, None, None, "AM2")
    assert chosen.created and chosen.report.matched == 2  # the afternoon answers lie outside AM2
    assert {(r, s) for r, s, _key in confirmations(db)} == {(HANS, "AM2"), (LUCJA, "AM2"), (HANS, "PM")}
    with pytest.raises(ApiError, match="Some fields"):
        polls.upload_poll_report(db, 1, "day", WEBINAR, None, None, "XX")


def test_a_long_poll_name_keeps_its_key_within_the_column() -> None:
    long, longer = "Q" * 100, "Q" * 100 + "!"
    assert len(polls.check_key("D1-AM", long)) == 80 and polls.check_key("D1-AM", long) != polls.check_key(
        "D1-AM", longer)


# --- The API ---------------------------------------------------------------------------------------------

@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    import certificates

    app: Flask = certificates.create_app(make_settings("certificates", f"sqlite:///{tmp_path / 'c.db'}", tmp_path))
    Base.metadata.create_all(app.extensions["suite_db"].engine)
    app.extensions["suite_token_resolver"] = {"sto_owner": Organisation(1, "owner", "Owner"),
                                              "sto_stranger": Organisation(2, "stranger", "Stranger")}.get
    described = {"slug": "day", "title": "Imaging Day", "kind": "webinar", "starts_at": at(8).isoformat(),
                 "ends_at": at(18).isoformat(), "timezone": VIENNA, "venue": None, "organisation_id": 1, "sessions": []}
    app.extensions["suite_event_lookup"] = lambda organisation_id, slug: (
        described if (organisation_id, slug) == (1, "day") else None)
    monkeypatch.setattr(registry, "attendees", lambda _organisation_id, _slug: (EVENT, iter(PEOPLE)))
    yield app.test_client()
    app.extensions["suite_db"].engine.dispose()


def upload(client: Any, data: bytes, token: str = "sto_owner", **form: str) -> Any:
    return client.post("/api/v1/events/day/poll-reports", headers={"Authorization": f"Bearer {token}"},
                       data={"file": (io.BytesIO(data), "poll.csv"), **form}, content_type="multipart/form-data")


def test_the_poll_report_endpoint(client: Any) -> None:
    created = upload(client, WEBINAR)
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert (body["format"], body["rows_read"], body["matched"], body["unmatched"], body["repeated"]) == (
        ZOOM_WEBINAR_POLL, 5, 3, 1, False)
    assert [r["line"] for r in body["skipped_rows"]] == [9, 14, 15]
    repeated = upload(client, WEBINAR)
    assert repeated.status_code == 200 and repeated.get_json()["repeated"] is True
    assert repeated.get_json()["id"] == body["id"]
    listed = client.get("/api/v1/events/day/attendance-reports", headers={"Authorization": "Bearer sto_owner"})
    assert [r["format"] for r in listed.get_json()["items"]] == [ZOOM_WEBINAR_POLL]

    bad = upload(client, b"#,User Name,User Email,Submitted Date/Time,\n1,H,h@x.example,soon,Q,A\n")
    assert bad.status_code == 422
    assert bad.get_json()["error"]["fields"]["file"] == ["line 2: Submitted Date/Time 'soon' is not a date"]
    assert upload(client, WEBINAR, session="XX").status_code == 422
    assert upload(client, WEBINAR, timezone="Mars/Olympus").status_code == 422
    assert upload(client, WEBINAR, token="sto_stranger").status_code == 404
    match = client.post("/api/v1/events/day/attendance-matches", headers={"Authorization": "Bearer sto_owner"},
                        json={"report_id": body["id"], "line": 10, "registration_id": GIORGOS})
    assert match.status_code == 422  # a poll answer is not matched by hand (yet)
