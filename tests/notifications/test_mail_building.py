"""What the sender builds: a mail that standard parsers read back intact, in the organiser's wording."""
from __future__ import annotations

import base64
from email import policy
from email.parser import BytesParser

from flask import Flask

from notifications.models import Message, TemplateOverride
from notifications.services.messages import wording_key, wordings_for
from notifications.services.rendering import file_wording
from notifications.services.sender import build_email, wire_bytes
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
