"""Messages about one person: exported on request, and erased (unsent ones cancelled, sent ones
kept only as a record that a message of that type went out, without address or content)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from suite_common.db import utcnow

from ..models import Message, MessageStatus

ERASED = "erased@erased.invalid"


def _messages(session: Session, organisation_id: int, email: str) -> list[Message]:
    return list(session.scalars(select(Message).where(
        Message.organisation_id == organisation_id, func.lower(Message.recipient) == email.strip().lower())
        .order_by(Message.id)))


def export(session: Session, organisation_id: int, email: str) -> dict[str, Any]:
    return {"messages": [{
        "template": m.template, "to": m.recipient, "status": m.status, "created_at": m.created_at.isoformat(),
        "sent_at": m.sent_at.isoformat() if m.sent_at else None, "event": m.event_slug, "context": m.context,
    } for m in _messages(session, organisation_id, email)]}


def erase(session: Session, organisation_id: int, email: str) -> tuple[dict[str, Any], list[dict[str, str]]]:
    found = _messages(session, organisation_id, email)
    for message in found:
        if message.status == MessageStatus.QUEUED:
            message.status = MessageStatus.CANCELLED
        message.recipient = ERASED
        message.context = {}
        message.attachments = []
        message.unsubscribe_url = None
        message.updated_at = utcnow()
    return {"messages_anonymised": len(found)}, []
