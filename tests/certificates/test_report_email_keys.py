"""Attendance report rows are matched to registrations by the same email key as everywhere else:
an address typed in fullwidth letters or capitals in Zoom is the registrant's (issue 10)."""
from __future__ import annotations

from pathlib import Path

from certificates.services.registry import _person
from certificates.services.reports import parse_report

FIXTURE = Path(__file__).parent / "fixtures" / "zoom_meeting_participants.csv"


def test_report_rows_and_registrants_meet_on_the_email_key() -> None:
    text = FIXTURE.read_text(encoding="utf-8")
    assert "host@imaging-society.example" in text
    report = parse_report(text.replace("host@imaging-society.example", "ＨＯＳＴ@Imaging-Society.example")
                          .encode(), "Europe/Vienna")
    person = _person({"id": 1, "email": "Host@imaging-society.EXAMPLE", "given_name": "Tumour", "family_name": "Host",
                      "status": "confirmed", "ticket_code": "T1"})
    assert person.email_key == "host@imaging-society.example"
    assert person.email_key in {row.email for row in report.rows}
    # Mail still goes to the address as the person gave it: a key may differ from the mailbox (ß, ss).
    assert person.email == "Host@imaging-society.EXAMPLE"
    assert _person({**vars(person), "email": "straße@klinik.example"}).email == "straße@klinik.example"
