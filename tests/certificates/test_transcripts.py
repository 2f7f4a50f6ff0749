"""The learner's transcript: asked for by email on a public page (the same answer for any address),
mailed as a link that lists only that person's certificates at that organisation, with totals per
credit system and calendar year in which revoked certificates count for nothing, and as a PDF."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.support.pdf import pdf_text

ONE_MOMENT = dt.datetime.now(dt.UTC).replace(microsecond=0)


def _system(code: str, name: str, body: str, credits: str) -> dict[str, Any]:
    return {"code": code, "name": name, "body": body, "statement": "", "credits": credits, "sessions": []}


ECMEC, NVVTG = ("ECMEC", "European CME credits", "EACCME"), ("NVVTG", "NVvTG points", "NVvTG")
# (organisation, event slug, title, first day, email as stored, systems, revoked)
CERTIFICATES = [
    (1, "congress-2026", "Imaging Congress 2026", "2026-03-01", "Zoe@H.example",
     [_system(*ECMEC, "6"), _system(*NVVTG, "4")], False),
    (1, "webinar-2027", "AI in chest CT", "2027-02-10", "zoe@h.example", [_system(*ECMEC, "1.5")], False),
    (1, "course-2027", "Cardiac MR course", "2027-05-01", "zoe@h.example", [_system(*ECMEC, "3")], True),
    (1, "congress-2026", "Imaging Congress 2026", "2026-03-01", "max@h.example", [_system(*ECMEC, "2")], False),
    (2, "elsewhere-2027", "Another society's day", "2027-06-01", "zoe@h.example", [_system(*ECMEC, "10")], False),
]


@pytest.fixture
def issued(certificates_app: Flask) -> None:
    from certificates.models import Certificate

    with certificates_app.app_context(), certificates_app.extensions["suite_db"].session_scope() as session:
        for n, (organisation_id, slug, title, first_day, email, systems, revoked) in enumerate(CERTIFICATES, 1):
            session.add(Certificate(
                organisation_id=organisation_id, event_slug=slug, registration_id=n, email=email,
                participant="Max Mustermann" if email.startswith("max") else "Zoë Łukasiewicz",
                credits=Decimal(systems[0]["credits"]), credits_by_system={s["code"]: s["credits"] for s in systems},
                code=f"CODE-{n:04d}", download_token=f"download-token-{n}", revision=1,
                snapshot={"event_title": title, "event_dates": first_day, "organisation_name": f"Society {organisation_id}",
                          "systems": systems, "issued_on": first_day, "event_starts_at": f"{first_day}T08:00:00+00:00"},
                explanation={}, issued_at=ONE_MOMENT - dt.timedelta(days=400 - n), updated_at=ONE_MOMENT,
                revoked_at=ONE_MOMENT if revoked else None, revoked_reason="Attendance not confirmed" if revoked else None))


def _mails(app: Flask) -> list[dict[str, Any]]:
    from certificates.models import Outbox

    with app.extensions["suite_db"].session_scope() as session:
        return [row.body for row in session.scalars(select(Outbox).order_by(Outbox.id))
                if row.body and row.body.get("template") == "transcript_link"]


def _ask(client: FlaskClient, organisation_id: int, email: str) -> str:
    answer = client.post(f"/o/{organisation_id}/transcript", data={"email": email})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_data(as_text=True)


def _path(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def _link(app: Flask, client: FlaskClient, organisation_id: int, email: str) -> str:
    before = len(_mails(app))
    _ask(client, organisation_id, email)
    mails = _mails(app)
    assert len(mails) == before + 1
    return _path(mails[-1]["context"]["transcript"]["url"])


def _text(response: Any) -> str:
    return " ".join(response.get_data(as_text=True).split())


@pytest.mark.usefixtures("issued")
def test_the_answer_reveals_nothing_and_only_a_known_address_gets_one_mail(certificates_app: Flask) -> None:
    client = certificates_app.test_client()
    form = client.get("/o/1/transcript")
    assert form.status_code == 200 and 'name="email"' in form.get_data(as_text=True)
    known = _ask(client, 1, "ZOE@h.example")
    unknown = _ask(client, 1, "nobody@h.example")
    assert known == unknown and "Check your mail" in known
    mails = _mails(certificates_app)
    assert [(m["to"], m["organisation_id"], m["language"]) for m in mails] == [("ZOE@h.example", 1, "en")]
    assert mails[0]["context"]["transcript"]["url"].startswith("http")
    assert _ask(client, 1, "zoe@h.example") == known  # asked again at once: the same answer, no second mail
    assert len(_mails(certificates_app)) == 1
    refused = client.post("/o/1/transcript", data={"email": "not an address"})
    assert refused.status_code == 422 and 'id="email-error"' in refused.get_data(as_text=True)


@pytest.mark.usefixtures("issued")
def test_the_link_lists_only_its_owners_certificates_at_its_organisation_with_totals(certificates_app: Flask) -> None:
    client = certificates_app.test_client()
    zoe = _link(certificates_app, client, 1, "zoe@h.example")
    page = client.get(zoe)
    assert page.status_code == 200 and "no-store" in page.headers["Cache-Control"]
    text = _text(page)
    for title in ("Imaging Congress 2026", "AI in chest CT", "Cardiac MR course"):
        assert title in text
    assert "Another society" not in text and "CODE-0004" not in text and "Max" not in text
    assert "Revoked: not valid and not counted." in text and "download-token-3" not in text
    assert "download-token-1" in text and "download-token-2" in text
    # ECMEC: 6 (2026) + 1.5 (2027), the revoked 3 not counted; NVvTG: 4 (2026)
    assert ("<th scope=\"row\">European CME credits (EACCME)</th><td>7.5</td><td>1.5</td><td>6</td>" in text)
    assert "<th scope=\"row\">NVvTG points (NVvTG)</th><td>4</td><td>–</td><td>4</td>" in text
    assert client.get(zoe.replace("/o/1/", "/o/2/")).status_code == 404  # another organisation's address
    assert client.get(zoe[:-2] + "xx").status_code == 404

    max_link = _link(certificates_app, client, 1, "max@h.example")
    theirs = _text(client.get(max_link))
    assert "CODE-0004" in theirs and "AI in chest CT" not in theirs and "Zoë" not in theirs
    elsewhere = _text(client.get(_link(certificates_app, client, 2, "zoe@h.example")))
    assert "Another society" in elsewhere and "Imaging Congress" not in elsewhere


@pytest.mark.usefixtures("issued")
def test_the_pdf_has_the_totals_and_marks_the_revoked_certificate(certificates_app: Flask) -> None:
    client = certificates_app.test_client()
    zoe = _link(certificates_app, client, 1, "zoe@h.example")
    pdf = client.get(zoe + "/transcript.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert "no-store" in pdf.headers["Cache-Control"]
    text = " ".join(pdf_text(pdf.data).split())
    assert "Transcript of certificates" in text and "Zoë Łukasiewicz" in text
    assert "European CME credits (EACCME) 7.5 1.5 6" in text
    assert "NVvTG points (NVvTG) 4 – 4" in text
    assert "CODE-0003 (revoked, not counted)" in text
    assert "CODE-0004" not in text and "Another society" not in text


@pytest.mark.usefixtures("issued")
def test_an_expired_link_and_an_erased_person_open_nothing(certificates_app: Flask) -> None:
    from certificates.models import TranscriptLink
    from certificates.services import privacy

    client = certificates_app.test_client()
    zoe = _link(certificates_app, client, 1, "zoe@h.example")
    database = certificates_app.extensions["suite_db"]
    with certificates_app.app_context(), database.session_scope() as session:
        assert len(privacy.export(session, 1, "Zoe@h.example")["transcript_links"]) == 1
        for link in session.scalars(select(TranscriptLink)):
            link.expires_at = ONE_MOMENT - dt.timedelta(seconds=1)
    assert client.get(zoe).status_code == 404
    with certificates_app.app_context(), database.session_scope() as session:
        erased, _kept = privacy.erase(session, 1, "zoe@h.example")
        assert erased["transcript_links_erased"] == 1
        assert privacy.export(session, 1, "zoe@h.example")["transcript_links"] == []
