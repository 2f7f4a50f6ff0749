"""What attendees hear about, written to the outbox in the transaction of the change.

Each message has an idempotency key derived from what caused it (registration,
kind, and for calendar-bearing mails the event's sequence), so a retried request
or a replayed webhook can never produce a second mail.
"""
from __future__ import annotations

import base64
import datetime as dt
import io
from typing import Any
from zoneinfo import ZoneInfo

import segno
from babel.dates import format_date, format_skeleton
from flask_babel import lazy_gettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from suite_common.errors import ApiError
from suite_common.i18n import DEFAULT_LANGUAGE, format_money, in_language
from suite_common.outbox import OutboxRow, enqueue, enqueue_many

from ..models import Event, Registration, RegistrationStatus
from ..models.outbox import Outbox
from ..models.registration import ENDED
from . import calendar, receipts
from .urls import manage_url, public_base, public_domain
from .zoom import registrants as zoom_registrants

MESSAGES_PATH = "/internal/v1/messages"
# Reminders before the start: (key, offset, wording, template). Webinars add the join link an hour before.
# The wording is put in the registration's language when the mail is built ("morgen", "in einer Woche").
REMINDERS = (("7d", dt.timedelta(days=7), lazy_gettext("in one week"), "reminder"),
             ("1d", dt.timedelta(days=1), lazy_gettext("tomorrow"), "reminder"))
WEBINAR_REMINDER = ("1h", dt.timedelta(hours=1), lazy_gettext("in one hour"), "webinar_join_link")


def _local(moment: dt.datetime, timezone: str, language: str) -> str:
    """"Mon, Mar 1, 2027, 09:00", "ma 1 mrt 2027, 09:00", "Mo., 1. März 2027, 09:00": the locale's own
    weekday-date order (CLDR's yMMMEd skeleton) and a 24-hour time, in the event's time zone."""
    local = moment.astimezone(ZoneInfo(timezone))
    return f"{format_skeleton('yMMMEd', local, locale=language)}, {local:%H:%M}"


def language_of(registration: Registration) -> str:
    """The language of a registration's mails and documents (English for one not yet flushed)."""
    return registration.language or DEFAULT_LANGUAGE


def money(amount: int, registration: Registration) -> str:
    """An amount as the registration's language writes it ("€ 405,00" in Dutch), for its mails."""
    return format_money(amount, registration.currency, language_of(registration))


def event_context(event: Event, language: str = DEFAULT_LANGUAGE) -> dict[str, Any]:
    """The event as mails show it, its times written in ``language`` (the registration's)."""
    return {
        "title": event.title, "kind": event.kind, "slug": event.slug, "timezone": event.timezone,
        "starts": _local(event.starts_at, event.timezone, language),
        "ends": _local(event.ends_at, event.timezone, language),
        "venue": event.venue, "join_url": event.join_url, "url": f"{public_base()}/events/{event.slug}",
    }


def base_context(registration: Registration, position: int | None = None) -> dict[str, Any]:
    """The context of every mail about a registration. A Zoom registrant's personal link replaces the
    event's shared ``join_url``, so every template that shows the join link shows theirs."""
    event = event_context(registration.event, language_of(registration))
    personal_join_url = zoom_registrants.personal_join_url(registration)
    if personal_join_url:
        event["join_url"] = personal_join_url
    return {
        "event": event,
        "attendee": {"given_name": registration.given_name, "family_name": registration.family_name,
                     "family_name_first": registration.family_name_first, "full_name": registration.full_name},
        "registration": {"reference": registration.reference, "status": registration.status,
                         "rate": registration.rate.name, "manage_url": manage_url(registration),
                         "waitlist_position": position, "personal_join_url": personal_join_url},
    }


def _calendar_attachment(registration: Registration, cancelled: bool = False) -> dict[str, str]:
    body = calendar.registration_calendar(registration, public_domain(), manage_url(registration), cancelled=cancelled)
    return {"filename": "invite.ics", "content_type": "text/calendar",
            "method": "CANCEL" if cancelled else "PUBLISH", "content_base64": base64.b64encode(body).decode()}


def _ticket_attachment(registration: Registration) -> dict[str, str]:
    buffer = io.BytesIO()
    segno.make(registration.ticket_code, micro=False).save(buffer, kind="png", scale=8, border=2)
    return {"filename": "ticket.png", "content_type": "image/png",
            "content_base64": base64.b64encode(buffer.getvalue()).decode()}


def _message(registration: Registration, template: str, key: str, context: dict[str, Any],
             attachments: list[dict[str, str]] | None = None, send_at: dt.datetime | None = None) -> OutboxRow:
    body = {
        "idempotency_key": key, "template": template, "to": registration.email, "context": context,
        "language": registration.language,
        "attachments": attachments or [], "organisation_id": registration.event.organisation_id,
        "event": registration.event.slug, "send_at": send_at.isoformat() if send_at else None,
    }
    return {"target": "notifications", "method": "POST", "path": MESSAGES_PATH, "idempotency_key": key, "body": body}


def _send(session: Session, registration: Registration, template: str, key: str, context: dict[str, Any],
          attachments: list[dict[str, str]] | None = None, send_at: dt.datetime | None = None) -> None:
    enqueue_many(session, Outbox, [_message(registration, template, key, context, attachments, send_at)])


def _cancellation(key: str) -> OutboxRow:
    return {"target": "notifications", "method": "DELETE", "path": f"{MESSAGES_PATH}/{key}",
            "idempotency_key": f"cancel:{key}"}


def _reminder_plan(event: Event) -> list[tuple[str, dt.datetime, str, str]]:
    plan = list(REMINDERS) + ([WEBINAR_REMINDER] if event.kind == "webinar" else [])
    return [(name, event.starts_at - offset, wording, template) for name, offset, wording, template in plan]


def _reminder_key(registration: Registration, name: str, sequence: int) -> str:
    """Per event sequence, and per version of a Zoom registrant's personal link once it changed after
    the reminders were scheduled (``zoom.registrants``), so moved reminders replace the earlier ones."""
    registrant = zoom_registrants.registrant_of(registration)
    link = f":link{registrant.link_version}" if registrant is not None and registrant.link_version else ""
    return f"reg:{registration.reference}:reminder:{name}:v{sequence}{link}"


def _reminders(registration: Registration, now: dt.datetime) -> list[OutboxRow]:
    event = registration.event
    with in_language(language_of(registration)):
        return [_message(registration, template, _reminder_key(registration, name, event.sequence),
                         {**base_context(registration), "reminder": {"when": str(wording)}}, send_at=send_at)
                for name, send_at, wording, template in _reminder_plan(event) if send_at > now]


def schedule_reminders(session: Session, registration: Registration, now: dt.datetime) -> None:
    enqueue_many(session, Outbox, _reminders(registration, now))


def _reminder_cancellations(registration: Registration, sequence: int) -> list[OutboxRow]:
    return [_cancellation(_reminder_key(registration, name, sequence))
            for name, *_rest in list(REMINDERS) + [WEBINAR_REMINDER]]


def reminder_cancellations(registration: Registration) -> list[OutboxRow]:
    """Cancels the reminders scheduled under the registration's current keys."""
    return _reminder_cancellations(registration, registration.event.sequence)


def cancel_reminders(session: Session, registration: Registration, sequence: int) -> None:
    enqueue_many(session, Outbox, _reminder_cancellations(registration, sequence))


# The mails of a registration's transitions are built, not sent: ``lifecycle`` returns them and
# its caller queues them (``queue``) in the transaction of the change.


def signed_up(registration: Registration, position: int | None, now: dt.datetime) -> list[OutboxRow]:
    if registration.status == RegistrationStatus.CONFIRMED:
        return confirmed(registration, now, template="registration_confirmed")
    if registration.status == RegistrationStatus.WAITLISTED:
        return [_message(registration, "registration_waitlisted", f"reg:{registration.reference}:waitlisted",
                         base_context(registration, position))]
    return []


def confirmed(registration: Registration, now: dt.datetime, template: str = "registration_promoted") -> list[OutboxRow]:
    if registration.status == RegistrationStatus.PENDING_PAYMENT:
        # Promoted to a paid seat: the seat is held while they pay; confirmation follows payment.
        context = {**base_context(registration), "ticket": {"code": registration.ticket_code}}
        return [_message(registration, template, f"reg:{registration.reference}:{template}", context)]
    return confirmation(registration, now, template)


def confirmation(registration: Registration, now: dt.datetime,
                 template: str = "registration_confirmed") -> list[OutboxRow]:
    """The confirmation (calendar file; ticket unless a webinar, whose attendance comes from the
    platform's report) and the reminders, built without the database: a sign-up builds them
    before it takes the event lock, so the CPU they cost is not spent while others wait.

    For an event linked to a Zoom webinar, the Zoom sync instead, which sends them (``confirmation_now``)
    once the attendee's personal join link is known, so the first mail already carries it."""
    if zoom_registrants.zoom_linked(registration.event):
        return zoom_registrants.deferred_confirmation(registration, template)
    return confirmation_now(registration, now, template)


def confirmation_now(registration: Registration, now: dt.datetime,
                     template: str = "registration_confirmed") -> list[OutboxRow]:
    """The confirmation and the reminders as they stand now (``confirmation``'s mails)."""
    return [_confirmation_message(registration, template, f"reg:{registration.reference}:{template}"),
            *_reminders(registration, now)]


def _confirmation_message(registration: Registration, template: str, key: str) -> OutboxRow:
    context = {**base_context(registration), "ticket": {"code": registration.ticket_code}}
    attachments = [_calendar_attachment(registration)]
    if registration.event.kind != "webinar":
        attachments.append(_ticket_attachment(registration))
    return _message(registration, template, key, context, attachments)


def new_join_link(registration: Registration, now: dt.datetime) -> list[OutboxRow]:
    """The attendee's personal Zoom link is new after their confirmation went (a name correction re-added
    their registrant; the event was linked to Zoom after they signed up): the confirmation again, with
    the link and the calendar file, under a key per registrant, and the reminders under the link's keys."""
    registrant = registration.zoom_registrant
    assert registrant is not None
    key = f"reg:{registration.reference}:registration_confirmed:zoom:{registrant.registrant_id}"
    return [_confirmation_message(registration, "registration_confirmed", key), *_reminders(registration, now)]


def resend_confirmation(session: Session, registration: Registration, resend_id: str) -> None:
    """Sends the confirmation again (calendar file, ticket), as it stands now, for an attendee who
    lost it. Each resend has a key of its own (``resend_id``, made when the organiser's form was
    shown), so a second click on the same form sends nothing twice, and a later resend does send.
    The reminders are not queued again: they are already scheduled under their own keys."""
    if registration.status != RegistrationStatus.CONFIRMED:
        status = registration.status.replace("_", " ")
        raise ApiError(409, "not_confirmed", f"Only a confirmed registration has a confirmation to resend; "
                                             f"this one is {status}.", {"status": [registration.status]})
    key = f"reg:{registration.reference}:registration_confirmed:resend:{resend_id}"
    queue(session, [_confirmation_message(registration, "registration_confirmed", key)])


def queue(session: Session, messages: list[OutboxRow]) -> None:
    """Writes messages built earlier (a transition's, or ``confirmation``) to the outbox, with one statement."""
    enqueue_many(session, Outbox, messages)


def cancelled(registration: Registration, held_seat: bool, refund_amount: str | None = None,
              reason: str = "request") -> list[OutboxRow]:
    """``reason``: "request" (the attendee or the organiser cancelled), "hold_expired" (not paid in time) or
    "paid_too_late" (a payment that came after the seat was gone, refunded). Each has its own message, so
    a hold that ran out does not swallow the refund of a payment that came after it."""
    attachments = [_calendar_attachment(registration, cancelled=True)] if held_seat else []
    context = {**base_context(registration), "refund": {"amount": refund_amount}, "cancellation": {"reason": reason}}
    key = f"reg:{registration.reference}:cancelled" + ("" if reason == "request" else f":{reason}")
    mails = [_message(registration, "registration_cancelled", key, context, attachments)]
    if held_seat:
        mails += _reminder_cancellations(registration, registration.event.sequence)
    return mails


def announce(session: Session, event: Event, subject: str, body: str, announcement_id: str) -> int:
    """Queues an announcement to every live registrant who consented to announcements."""
    registrations = session.scalars(
        select(Registration).where(Registration.event_id == event.id,
                                   Registration.status.not_in(ENDED),
                                   Registration.announcements_consent_at.is_not(None))
        .execution_options(yield_per=500))
    count = 0
    for registration in registrations:
        unsubscribe_url = f"{public_base()}/u/{registration.unsubscribe_token}"
        context = {**base_context(registration), "announcement": {"subject": subject, "body": body},
                   "unsubscribe_url": unsubscribe_url}
        key = f"reg:{registration.reference}:announcement:{announcement_id}"
        enqueue(session, Outbox, "notifications", "POST", MESSAGES_PATH, key, {
            "idempotency_key": key, "template": "announcement", "to": registration.email, "context": context,
            "language": registration.language, "organisation_id": event.organisation_id, "event": event.slug, "unsubscribe_url": unsubscribe_url})
        count += 1
    return count


def paid(registration: Registration, receipt_number: str, now: dt.datetime) -> list[OutboxRow]:
    """Payment received, with the receipt; then the confirmation with calendar file and reminders."""
    amount = money(registration.amount_paid, registration)
    context = {**base_context(registration),
               "payment": {"amount": amount, "receipt_number": receipt_number,
                           "receipt_url": f"{manage_url(registration)}/receipt.pdf"}}
    return [_message(registration, "payment_received", f"reg:{registration.reference}:paid", context),
            *confirmed(registration, now, template="registration_confirmed")]


def invoice_issued(session: Session, registration: Registration, document: Any) -> None:
    due = (format_date(registration.invoice_due_at.date(), "long", locale=language_of(registration))
           if registration.invoice_due_at else "")
    context = {**base_context(registration),
               "invoice": {"number": document.number, "amount": money(receipts.total_of(document), registration),
                           "due": due, "url": f"{manage_url(registration)}/invoice.pdf"}}
    _send(session, registration, "invoice_issued", f"reg:{registration.reference}:invoice", context)


def event_moved(session: Session, event: Event, previous_sequence: int, now: dt.datetime) -> None:
    """Tells every confirmed attendee, with a calendar update, and moves their reminders."""
    registrations = session.scalars(
        select(Registration).where(Registration.event_id == event.id,
                                   Registration.status == RegistrationStatus.CONFIRMED)
        .execution_options(yield_per=500))
    for registration in registrations:
        cancel_reminders(session, registration, previous_sequence)
        _send(session, registration, "event_changed", f"reg:{registration.reference}:changed:v{event.sequence}",
              base_context(registration), [_calendar_attachment(registration)])
        schedule_reminders(session, registration, now)


def approval_pending(registration: Registration) -> list[OutboxRow]:
    """Signed up at a rate that needs the organiser's approval: no seat yet, an answer will follow."""
    return [_message(registration, "approval_pending", f"reg:{registration.reference}:approval_pending",
                     base_context(registration))]


def approval_granted(registration: Registration) -> list[OutboxRow]:
    return [_message(registration, "approval_granted", f"reg:{registration.reference}:approval_granted",
                     base_context(registration, position=None))]


def approval_rejected(registration: Registration, reason: str | None) -> list[OutboxRow]:
    return [_message(registration, "approval_rejected", f"reg:{registration.reference}:approval_rejected",
                     {**base_context(registration), "approval": {"reason": reason}})]
