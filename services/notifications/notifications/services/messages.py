"""Accepting, cancelling and listing messages; organisers' template overrides."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from email.utils import make_msgid
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from suite_common.db import insert_once, utcnow
from suite_common.errors import ApiError, validation_error

from ..models import Message, MessageStatus, TemplateOverride
from .rendering import TEMPLATES, RenderError, Wording, check_wording, file_wording


def _fingerprint(data: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode("utf-8")).hexdigest()


def accept(session: Session, data: dict[str, Any], mail_domain: str) -> Message:
    """Stores the message (committed with the request, before it is acknowledged); the same key
    returns the same message, also when a concurrent request with that key wins the insert."""
    if data["template"] not in TEMPLATES:
        raise validation_error({"template": [f"Unknown template; one of: {', '.join(TEMPLATES)}."]})
    fingerprint = _fingerprint(data)
    now = utcnow()
    send_at = data.get("send_at") or now
    message, _created = insert_once(session, Message, {
        "idempotency_key": data["idempotency_key"], "fingerprint": fingerprint,
        "organisation_id": data.get("organisation_id"), "event_slug": data.get("event"),
        "template": data["template"], "recipient": data["to"], "context": data.get("context") or {},
        "attachments": data.get("attachments") or [], "unsubscribe_url": data.get("unsubscribe_url"),
        "language": data.get("language") or "en",
        "status": MessageStatus.QUEUED, "send_at": send_at, "next_attempt_at": max(send_at, now),
        "message_id": make_msgid(domain=mail_domain), "created_at": now, "updated_at": now,
    }, key=("idempotency_key",))
    if message.fingerprint not in (None, fingerprint):
        raise ApiError(409, "idempotency_conflict", "This idempotency_key was already used for a different message.")
    return message


def cancel(session: Session, idempotency_key: str, mail_domain: str) -> Message:
    """Cancels an unsent message. A cancellation that overtakes its message leaves a
    tombstone, so the message is born cancelled when it arrives."""
    now = utcnow()
    message, created = insert_once(session, Message, {
        "idempotency_key": idempotency_key, "fingerprint": None, "template": "", "recipient": "",
        "status": MessageStatus.CANCELLED, "message_id": make_msgid(domain=mail_domain),
        "created_at": now, "updated_at": now,
    }, key=("idempotency_key",), for_update=True)
    if created:
        return message
    if message.status in (MessageStatus.SENT, MessageStatus.SENDING):
        raise ApiError(409, "already_sent", "This message is already being sent or was sent.")
    if message.status == MessageStatus.QUEUED:
        message.status = MessageStatus.CANCELLED
        message.updated_at = now
    return message


def listing_query(organisation_id: int, filters: dict[str, Any]) -> Select[tuple[Message]]:
    query = select(Message).where(Message.organisation_id == organisation_id, Message.template != "")
    if filters.get("status"):
        query = query.where(Message.status == filters["status"])
    if filters.get("to"):
        query = query.where(Message.recipient == filters["to"])
    if filters.get("event"):
        query = query.where(Message.event_slug == filters["event"])
    if filters.get("after"):
        query = query.where(Message.id < filters["after"])
    return query.order_by(Message.id.desc()).limit(filters["limit"])


def put_override(session: Session, organisation_id: int, event_slug: str, template: str,
                 data: dict[str, Any]) -> TemplateOverride:
    if template not in TEMPLATES:
        raise ApiError(404, "not_found", "No such message type.")
    wording = Wording(data["subject"], data["text"], data.get("html"))
    try:
        check_wording(template, wording)
    except RenderError as exc:
        raise validation_error({"template": [str(exc)]}, "The template does not render.") from exc
    override, _created = insert_once(session, TemplateOverride, {
        "organisation_id": organisation_id, "event_slug": event_slug, "template": template,
        "subject": wording.subject, "text": wording.text, "html": wording.html,
    }, key=("organisation_id", "event_slug", "template"))
    override.subject, override.text, override.html = wording.subject, wording.text, wording.html
    session.flush()
    return override


def event_wordings(session: Session, organisation_id: int, event_slug: str) -> list[dict[str, Any]]:
    """Every message type with the wording an event's messages use: the organiser's override where
    there is one, else the shipped wording (``overridden`` says which)."""
    overrides = {o.template: o for o in session.scalars(select(TemplateOverride).where(
        TemplateOverride.organisation_id == organisation_id, TemplateOverride.event_slug == event_slug))}
    return [_wording_item(event_slug, template, overrides.get(template)) for template in TEMPLATES]


def event_wording(session: Session, organisation_id: int, event_slug: str, template: str) -> dict[str, Any]:
    """One message type's wording for an event, as ``event_wordings`` gives it."""
    if template not in TEMPLATES:
        raise ApiError(404, "not_found", "No such message type.")
    override = session.scalar(select(TemplateOverride).where(
        TemplateOverride.organisation_id == organisation_id, TemplateOverride.event_slug == event_slug,
        TemplateOverride.template == template))
    return _wording_item(event_slug, template, override)


def _wording_item(event_slug: str, template: str, override: TemplateOverride | None) -> dict[str, Any]:
    wording = Wording(override.subject, override.text, override.html) if override else file_wording(template)
    return {"event": event_slug, "template": template, "subject": wording.subject, "text": wording.text,
            "html": wording.html, "overridden": override is not None,
            "updated_at": override.updated_at if override else None}


def delete_override(session: Session, organisation_id: int, event_slug: str, template: str) -> None:
    override = session.scalar(select(TemplateOverride).where(
        TemplateOverride.organisation_id == organisation_id, TemplateOverride.event_slug == event_slug,
        TemplateOverride.template == template))
    if override is None:
        raise ApiError(404, "not_found", "No override for this message type and event.")
    session.delete(override)


WordingKey = tuple[int | None, str | None, str]


def wording_key(message: Message) -> WordingKey:
    return message.organisation_id, message.event_slug, message.template


def wordings_for(session: Session, messages: Iterable[Message]) -> dict[WordingKey, Wording]:
    """The wording of every (organisation, event, template) among these messages.

    One query finds the organisers' overrides for the whole batch (a sender's batch shares few
    keys); keys without an override use the shipped wording.
    """
    keys = {wording_key(m) for m in messages}
    overridable = [key for key in keys if key[0] is not None and key[1]]
    overrides: dict[WordingKey, Wording] = {}
    if overridable:
        rows = session.scalars(select(TemplateOverride).where(
            TemplateOverride.organisation_id.in_({key[0] for key in overridable}),
            TemplateOverride.event_slug.in_({key[1] for key in overridable}),
            TemplateOverride.template.in_({key[2] for key in overridable})))
        overrides = {(o.organisation_id, o.event_slug, o.template): Wording(o.subject, o.text, o.html) for o in rows}
    return {key: overrides.get(key) or file_wording(key[2]) for key in keys}
