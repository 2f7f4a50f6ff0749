"""Attendee pages rendered in-process: event page, form page, 404s, the calendar file.

The full form journey in a browser is tests/browser's job; these check what
each page serves.
"""
from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser
from typing import Any

import pytest
from flask.testing import FlaskClient
from icalendar import Calendar

from tests.support.factories import create_event, iso, sign_up

START, END = "2031-03-04T09:00:00+01:00", "2031-03-04T17:30:00+01:00"  # Vienna, winter time
START_UTC = dt.datetime(2031, 3, 4, 8, 0, tzinfo=dt.UTC)


class Elements(HTMLParser):
    """Collects the attributes of every start tag, and the text, of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def find(self, tag: str, **attrs: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())]


def parse(response: Any) -> Elements:
    page = Elements()
    page.feed(response.get_data(as_text=True))
    return page


def manage_path(registration: dict[str, Any]) -> str:
    return registration["manage_url"].removeprefix("http://registration.test")


def calendar_of(client: FlaskClient, registration: dict[str, Any]) -> tuple[Any, Calendar]:
    response = client.get(manage_path(registration) + "/calendar.ics")
    assert response.status_code == 200
    return response, Calendar.from_ical(response.get_data())


def only_event(calendar: Calendar) -> Any:
    (entry,) = calendar.walk("VEVENT")
    return entry


# --- event page and form page --------------------------------------------------------


def test_event_page_renders(client, auth):
    event = create_event(client, auth, title="Cardiac MRI update", starts_at=START, ends_at=END)
    response = client.get(f"/events/{event['slug']}")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = parse(response)
    text = " ".join(page.text)
    assert "Cardiac MRI update" in text and "When" in text and "Where" in text
    assert "Online webinar" in text and "Europe/Vienna" in text
    assert page.find("a", href=f"/events/{event['slug']}/register")


def test_event_page_shows_the_programme_and_escapes_text(client, auth):
    event = create_event(client, auth, title="<script>alert(1)</script> & more", starts_at=START, ends_at=END)
    client.post(f"/api/v1/events/{event['slug']}/sessions", headers=auth, json={
        "code": "S1", "title": "Deep learning in <b>CT</b>", "starts_at": START, "ends_at": "2031-03-04T10:30:00+01:00",
        "credits": "1.5"})
    body = client.get(f"/events/{event['slug']}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in body and "&lt;script&gt;" in body
    assert "Programme" in body and "Deep learning in &lt;b&gt;CT&lt;/b&gt;" in body and "<td>1.5</td>" in body


def test_event_page_says_when_registration_is_closed(client, auth):
    event = create_event(client, auth, registration_opens_at=iso(days=-3), registration_closes_at=iso(days=-1))
    response = client.get(f"/events/{event['slug']}")
    assert response.status_code == 200
    assert "closed" in response.get_data(as_text=True)
    assert not parse(response).find("a", href=f"/events/{event['slug']}/register")


def test_register_page_renders_a_labelled_form(client, auth):
    event = create_event(client, auth)
    response = client.get(f"/events/{event['slug']}/register")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = parse(response)
    text = " ".join(page.text)
    for label in ("Given name", "Family name", "Email", "Rate", "Register"):
        assert label in text, label
    assert event["consent_text"] in text

    (form,) = page.find("form")
    assert form["method"] == "post" and form["action"] == f"/events/{event['slug']}/register/review"
    assert page.find("input", type="hidden", name="csrf_token")
    # Every visible field has a label pointing at it.
    label_targets = {attrs["for"] for attrs in page.find("label")}
    for name in ("given_name", "family_name", "email", "consent"):
        (field,) = page.find("input", name=name)
        assert field["id"] in label_targets, name
    (rate,) = page.find("input", type="radio", name="rate")
    assert rate["value"] == "free" and rate["id"] in label_targets


# A path with a control character is refused by the router itself (suite_common.routing).
@pytest.mark.parametrize("path", ["/events/no-such-event", "/events/no-such-event/register", "/events/a%00b",
                                  "/r/a%00b"])
def test_unknown_event_pages_are_html_404(client, path):
    response = client.get(path)
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert "<h1>404</h1>" in response.get_data(as_text=True)


# --- /r/<token> ----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/r/unknown-token", "/r/" + "A" * 43, "/r/" + "x" * 200,
                                  "/r/unknown-token/calendar.ics"])
def test_unknown_manage_token_is_html_404(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "does not lead to a registration" in response.get_data(as_text=True)


def test_manage_page_renders(client, auth):
    event = create_event(client, auth)
    person = sign_up(client, event["slug"])
    response = client.get(manage_path(person))
    assert response.status_code == 200 and person["reference"] in response.get_data(as_text=True)
    assert parse(response).find("a", href=manage_path(person) + "/calendar.ics")


def test_calendar_file(client, auth):
    event = create_event(client, auth, title="Cardiac MRI update", starts_at=START, ends_at=END)
    person = sign_up(client, event["slug"])

    response, calendar = calendar_of(client, person)
    assert response.mimetype == "text/calendar"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert calendar["VERSION"] == "2.0" and calendar["PRODID"]
    entry = only_event(calendar)
    assert entry["DTSTART"].dt == START_UTC and entry["DTSTART"].dt.utcoffset() == dt.timedelta(0)
    assert entry["DTEND"].dt == dt.datetime(2031, 3, 4, 16, 30, tzinfo=dt.UTC)
    assert b"DTSTART:20310304T080000Z" in response.get_data()
    assert str(entry["SUMMARY"]) == "Cardiac MRI update"
    assert str(entry["LOCATION"]) == "https://zoom.us/j/123"
    assert person["reference"] in str(entry["DESCRIPTION"])
    assert str(entry["STATUS"]) == "CONFIRMED"

    _, again = calendar_of(client, person)
    assert str(only_event(again)["UID"]) == str(entry["UID"])
    other = sign_up(client, event["slug"])
    assert str(only_event(calendar_of(client, other)[1])["UID"]) != str(entry["UID"])


def test_calendar_follows_a_moved_event_under_the_same_uid(client, auth):
    event = create_event(client, auth, starts_at=START, ends_at=END)
    person = sign_up(client, event["slug"])
    before = only_event(calendar_of(client, person)[1])

    client.patch(f"/api/v1/events/{event['slug']}", headers=auth,
                 json={"starts_at": "2031-03-05T09:00:00+01:00", "ends_at": "2031-03-05T17:30:00+01:00"})
    after = only_event(calendar_of(client, person)[1])
    assert str(after["UID"]) == str(before["UID"])
    assert after["DTSTART"].dt == START_UTC + dt.timedelta(days=1)
    assert int(after["SEQUENCE"]) > int(before["SEQUENCE"])


def test_calendar_of_a_cancelled_registration_cancels_the_entry(client, auth):
    event = create_event(client, auth, kind="conference", venue="Austria Center Vienna", join_url=None)
    person = sign_up(client, event["slug"])
    before = only_event(calendar_of(client, person)[1])
    client.post(f"/api/v1/registrations/{person['id']}/cancel", headers=auth)

    _, calendar = calendar_of(client, person)
    after = only_event(calendar)
    assert str(calendar["METHOD"]) == "CANCEL" and str(after["STATUS"]) == "CANCELLED"
    assert str(after["UID"]) == str(before["UID"]) and int(after["SEQUENCE"]) > int(before["SEQUENCE"])
    assert str(after["LOCATION"]) == "Austria Center Vienna"
