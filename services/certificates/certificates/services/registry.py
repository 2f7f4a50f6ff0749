"""What certificates knows of events and people: read from registration's internal API
(never from its tables), with names as the attendee last corrected them."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import requests
from flask import current_app

from suite_common.client import ServiceClient
from suite_common.emails import loose_email_key
from suite_common.errors import not_found
from suite_common.events import owned_event
from suite_common.names import full_name

from .credits import Session as CreditSession


@dataclass(frozen=True)
class EventInfo:
    slug: str
    title: str
    kind: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    timezone: str
    venue: str | None
    sessions: list[CreditSession]
    # Session code -> credits per credit system, for the sessions given credits by system; a session
    # missing here has its plain ``credits``, in the event's first system.
    credits_by_system: Mapping[str, Mapping[str, Decimal]] = field(default_factory=dict)


@dataclass(frozen=True)
class Person:
    id: int
    # Where mail goes: the address as registration keeps it. ``email_key`` compares (attendance rows).
    email: str
    given_name: str
    family_name: str
    status: str
    ticket_code: str
    # The person's name order (王 芳: family name first), as registration keeps it.
    family_name_first: bool = False
    # From the attendee form's answers, when it asked (the accreditor's summary counts participants by them).
    country: str | None = None
    profession: str | None = None
    # The registration's language (en, nl, de, fr): the certificate is printed in it.
    language: str = "en"

    @property
    def email_key(self) -> str:
        return loose_email_key(self.email)

    @property
    def name(self) -> str:
        """The name as the certificate prints it, in the person's order."""
        return full_name(self.given_name, self.family_name, self.family_name_first)


def _client() -> ServiceClient:
    clients = current_app.extensions.setdefault("certificates_registry", {})
    if "registration" not in clients:
        settings = current_app.extensions["suite_settings"]
        clients["registration"] = ServiceClient(settings.registration_url, settings.service,
                                                settings.own_signing_key, timeout=30)
    return clients["registration"]


def _get(path: str, params: dict[str, Any] | None = None) -> requests.Response:
    return _client().read(path, params)


def _event(data: dict[str, Any]) -> EventInfo:
    moment = dt.datetime.fromisoformat
    return EventInfo(
        slug=data["slug"], title=data["title"], kind=data["kind"], starts_at=moment(data["starts_at"]),
        ends_at=moment(data["ends_at"]), timezone=data["timezone"], venue=data.get("venue"),
        sessions=[CreditSession(code=s["code"], title=s["title"], starts_at=moment(s["starts_at"]),
                                ends_at=moment(s["ends_at"]), credits=Decimal(s["credits"]))
                  for s in data["sessions"]],
        credits_by_system={s["code"]: {code: Decimal(value) for code, value in s["credits_by_system"].items()}
                           for s in data["sessions"] if s.get("credits_by_system") is not None},
    )


def _person(data: dict[str, Any]) -> Person:
    return Person(id=data["id"], email=data["email"], given_name=data["given_name"],
                  family_name=data["family_name"], status=data["status"], ticket_code=data["ticket_code"],
                  family_name_first=data.get("family_name_first", False),
                  country=data.get("country"), profession=data.get("profession"),
                  language=data.get("language") or "en")


def attendees(organisation_id: int, slug: str) -> tuple[EventInfo, Iterator[Person]]:
    """The event and an iterator over its confirmed registrations, page by page."""
    path = f"/internal/v1/events/{slug}/attendees"
    first = _get(path, {"organisation_id": organisation_id})
    if first.status_code == 404:
        raise not_found("event")
    page = first.json()

    def people() -> Iterator[Person]:
        current = page
        while True:
            yield from (_person(item) for item in current["items"])
            if current["next_cursor"] is None:
                return
            current = _get(path, {"organisation_id": organisation_id, "cursor": current["next_cursor"]}).json()

    return _event(page["event"]), people()


def event(organisation_id: int, slug: str) -> EventInfo:
    """The organisation's event, a 404 unless it is the organisation's: the answer its organiser
    route's check already got in this request (see ``suite_common.events``)."""
    return _event(owned_event(organisation_id, slug))


def person_by_ticket(code: str) -> tuple[Person, str, int] | None:
    """The ticket's person with the slug and organisation of its event, or None for an unknown ticket."""
    response = _get(f"/internal/v1/tickets/{code}")
    if response.status_code == 404:
        return None
    data = response.json()
    return _person(data), data["event"], data["organisation_id"]


def person_by_id(registration_id: int) -> tuple[Person, str, int] | None:
    response = _get(f"/internal/v1/registrations/{registration_id}")
    if response.status_code == 404:
        return None
    data = response.json()
    return _person(data), data["event"], data["organisation_id"]


def faculty(organisation_id: int, slug: str) -> list[dict[str, Any]] | None:
    """The event's speakers and planners with their disclosures (registration owns them), or None when
    registration cannot say (an older registration without the faculty API): the report says so."""
    response = _get(f"/internal/v1/events/{slug}/faculty", {"organisation_id": organisation_id})
    if response.status_code != 200:
        return None
    return list(response.json().get("items", []))
