"""Messages about one person: exported on request, and erased (unsent ones cancelled, sent ones
kept only as a record that a message of that type went out, without address or content); the
same anonymisation for every message once the message retention period has passed."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from suite_common.db import utcnow
from suite_common.emails import stored_spellings
from suite_common.retention import purge_expired
from suite_common.settings import RetentionPeriods

from ..models import Message, MessageStatus, SeenSignature

ERASED = "erased@erased.invalid"


def _messages(session: Session, organisation_id: int, email: str) -> list[Message]:
    return list(session.scalars(select(Message).where(
        Message.organisation_id == organisation_id, func.lower(Message.recipient).in_(stored_spellings(email)))
        .order_by(Message.id)))


def export(session: Session, organisation_id: int, email: str) -> dict[str, Any]:
    return {"messages": [{
        "template": m.template, "to": m.recipient, "status": m.status, "created_at": m.created_at.isoformat(),
        "sent_at": m.sent_at.isoformat() if m.sent_at else None, "event": m.event_slug, "context": m.context,
    } for m in _messages(session, organisation_id, email)]}


def erase(session: Session, organisation_id: int, email: str) -> tuple[dict[str, Any], list[dict[str, str]]]:
    found = _messages(session, organisation_id, email)
    now = utcnow()
    for message in found:
        if message.status == MessageStatus.QUEUED:
            message.status = MessageStatus.CANCELLED
        anonymise(message, now)
    return {"messages_anonymised": len(found)}, []


def anonymise(message: Message, now: dt.datetime) -> None:
    """Keeps only that a message of this template went out (or did not), and when."""
    message.recipient = ERASED
    message.context = {}
    message.attachments = []
    message.unsubscribe_url = None
    message.updated_at = now


def purge(session: Session, now: dt.datetime, periods: RetentionPeriods) -> dict[str, int]:
    """Retention: messages settled (sent, failed or cancelled) more than the message period ago lose
    their address and content, as by erasure; their idempotency keys stay, so a late repeat of a
    request is still recognised and never mailed twice."""
    settled = session.scalars(select(Message).where(
        Message.status.in_((MessageStatus.SENT, MessageStatus.FAILED, MessageStatus.CANCELLED)),
        Message.updated_at < now - periods.messages, Message.recipient != ERASED))
    anonymised = 0
    for message in settled:
        anonymise(message, now)
        anonymised += 1
    return {"messages_anonymised": anonymised, "seen_signatures_deleted": purge_expired(session, SeenSignature, now)}
