"""What the sender builds: a mail that standard parsers read back intact, in the organiser's wording."""
from __future__ import annotations

import base64
import io
import re
from dataclasses import replace
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

from flask import Flask
from PIL import Image

from notifications.models import Message, TemplateOverride
from notifications.services.messages import wording_key, wordings_for
from notifications.services.rendering import file_wording
from notifications.services.sender import build_email, wire_bytes
from suite_common.branding import Branding, Logo
from suite_common.settings import SmtpSettings
from tests.notifications.test_messages_api import CONTEXT

ICS = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"


def _message(**fields: object) -> Message:
    values = {"template": "registration_confirmed", "recipient": "zoe@hospital.example", "organisation_id": 1,
              "event_slug": "w", "context": CONTEXT, "attachments": [], "message_id": "<m1@imaging-events.local>",
              "unsubscribe_url": None}
    return Message(**{**values, **fields})


def test_a_built_mail_parses_back_with_its_text_html_headers_and_calendar_file() -> None:
    message = _message(unsubscribe_url="https://r.test/u/token", attachments=[
        {"filename": "invité.ics", "content_type": "text/calendar", "method": "REQUEST",
         "content_base64": base64.b64encode(ICS).decode()}])
    settings = SmtpSettings(mail_from="Société d'Imagerie <no-reply@imaging-events.local>")
    wire = wire_bytes(build_email(message, file_wording("registration_confirmed"), settings))
    assert b"\r\n" in wire and wire.isascii()

    mail = BytesParser(policy=policy.default).parsebytes(wire)
    assert mail["Subject"] == "Registration confirmed: Webinar"
    assert mail["From"].addresses[0].display_name == "Société d'Imagerie"
    assert mail["From"].addresses[0].addr_spec == "no-reply@imaging-events.local"
    assert mail["To"] == "zoe@hospital.example"
    assert mail["Message-ID"] == "<m1@imaging-events.local>"
    assert mail["List-Unsubscribe"] == "<https://r.test/u/token>"
    assert "Dear Zoë Ñúñez" in mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "Zoë Ñúñez" in html and "Société d&#39;Imagerie</p>" in html
    [calendar] = mail.iter_attachments()
    assert calendar.get_content_type() == "text/calendar" and calendar.get_param("method") == "REQUEST"
    assert calendar.get_filename() == "invité.ics" and calendar.get_payload(decode=True) == ICS


def test_one_lookup_gives_each_message_of_a_batch_its_events_wording(notifications_app: Flask) -> None:
    database = notifications_app.extensions["suite_db"]
    with database.session_scope() as session:
        session.add(TemplateOverride(organisation_id=1, event_slug="w", template="registration_confirmed",
                                     subject="Welcome to {{ event.title }}", text="Hello {{ attendee.given_name }}",
                                     html=None))
    batch = [_message(), _message(event_slug="other"), _message(organisation_id=2), _message(organisation_id=None)]
    with database.session_scope() as session:
        wordings = wordings_for(session, batch)
    assert wordings[wording_key(batch[0])].subject == "Welcome to {{ event.title }}"
    assert [wordings[wording_key(m)] for m in batch[1:]] == [file_wording("registration_confirmed")] * 3


BRANDING = Branding(organisation_id=1, display_name="Nederlandse Vereniging voor Radiologie",
                    primary_colour="#7a1f3d", footer_text="Utrecht")


def _png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (122, 31, 61)).save(buffer, "PNG")
    return buffer.getvalue()


def _parsed(branding: Branding, logo: Logo | None) -> EmailMessage:
    """The mail as a client reads it; with a logo, under branding that says it has that logo."""
    if logo is not None:
        branding = replace(branding, logo_version=logo.version)
    wire = wire_bytes(build_email(_message(), file_wording("registration_confirmed"), SmtpSettings(), branding, logo))
    mail = BytesParser(policy=policy.default).parsebytes(wire)
    assert isinstance(mail, EmailMessage)
    return mail


def _inline_images(mail: EmailMessage) -> list[EmailMessage]:
    return [part for part in mail.walk() if part.get_content_maintype() == "image"]  # type: ignore[misc]


def test_the_societys_logo_is_an_inline_part_the_html_header_shows_by_content_id() -> None:
    data = _png(400, 100)
    logo = Logo("image/png", data)
    mail = _parsed(BRANDING, logo)

    html = mail.get_body(("html",)).get_content()
    found = re.search(r'<img src="cid:([^"]+)" alt="Nederlandse Vereniging voor Radiologie" '
                      r'width="(\d+)" height="(\d+)"', html)
    assert found is not None, html
    content_id, width, height = found.groups()
    assert (width, height) == ("200", "50")  # 400 × 100 drawn within 200 × 60, its aspect kept
    [image] = _inline_images(mail)
    assert image.get_content_type() == "image/png" and image["Content-ID"] == f"<{content_id}>"
    assert image.get_payload(decode=True) == data and image.get_content_disposition() == "inline"
    related = next(part for part in mail.walk() if part.get_content_type() == "multipart/related")
    assert [part.get_content_type() for part in related.iter_parts()] == ["text/html", "image/png"]
    assert list(mail.iter_attachments()) == []  # shown in the header, not offered as a file
    text = mail.get_body(("plain",)).get_content()
    assert "cid:" not in text and "-- \nNederlandse Vereniging voor Radiologie\nUtrecht" in text

    # A retry builds the same mail: the logo's part keeps its Content-ID (it comes from the logo's bytes).
    again = _parsed(BRANDING, logo)
    assert _inline_images(again)[0]["Content-ID"] == image["Content-ID"]
    other = Logo("image/png", _png(30, 90))
    other_mail = _parsed(BRANDING, other)
    assert _inline_images(other_mail)[0]["Content-ID"] != image["Content-ID"]  # a new logo, a new id
    assert 'width="20" height="60"' in other_mail.get_body(("html",)).get_content()  # 30 × 90 within 60 high


def test_a_mail_for_a_society_without_a_logo_has_no_image_part() -> None:
    mail = _parsed(BRANDING, None)
    assert _inline_images(mail) == []
    assert [part.get_content_type() for part in mail.walk()] == ["multipart/alternative", "text/plain", "text/html"]
    html = mail.get_body(("html",)).get_content()
    assert "<img" not in html and "Nederlandse Vereniging voor Radiologie" in html
