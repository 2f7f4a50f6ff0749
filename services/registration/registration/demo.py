"""Demo data for ``make run``: the ``demo`` organisation, its owner in the console, one conference, one webinar."""
from __future__ import annotations

import datetime as dt
import io
import os
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import current_app
from PIL import Image, ImageDraw
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from suite_common.settings import ZOOM_API_BASE, Settings

from .models import Event, Organisation, Outbox, Registration, Role
from .services import accounts, branding, events, faculty, members, organisations, pricing, signup, urls
from .services.zoom import connection as zoom_connection
from .services.zoom.client import MemoryTokenStore, ZoomClient, ZoomCredentials

CONFERENCE = "demo-congress"
WEBINAR = "demo-webinar"
# The demo organisation's owner in the console; ``make run`` prints a sign-in link for them.
OWNER_EMAIL = "organiser@demo.example"
OWNER_NAME = "Demo Organiser"
# A confirmed participant of the congress whose page (certificates' participant page) ``make run``
# prints, to take through presence codes, the evaluation, a claim and the certificate; certificates'
# seed-demo gives them attendance.
PARTICIPANT_EMAIL = "participant@demo.example"


def _at(days: int, hour: int, minute: int, timezone: str) -> dt.datetime:
    day = dt.date.today() + dt.timedelta(days=days)
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(timezone))


def _seed_events(session: Session, organisation_id: int) -> None:
    tz = "Europe/Vienna"
    congress = events.create_event(session, organisation_id, {
        "slug": CONFERENCE, "title": "Demo Congress of Imaging Informatics", "kind": "conference",
        "starts_at": _at(60, 9, 0, tz), "ends_at": _at(61, 17, 30, tz), "timezone": tz, "capacity": 400,
        "currency": "EUR", "venue": "Austria Center Vienna, Vienna, Austria",
        "description": "Two days of AI in radiology, PACS interoperability and quantitative imaging.",
        "vat_rate": Decimal("20"), "prices_include_vat": True, "allows_invoice": True,
        "refund_full_until": _at(30, 0, 0, tz), "refund_partial_until": _at(46, 0, 0, tz),
        "refund_partial_percent": 50, "cancellation_fee": 2500,
    })
    # Two credit systems (README, "Certificates"): European CME credits and the Dutch register of
    # technical physicians' points (NVvTG), which do not accredit the pathology afternoon.
    for code, title, day, start, end, ecmec, nvvtg in (
        ("D1-AM", "Foundation models in radiology", 60, (9, 0), (12, 30), "3", "3"),
        ("D1-PM", "DICOMweb and FHIR imaging workflows", 60, (14, 0), (17, 30), "3", "3"),
        ("D2-AM", "Quantitative imaging biomarkers", 61, (9, 0), (12, 30), "3", "3"),
        ("D2-PM", "Digital pathology meets radiology", 61, (14, 0), (17, 30), "3", None),
    ):
        credits = {"ECMEC": Decimal(ecmec), **({"NVVTG": Decimal(nvvtg)} if nvvtg else {})}
        events.add_session(session, congress, {
            "code": code, "title": title, "starts_at": _at(day, *start, tz), "ends_at": _at(day, *end, tz),
            "credits": credits,
        })
    for code, name, amount, category, valid_until in (
        ("member-early", "Member, early bird", 39000, "member", _at(30, 0, 0, tz)),
        ("member", "Member", 45000, "member", None),
        ("non-member", "Non-member", 60000, "non_member", None),
        ("invited", "Invited faculty", 0, "other", None),
    ):
        events.add_rate(session, congress, {"code": code, "name": name, "amount": amount, "currency": "EUR",
                                            "category": category, "valid_until": valid_until})
    pricing.add_code(session, congress, {"code": "DEMO10", "percent_off": 10, "max_uses": 100})
    # Member rates are for listed members: DEMO-0001 ... DEMO-0050 are on the demo list.
    members.replace_members(session, organisation_id, [
        members.MemberRow(line=n + 1, email=None, member_number=f"DEMO-{n:04d}", name=None) for n in range(1, 51)])
    organisation = session.get(Organisation, organisation_id)
    organisation.legal_name = "Demo Society of Imaging Informatics"
    organisation.address = "Am Gestade 1\n1010 Wien\nAustria"
    organisation.vat_number = "ATU00000000"
    organisation.bank_details = "Demo Society, Demo Bank\nIBAN AT00 0000 0000 0000 0000, BIC DEMOATWW"
    branding.update(session, organisation_id, {
        "display_name": "Demo Society of Imaging Informatics", "primary_colour": "#1d5c4f",
        "footer_text": "Demo Society of Imaging Informatics · Am Gestade 1, 1010 Wien, Austria · ZVR 000000000",
        "privacy_url": "https://demo.example/privacy", "reply_to": "congress@demo.example"})
    branding.set_logo(session, organisation_id, demo_logo())
    _seed_webinar(session, organisation_id)


# The demo webinar took place on a fixed date, so the shipped Zoom report
# (demo/zoom-demo-webinar-attendees.csv) matches its attendees and times.
WEBINAR_START = dt.datetime(2026, 11, 12, 18, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))
WEBINAR_ATTENDEES = (
    ("zoe.lukasiewicz@szpital.example", "Zoë", "Łukasiewicz"),
    ("g.papadopoulos@iatriko.example.gr", "Γιώργος", "Παπαδόπουλος"),
    ("wang.xiaoming@hospital.example.cn", "小明", "王"),
    ("ana.nunez@hospital-clinico.example", "Ana", "Núñez"),
    ("soren.ostergaard@rigshospitalet.example", "Søren", "Østergaard"),
    ("aiko.yamada@hospital.example.jp", "Aiko", "Yamada"),
)


def demo_logo() -> bytes:
    """The demo society's logo, drawn here (a small PNG; demo/logo.png is the same picture for the README's
    upload example)."""
    image = Image.new("RGB", (240, 80), "#1d5c4f")
    draw = ImageDraw.Draw(image)
    draw.ellipse((12, 12, 68, 68), outline="#ffffff", width=6)
    draw.line((40, 20, 40, 60), fill="#ffffff", width=6)
    draw.line((20, 40, 60, 40), fill="#ffffff", width=6)
    draw.rectangle((84, 28, 228, 36), fill="#ffffff")
    draw.rectangle((84, 46, 190, 54), fill="#ffffff")
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def _seed_webinar(session: Session, organisation_id: int) -> None:
    start = WEBINAR_START
    webinar = events.create_event(session, organisation_id, {
        "slug": WEBINAR, "title": "Webinar: Lesion tracking with AI in oncologic CT", "kind": "webinar",
        "starts_at": start, "ends_at": start + dt.timedelta(minutes=90), "timezone": "Europe/Amsterdam",
        "capacity": 100, "currency": "EUR", "join_url": "https://zoom.us/j/84512345678",
        "registration_opens_at": start - dt.timedelta(days=30), "registration_closes_at": start,
    })
    events.add_session(session, webinar, {
        "code": "LIVE", "title": "Live webinar", "starts_at": webinar.starts_at, "ends_at": webinar.ends_at,
        "credits": Decimal("1.5"),
    })
    events.add_rate(session, webinar, {"code": "free", "name": "Free registration", "amount": 0,
                                       "currency": "EUR", "category": "other"})
    for email, given, family in WEBINAR_ATTENDEES:
        signup.sign_up(session, webinar, {"email": email, "given_name": given, "family_name": family,
                                          "rate": "free", "consent": True}, now=start - dt.timedelta(days=10))
    # These people signed up before the demo existed: nobody is to be mailed about it now.
    session.execute(delete(Outbox))


# The demo webinar whose registrants, personal links and attendance go through the local Zoom stand-in
# (devtools/zoom_standin.py, whose default account these credentials are; README, "Zoom attendance").
ZOOM_WEBINAR = "demo-zoom-webinar"
STANDIN_ACCOUNT = ("standin-account", "standin-client-id", "standin-client-secret", "standin-webhook-secret-token")


def _seed_zoom_webinar(session: Session, organisation_id: int, settings: Settings) -> None:
    """A webinar a week ahead, open for sign-up, linked to a webinar created on the Zoom stand-in through the
    same client registration uses, with the demo organisation connected to the stand-in's account. Only
    when ZOOM_API_BASE points away from Zoom: the demo never creates anything at the real Zoom."""
    if settings.zoom.api_base == ZOOM_API_BASE or session.scalar(
            select(Event.id).where(Event.slug == ZOOM_WEBINAR)) is not None:
        return
    tz = "Europe/Amsterdam"
    start = _at(7, 18, 0, tz)
    webinar = events.create_event(session, organisation_id, {
        "slug": ZOOM_WEBINAR, "title": "Webinar: Structured reporting with AI assistants", "kind": "webinar",
        "starts_at": start, "ends_at": start + dt.timedelta(minutes=60), "timezone": tz, "capacity": 500,
        "currency": "EUR", "description": "One hour on structured radiology reports drafted with AI assistants.",
    })
    events.add_session(session, webinar, {"code": "LIVE", "title": "Live webinar", "starts_at": webinar.starts_at,
                                          "ends_at": webinar.ends_at, "credits": Decimal("1")})
    events.add_rate(session, webinar, {"code": "free", "name": "Free registration", "amount": 0,
                                       "currency": "EUR", "category": "other"})
    account_id, client_id, client_secret, webhook_secret_token = STANDIN_ACCOUNT
    if zoom_connection.get_connection(session, organisation_id) is None:
        zoom_connection.set_connection(session, organisation_id, zoom_connection.secret_box(settings), account_id,
                                       client_id, client_secret, webhook_secret_token)
    client = ZoomClient(ZoomCredentials(account_id, client_id, client_secret), MemoryTokenStore(), settings.zoom)
    webinar.zoom_webinar_id = client.create_webinar(webinar.title, start, 60, tz)
    session.flush()


def _seed_participant(session: Session) -> Registration:
    """The congress's demo participant, signed up once at the free invited rate (so confirmed)."""
    congress = session.scalar(select(Event).where(Event.slug == CONFERENCE))
    found = session.scalar(select(Registration).where(Registration.event_id == congress.id,
                                                      Registration.email == PARTICIPANT_EMAIL))
    if found is None:
        found = signup.sign_up(session, congress, {"email": PARTICIPANT_EMAIL, "given_name": "Dana",
                                                   "family_name": "Demo", "rate": "invited",
                                                   "consent": True}).registration
    return found


def participant_link(session: Session) -> str:
    """The demo participant's page at certificates."""
    return urls.participant_url(_seed_participant(session))


# The congress's faculty and their disclosures (README, "Faculty and disclosures"): one with relationships
# and a mitigation note, one with none, and a speaker whose statement is still to come through their link.
DEMO_FACULTY = (
    {"name": "Prof. Dr. Lena Hoffmann", "role": "planner", "none": True},
    {"name": "Dr. Marco Rossi", "role": "speaker", "email": "marco.rossi@demo.example", "sessions": ["D1-AM"],
     "disclosures": [{"company": "Siemens Healthineers", "relationship": "Consultant"},
                     {"company": "Bayer", "relationship": "Speakers' bureau"}],
     "mitigation": "Slides peer-reviewed by the planning committee for balance."},
    {"name": "Dr. Sofia Lindqvist", "role": "speaker", "email": "sofia.lindqvist@demo.example",
     "sessions": ["D1-PM", "D2-AM"]},
)


def _seed_faculty(session: Session) -> None:
    congress = session.scalar(select(Event).where(Event.slug == CONFERENCE))
    if congress is None or faculty.list_faculty(session, congress):
        return
    for person in DEMO_FACULTY:
        faculty.add_faculty(session, congress, person, dt.datetime.now(dt.UTC))


def seed(session: Session, token_file: Path) -> str:
    """Idempotent: a second run keeps the data and the token of the first."""
    organisation = organisations.get_or_create_organisation(session, "demo", "Demo Society of Imaging Informatics")
    if session.scalar(select(Event.id).where(Event.slug == CONFERENCE)) is None:
        _seed_events(session, organisation.id)
    _seed_participant(session)
    _seed_faculty(session)
    _seed_zoom_webinar(session, organisation.id, current_app.extensions["suite_settings"])
    if accounts.find_account(session, organisation.id, OWNER_EMAIL) is None:
        accounts.add_account(session, organisation.id, OWNER_EMAIL, OWNER_NAME, Role.OWNER)
    if token_file.exists():
        token = token_file.read_text().strip()
        if organisations.resolve_token(session, token) is not None:
            return token
    token = organisations.create_token(session, organisation, "make run demo")
    token_file.parent.mkdir(parents=True, exist_ok=True)
    token_file.write_text(token + "\n")
    os.chmod(token_file, 0o600)
    return token
