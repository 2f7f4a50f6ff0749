"""Every confirmed registration of a Zoom-linked event becomes a Zoom webinar registrant, through the outbox.

An outbox row ``zoom POST /registrations/{reference}/sync`` asks the dispatcher to bring Zoom in
step with the registration as it is when the row is delivered (not as it was when queued), so rows
may repeat, cross and arrive late, and the outcome is still one registrant per registration:

- confirmed, none yet (or one on another webinar): ``POST /webinars/{id}/registrants``; its
  ``registrant_id`` and personal ``join_url`` are stored in the transaction that queues the mails.
  An answer lost on the way (a timeout) is retried, and Zoom answers an email that is registered
  already with the same registrant: a retry never makes a second one.
- confirmed, names differ from Zoom's: Zoom cannot update a webinar registrant, so it is deleted and
  added again with the corrected name; if the personal link changed, the attendee gets it again.
- no longer confirmed (cancelled, refunded) or the event unlinked: ``PUT .../registrants/status``
  with action ``cancel``.

The confirmation of a Zoom-linked event waits for the registrant (``deferred_confirmation``): the sync
queues the confirmation and the reminders once the personal link is known, under the keys they always
had, so the attendee's first mail already carries their own link. If Zoom refuses for good (no
connection, an unknown webinar), the confirmation goes with the event's shared link rather than never.
Zoom's 429 and 5xx are retried by the outbox, not before ``Retry-After``.
"""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from suite_common.db import Database, utcnow
from suite_common.outbox import OutboxRow, enqueue_many
from suite_common.secretbox import SecretUnreadable
from suite_common.settings import Settings

from ...models import Event, Outbox, Registration, RegistrationStatus, ZoomRegistrant
from .client import ZoomClient, ZoomRefused, ZoomRetryable
from .connection import ZoomNotConnected, client_for

log = logging.getLogger(__name__)

TARGET = "zoom"
SYNC_PATH = "/registrations/{reference}/sync"


def zoom_linked(event: Event) -> bool:
    return bool(event.zoom_webinar_id)


def sync_row(registration: Registration, reason: str, template: str | None = None) -> OutboxRow:
    """A request to bring Zoom in step with ``registration``. ``reason``: "confirmed" (its confirmation,
    ``template``, waits for the registrant), "linked" (it was confirmed, and told so, before its event
    had this webinar) or "changed" (cancelled, name corrected). Each row has a key of its own: two
    syncs are harmless, and a later change must not be swallowed as a repeat of an earlier one."""
    body: dict[str, Any] = {"reason": reason}
    if template:
        body["template"] = template
    return {"target": TARGET, "method": "POST", "path": SYNC_PATH.format(reference=registration.reference),
            "idempotency_key": f"zoom:{registration.reference}:{reason}:{uuid.uuid4().hex}", "body": body}


def deferred_confirmation(registration: Registration, template: str) -> list[OutboxRow]:
    """What a confirmation of a Zoom-linked event queues instead of its mails: the sync, which sends them."""
    return [sync_row(registration, "confirmed", template)]


def changed(session: Session, registration: Registration) -> None:
    """Queues a sync after a change Zoom must hear about (a name correction), when Zoom holds or will hold it."""
    if zoom_linked(registration.event) or registration.zoom_registrant is not None:
        enqueue_many(session, Outbox, [sync_row(registration, "changed")])


def relink_event(session: Session, event: Event) -> int:
    """The event's webinar changed (linked, replaced or removed): every registration that is confirmed,
    or has a registrant, is brought in step; returns how many syncs were queued."""
    registrations = session.scalars(
        select(Registration).outerjoin(ZoomRegistrant)
        .where(Registration.event_id == event.id,
               (Registration.status == RegistrationStatus.CONFIRMED) | ZoomRegistrant.registrant_id.is_not(None))
        .order_by(Registration.id))
    rows = [sync_row(registration, "linked") for registration in registrations]
    enqueue_many(session, Outbox, rows)
    return len(rows)


@dataclass(frozen=True)
class _Answer:
    """What the outbox dispatcher reads of a call: a status code, a text, the headers (Retry-After)."""

    status_code: int
    text: str = ""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Snapshot:
    """The registration as the sync found it, read in a short transaction before Zoom is called."""

    organisation_id: int
    email: str
    given_name: str
    family_name: str
    wanted_webinar: str | None
    current_webinar: str | None
    current_registrant: str | None
    current_names: tuple[str, str] | None


def _snapshot(registration: Registration) -> _Snapshot:
    current = registration.zoom_registrant
    active = current is not None and current.cancelled_at is None
    wanted = registration.event.zoom_webinar_id if registration.status == RegistrationStatus.CONFIRMED else None
    return _Snapshot(
        organisation_id=registration.event.organisation_id, email=registration.email,
        given_name=registration.given_name, family_name=registration.family_name, wanted_webinar=wanted,
        current_webinar=current.webinar_id if active else None,
        current_registrant=current.registrant_id if active else None,
        current_names=(current.given_name, current.family_name) if active else None)


class ZoomTarget:
    """The outbox dispatcher's client for target "zoom": ``request`` runs one sync and answers like HTTP
    (2xx done, 4xx refused for good, 503 with ``Retry-After`` to try again)."""

    def __init__(self, database: Database, settings: Settings) -> None:
        self.database = database
        self.settings = settings

    def request(self, method: str, path: str, *, json: Any = None, params: Any = None,
                idempotency_key: str | None = None, timeout: float | None = None) -> _Answer:
        parts = path.strip("/").split("/")
        if method != "POST" or len(parts) != 3 or parts[0] != "registrations" or parts[2] != "sync":
            return _Answer(400, f"no such Zoom call: {method} {path}")
        body = json or {}
        try:
            sync(self.database, self.settings, parts[1], body.get("reason", "changed"), body.get("template"))
        except ZoomRetryable as exc:
            headers = {"Retry-After": str(int(exc.retry_after + 0.999))} if exc.retry_after is not None else {}
            return _Answer(503, str(exc), headers)
        except (ZoomRefused, ZoomNotConnected, SecretUnreadable) as exc:
            return _Answer(422, str(exc))
        return _Answer(200)


def _client(database: Database, settings: Settings, organisation_id: int) -> ZoomClient:
    return client_for(database, settings, organisation_id)


def sync(database: Database, settings: Settings, reference: str, reason: str, template: str | None) -> None:
    """Brings Zoom in step with registration ``reference`` (see the module's docstring)."""
    with database.session_scope() as session:
        registration = _by_reference(session, reference)
        if registration is None:
            return  # erased meanwhile
        before = _snapshot(registration)
    try:
        registrant = _call_zoom(database, settings, before)
    except (ZoomRefused, ZoomNotConnected, SecretUnreadable):
        if reason == "confirmed":
            _send_confirmation_without_link(database, reference, template)
        raise
    with database.session_scope() as session:
        registration = _by_reference(session, reference, lock=True)
        if registration is None:
            return
        _record(session, registration, before, registrant, reason, template)
        if _snapshot(registration).wanted_webinar != before.wanted_webinar:
            # Changed while Zoom was being called (cancelled a moment ago): one more round settles it.
            enqueue_many(session, Outbox, [sync_row(registration, "changed")])


def _by_reference(session: Session, reference: str, lock: bool = False) -> Registration | None:
    query = select(Registration).where(Registration.reference == reference)
    if lock:
        query = query.with_for_update()
    return session.scalar(query)


@dataclass(frozen=True)
class _Outcome:
    """What Zoom now holds: the registrant (None when there is none) and whether it was cancelled."""

    webinar_id: str | None
    registrant_id: str | None
    join_url: str | None
    cancelled: bool = False


def _call_zoom(database: Database, settings: Settings, before: _Snapshot) -> _Outcome | None:
    """The calls that make Zoom match ``before``; None when Zoom already matches it."""
    wanted, current = before.wanted_webinar, before.current_webinar
    names = (before.given_name, before.family_name)
    if wanted is None and current is None:
        return None
    if wanted is not None and current == wanted and before.current_names == names:
        return None
    client = _client(database, settings, before.organisation_id)
    if current is not None and before.current_registrant is not None:
        if wanted == current:
            # A name correction: Zoom has no update of a webinar registrant, so delete and add again.
            client.delete_registrant(current, before.current_registrant)
        else:
            client.cancel_registrant(current, before.current_registrant, before.email)
    if wanted is None:
        return _Outcome(current, before.current_registrant, None, cancelled=True)
    added = client.add_registrant(wanted, before.email, before.given_name, before.family_name)
    return _Outcome(wanted, added.registrant_id, added.join_url)


def _record(session: Session, registration: Registration, before: _Snapshot, outcome: _Outcome | None,
            reason: str, template: str | None) -> None:
    """Stores what Zoom holds and queues the mails that depend on it, in one transaction."""
    from .. import notify  # notify builds the mails with the personal link this module stores

    now = utcnow()
    current = registration.zoom_registrant
    confirmed = registration.status == RegistrationStatus.CONFIRMED
    if outcome is not None and outcome.cancelled:
        if current is not None and current.cancelled_at is None:
            current.cancelled_at = current.updated_at = now
        return
    if outcome is not None:
        old_link = current.join_url if current is not None and current.cancelled_at is None else None
        if current is None:
            current = ZoomRegistrant(registration=registration, link_version=0, created_at=now)
            session.add(current)
        new_link = outcome.join_url != old_link
        announce = confirmed and reason != "confirmed" and new_link
        if announce:
            # The attendee was told an earlier link (or the shared one): their reminders are scheduled
            # under the current version's keys; cancel those, then schedule the new link's.
            notify.queue(session, notify.reminder_cancellations(registration))
        assert outcome.webinar_id and outcome.registrant_id and outcome.join_url
        current.webinar_id, current.registrant_id, current.join_url = (
            outcome.webinar_id, outcome.registrant_id, outcome.join_url)
        current.given_name, current.family_name = before.given_name, before.family_name
        current.cancelled_at = None
        current.updated_at = now
        session.flush()
        if announce:
            current.link_version += 1
            session.flush()
            notify.queue(session, notify.new_join_link(registration, now))
    if reason == "confirmed" and confirmed:
        notify.queue(session, notify.confirmation_now(registration, now, template or "registration_confirmed"))


def _send_confirmation_without_link(database: Database, reference: str, template: str | None) -> None:
    """Zoom refused for good: the confirmation goes with the event's shared link rather than never."""
    from .. import notify

    with database.session_scope() as session:
        registration = _by_reference(session, reference)
        if registration is not None and registration.status == RegistrationStatus.CONFIRMED:
            log.warning("Zoom refused a registrant; confirmation sent without a personal link",
                        extra={"registration": reference})
            notify.queue(session, notify.confirmation_now(registration, utcnow(), template or "registration_confirmed"))


def registrant_of(registration: Registration) -> ZoomRegistrant | None:
    """The registration's Zoom registrant while its event is linked to Zoom. An event without a webinar
    is not looked up at all: mails are built while a sign-up holds the event lock, one query less."""
    if not zoom_linked(registration.event):
        return None
    return registration.zoom_registrant


def personal_join_url(registration: Registration) -> str | None:
    """The attendee's own Zoom link while their registrant is active; else None (use the event's link)."""
    current = registrant_of(registration)
    if current is None or current.cancelled_at is not None:
        return None
    return current.join_url


def export(registration: Registration) -> dict[str, Any] | None:
    """A person's Zoom registrant for their privacy export."""
    current = registration.zoom_registrant
    if current is None:
        return None
    return {"webinar_id": current.webinar_id, "registrant_id": current.registrant_id, "join_url": current.join_url,
            "given_name": current.given_name, "family_name": current.family_name,
            "cancelled_at": current.cancelled_at.isoformat() if current.cancelled_at else None}
