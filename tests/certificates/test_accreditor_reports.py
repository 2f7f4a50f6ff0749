"""The three reports to accreditors against their documented columns, on an event with three credit systems
and learners with and without identifiers: the PARS .xlsx, the summary (JSON and PDF) and the learner CSV;
unknown systems, another organisation's event, and the audit of each download."""
from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from flask import Flask

from certificates.models import AuditEntry, Base, Certificate, Evaluation
from certificates.schemas.accreditation import AccreditationInput
from certificates.services import accreditation, accreditor_reports, identifiers, registry
from certificates.services.credits import Session as CreditSession
from suite_common.auth import Organisation
from tests.support.apps import make_settings
from tests.support.pdf import pdf_text

VIENNA = "Europe/Vienna"
START = dt.datetime(2027, 3, 10, 8, tzinfo=dt.UTC)  # every time below is computed from this one moment
END = START + dt.timedelta(hours=9)
EVENT = registry.EventInfo(slug="day", title="Imaging Day", kind="conference", starts_at=START, ends_at=END,
                           timezone=VIENNA, venue="Vienna", sessions=[
                               CreditSession("AM", "Cardiac CT", START, START + dt.timedelta(hours=3), Decimal(3))])
ANNA, BEN, CARL, DORA = 11, 12, 13, 14
PEOPLE = [registry.Person(ANNA, "anna@h.example", "Anna", "Adams", "confirmed", "T1", country="US",
                          profession="Radiologist"),
          registry.Person(BEN, "ben@h.example", "Ben", "=Brown", "confirmed", "T2", country="DE",
                          profession="Radiologist"),
          registry.Person(CARL, "carl@h.example", "Carl", "Clark", "confirmed", "T3", country="US",
                          profession="Radiographer"),
          registry.Person(DORA, "dora@h.example", "Dora", "Dunn", "confirmed", "T4")]
FACULTY = [{"name": "Dr. Speaker", "role": "speaker", "sessions": ["AM"], "status": "disclosed", "none": False,
            "disclosures": [{"company": "Acme Imaging", "relationship": "consultant", "ended": True,
                             "ended_on": "2026-12-31"}]},
           {"name": "Dr. Planner", "role": "planner", "sessions": [], "status": "none", "none": True,
            "disclosures": []}]
PARS_CONSENT = "I agree that my board ID and month and day of birth are reported to ACCME's PARS."
EFN_CONSENT = "Ich willige ein, dass meine EFN gemeldet wird."


@pytest.fixture
def app(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    import certificates

    made: Flask = certificates.create_app(make_settings("certificates", database_url, tmp_path))
    Base.metadata.create_all(made.extensions["suite_db"].engine)
    made.extensions["suite_token_resolver"] = {"sto_owner": Organisation(1, "owner", "Owner"),
                                               "sto_stranger": Organisation(2, "stranger", "Stranger")}.get
    described = {"slug": "day", "title": "Imaging Day", "kind": "conference", "starts_at": START.isoformat(),
                 "ends_at": END.isoformat(), "timezone": VIENNA, "venue": "Vienna", "organisation_id": 1,
                 "sessions": []}
    made.extensions["suite_event_lookup"] = lambda organisation_id, slug: (
        described if (organisation_id, slug) == (1, "day") else None)
    monkeypatch.setattr(registry, "attendees", lambda _organisation_id, _slug: (EVENT, iter(PEOPLE)))
    monkeypatch.setattr(registry, "event", lambda _organisation_id, _slug: EVENT)
    monkeypatch.setattr(registry, "faculty", lambda _organisation_id, _slug: FACULTY)
    with made.app_context(), made.extensions["suite_db"].session_scope() as session:
        accreditation.put(session, 1, "Org", "day", AccreditationInput().load({
            "signatory": "Dr. S", "evaluation_questions": [
                {"id": "overall", "text": "How was the day?", "kind": "rating"},
                {"id": "comments", "text": "Comments?", "kind": "text", "required": False}],
            "credit_systems": [
                {"code": "AMA", "name": "AMA PRA Category 1 Credits™", "body": "ACCME", "statement": "Designated.",
                 "credit_step": "0.25",
                 "identifiers": [{"kind": "abim_pars", "required": True, "consent_text": PARS_CONSENT}]},
                {"code": "LAEK", "name": "CME-Punkte", "body": "Ärztekammer", "statement": "Anerkannt.",
                 "credit_step": "1", "identifiers": [
                     {"kind": "efn", "required": True, "consent_text": EFN_CONSENT},
                     {"kind": "free_text", "label": "Kammer", "consent_text": "Kammer ok."}]},
                {"code": "ECMEC", "name": "ECMEC®s", "body": "EACCME®", "statement": "Accredited."}]}))
        credits = {ANNA: {"AMA": "3", "LAEK": "4", "ECMEC": "3"}, BEN: {"AMA": "1.5", "LAEK": "2", "ECMEC": "1.5"},
                   CARL: {"AMA": "3", "ECMEC": "3"}, DORA: {"ECMEC": "0.5"}}
        for person in PEOPLE:
            session.add(Certificate(organisation_id=1, event_slug="day", registration_id=person.id, email=person.email,
                                    participant=person.name, credits=Decimal(credits[person.id]["ECMEC"]),
                                    credits_by_system=credits[person.id], code=f"C-{person.id}",
                                    download_token=f"t{person.id}", snapshot={}, explanation={}))
        session.add(Evaluation(organisation_id=1, event_slug="day", registration_id=ANNA, recorded_by="attendee",
                               answers={"overall": "5", "comments": "More CT."}))
        form = {"ident-AMA-abim_pars": "123456", "ident-AMA-abim_pars-board": "ABIM",
                "ident-AMA-abim_pars-month": "3", "ident-AMA-abim_pars-day": "14", "ident-AMA-abim_pars-consent": "yes",
                "ident-LAEK-efn": "802760901234566", "ident-LAEK-efn-consent": "yes"}
        assert identifiers.submit(session, 1, "day", ANNA, "anna@h.example", form) == {}
        assert identifiers.submit(session, 1, "day", BEN, "ben@h.example", {
            "ident-LAEK-efn": "802760010000015", "ident-LAEK-efn-consent": "yes",
            "ident-LAEK-free_text": "=Nordrhein", "ident-LAEK-free_text-consent": "yes"}) == {}
    yield made
    made.extensions["suite_db"].engine.dispose()


def get(app: Flask, report: str, token: str = "sto_owner", **query: str) -> Any:
    return app.test_client().get(f"/api/v1/events/day/accreditor-reports/{report}", query_string=query,
                                 headers={"Authorization": f"Bearer {token}"})


def test_the_pars_upload_lists_reportable_learners_in_its_documented_columns(app: Flask) -> None:
    answer = get(app, "pars", system="AMA", activity_id="202712345")
    assert answer.status_code == 200
    assert answer.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert answer.headers["Content-Disposition"] == 'attachment; filename="day-AMA-pars-learners.xlsx"'
    book = openpyxl.load_workbook(io.BytesIO(answer.data))
    assert book.sheetnames == ["Learners", "Not reportable"]
    rows = list(book["Learners"].iter_rows(values_only=True))
    assert rows[0] == accreditor_reports.PARS_COLUMNS == (
        "Activity ID", "First Name", "Last Name", "Certifying Board", "Board ID", "DOB Month", "DOB Day",
        "Completion Date", "CME Credits")
    # Only Anna gave her board ID; the completion date is the event's last day in its own zone.
    assert rows[1:] == [("202712345", "Anna", "Adams", "ABIM", "123456", 3, 14, dt.datetime(2027, 3, 10), 3)]
    assert book["Learners"]["H2"].number_format == "mm/dd/yyyy"
    others = list(book["Not reportable"].iter_rows(values_only=True))
    assert others[0] == accreditor_reports.NOT_REPORTABLE_COLUMNS
    missing = "US certifying board ID with month and day of birth (ACCME PARS)"
    # Ben's family name starts with "=": written as text, never run as a formula. Dora has no AMA credits.
    assert others[1:] == [("Ben", "'=Brown", "ben@h.example", 1.5, missing),
                          ("Carl", "Clark", "carl@h.example", 3, missing)]


def test_the_learner_csv_has_every_identifier_of_the_system_and_the_credits(app: Flask) -> None:
    answer = get(app, "learners", system="LAEK")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(answer.get_data(as_text=True))))
    assert rows[0] == ["registration_id", "email", "given_name", "family_name", "country", "profession",
                       "certificate_code", "completion_date", "credits", "efn", "free_text", "efn_consented_at",
                       "free_text_consented_at", "reportable", "missing"]
    assert [row[:11] for row in rows[1:]] == [
        ["11", "anna@h.example", "Anna", "Adams", "US", "Radiologist", "C-11", "2027-03-10", "4", "802760901234566", ""],
        ["12", "ben@h.example", "Ben", "'=Brown", "DE", "Radiologist", "C-12", "2027-03-10", "2", "802760010000015",
         "'=Nordrhein"]]
    assert all(row[11] for row in rows[1:]) and rows[1][12] == "" and rows[2][12]  # consent times
    assert [row[13:] for row in rows[1:]] == [["True", ""], ["True", ""]]
    ama = list(csv.reader(io.StringIO(get(app, "learners", system="AMA").get_data(as_text=True))))
    assert ama[0][9:13] == ["abim_pars_board", "abim_pars_board_id", "abim_pars_birth_month", "abim_pars_birth_day"]
    assert [(row[0], row[9:13], row[-2], row[-1]) for row in ama[1:]] == [
        ("11", ["ABIM", "123456", "3", "14"], "True", ""),
        ("12", ["", "", "", ""], "False", "US certifying board ID with month and day of birth (ACCME PARS)"),
        ("13", ["", "", "", ""], "False", "US certifying board ID with month and day of birth (ACCME PARS)")]
    ecmec = list(csv.reader(io.StringIO(get(app, "learners", system="ECMEC").get_data(as_text=True))))
    assert ecmec[0][-3:] == ["credits", "reportable", "missing"]  # asks for no identifier: everyone reportable
    assert [(row[0], row[8], row[-2]) for row in ecmec[1:]] == [
        ("11", "3", "True"), ("12", "1.5", "True"), ("13", "3", "True"), ("14", "0.5", "True")]


def test_the_summary_as_json_and_pdf(app: Flask) -> None:
    answer = get(app, "summary", system="AMA")
    assert answer.status_code == 200
    found = answer.get_json()
    assert found["system"] == {"code": "AMA", "name": "AMA PRA Category 1 Credits™", "body": "ACCME"}
    people = found["participants"]
    assert (people["confirmed"], people["learners"], people["reportable"]) == (4, 3, 1)
    assert people["by_country"] == [{"value": "US", "participants": 2, "learners": 2},
                                    {"value": "DE", "participants": 1, "learners": 1},
                                    {"value": None, "participants": 1, "learners": 0}]
    assert people["by_profession"] == [{"value": "Radiologist", "participants": 2, "learners": 2},
                                       {"value": "Radiographer", "participants": 1, "learners": 1},
                                       {"value": None, "participants": 1, "learners": 0}]
    assert found["credits"] == {"total": "7.5", "mean": "2.5", "distribution": [
        {"credits": "1.5", "learners": 1}, {"credits": "3", "learners": 2}]}
    overall = found["evaluation"]["overall"]
    assert overall["responses"] == 1 and overall["questions"][0]["mean"] == "5.00"
    assert found["faculty"]["available"] is True
    assert found["faculty"]["items"][0] == {"name": "Dr. Speaker", "role": "speaker", "sessions": ["AM"],
                                            "none": False, "status": "disclosed", "disclosures": [
                                                {"company": "Acme Imaging", "relationship": "consultant",
                                                 "ended_on": "2026-12-31"}]}
    pdf = get(app, "summary", system="AMA", format="pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = pdf_text(pdf.data)
    for printed in ("Accreditor's report: Imaging Day", "Radiographer", "not given", "How was the day?",
                    "More CT.", "Acme Imaging: consultant (ended 2026-12-31)", "Dr. Planner", "None"):
        assert printed in text, printed
    by_accept = app.test_client().get("/api/v1/events/day/accreditor-reports/summary?system=AMA",
                                      headers={"Authorization": "Bearer sto_owner", "Accept": "application/pdf"})
    assert by_accept.mimetype == "application/pdf"


def test_unknown_systems_and_other_organisations_are_refused_and_downloads_are_audited(app: Flask) -> None:
    for report in ("pars", "summary", "learners"):
        unknown = get(app, report, system="NOPE")
        assert unknown.status_code == 422
        assert unknown.get_json()["error"]["fields"]["system"] == [
            "This event has no credit system NOPE; its systems: AMA, LAEK, ECMEC."]
        assert get(app, report).status_code == 422  # no system at all
        assert get(app, report, system="bad code!").status_code == 422
        assert get(app, report, token="sto_stranger", system="AMA").status_code == 404
        assert get(app, report, system="AMA").status_code == 200
    with app.app_context(), app.extensions["suite_db"].session_scope() as session:
        routes = [(entry.route, entry.status) for entry in session.query(AuditEntry).filter_by(organisation_id=1)]
    for report in ("pars", "summary", "learners"):
        assert (f"/api/v1/events/<slug:slug>/accreditor-reports/{report}", 200) in routes
