"""Sending due messages over SMTP, once.

A sender claims a batch of due messages (``FOR UPDATE SKIP LOCKED`` on PostgreSQL,
SQLite's write lock otherwise), marks them ``sending`` with a lease, sends them over
one SMTP connection and records each outcome as soon as the server answers. A
message whose lease ran out while ``sending`` (its sender died) is claimed again.
Between the server's "250 OK" and the commit that records it lies the only window
in which a crash can repeat a mail; the repeat carries the same Message-ID, which
mail clients use to show it once.

Temporary failures (connection refused, 4xx) retry with exponential backoff and
jitter; permanent ones (5xx, an address that cannot be parsed) fail at once with
the server's reason.
"""
from __future__ import annotations

import base64
import datetime as dt
import logging
import smtplib
import ssl
import threading
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from suite_common.db import Database, is_postgresql, utcnow
from suite_common.outbox import backoff

from ..models import Message, MessageStatus
from .messages import wording_for
from .rendering import RenderError, render

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class SmtpSettings:
    host: str = "127.0.0.1"
    port: int = 1025
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout: float = 30.0
    mail_from: str = "Imaging Events <no-reply@localhost>"
    max_attempts: int = 12
    # How long a claimed message stays with its sender; after that a sender that died is assumed gone.
    lease_seconds: float = 120.0


class PermanentFailure(Exception):
    """Retrying cannot help: the message is marked failed with this reason."""


def build_email(session: Session, message: Message, settings: SmtpSettings) -> EmailMessage:
    sender_name = Address(addr_spec=_addr(settings.mail_from)).display_name or settings.mail_from
    try:
        rendered = render(wording_for(session, message), message.context, sender_name)
    except RenderError as exc:
        raise PermanentFailure(f"template does not render: {exc}") from exc
    email = EmailMessage()
    email["Subject"] = rendered.subject
    email["From"] = settings.mail_from
    try:
        email["To"] = message.recipient
    except (ValueError, IndexError) as exc:
        raise PermanentFailure(f"invalid address: {exc}") from exc
    email["Date"] = format_datetime(utcnow())
    email["Message-ID"] = message.message_id
    email["Auto-Submitted"] = "auto-generated"
    if message.unsubscribe_url:
        email["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
        email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    email.set_content(rendered.text)
    email.add_alternative(rendered.html, subtype="html")
    for attachment in message.attachments:
        maintype, _, subtype = attachment["content_type"].partition("/")
        params = {"method": attachment["method"]} if attachment.get("method") else {}
        email.add_attachment(base64.b64decode(attachment["content_base64"]), maintype=maintype, subtype=subtype,
                             filename=attachment["filename"], params=params)
    return email


def _addr(value: str) -> str:
    return value.rsplit("<", 1)[-1].rstrip(">").strip()


class Sender:
    def __init__(self, database: Database, settings: SmtpSettings, batch_size: int = 50) -> None:
        self.database = database
        self.settings = settings
        self.batch_size = batch_size
        self.stopping = threading.Event()

    def claim(self) -> list[int]:
        now = utcnow()
        with self.database.session_scope() as session:
            query = (
                select(Message)
                .where(or_(
                    (Message.status == MessageStatus.QUEUED) & (Message.next_attempt_at <= now),
                    (Message.status == MessageStatus.SENDING) & (Message.claimed_until < now),
                ))
                .order_by(Message.next_attempt_at, Message.id)
                .limit(self.batch_size)
            )
            if is_postgresql(session):
                query = query.with_for_update(skip_locked=True)
            messages = list(session.scalars(query))
            for message in messages:
                message.status = MessageStatus.SENDING
                message.claimed_until = now + dt.timedelta(seconds=self.settings.lease_seconds)
            return [m.id for m in messages]

    def _connect(self) -> smtplib.SMTP:
        smtp = smtplib.SMTP(self.settings.host, self.settings.port, timeout=self.settings.timeout)
        if self.settings.starttls:
            smtp.starttls(context=ssl.create_default_context())
        if self.settings.username:
            smtp.login(self.settings.username, self.settings.password or "")
        return smtp

    def _record(self, message_id: int, status: MessageStatus, error: str | None = None) -> None:
        with self.database.session_scope() as session:
            message = session.get(Message, message_id)
            if message is None or message.status != MessageStatus.SENDING:
                return
            now = utcnow()
            message.attempts += 1
            message.claimed_until = None
            message.last_error = error
            message.updated_at = now
            if status == MessageStatus.SENT:
                message.status, message.sent_at = MessageStatus.SENT, now
            elif status == MessageStatus.QUEUED and message.attempts >= self.settings.max_attempts:
                message.status = MessageStatus.FAILED
                message.last_error = f"gave up after {message.attempts} attempts; last error: {error}"
            else:
                message.status = status
                if status == MessageStatus.QUEUED:
                    message.next_attempt_at = now + backoff(message.attempts)
        if status == MessageStatus.FAILED:
            log.warning("message failed", extra={"message_pk": message_id, "reason": error})

    def _unclaim(self, ids: list[int]) -> None:
        """Hands untried messages back at once, without counting an attempt."""
        with self.database.session_scope() as session:
            session.execute(update(Message).where(Message.id.in_(ids), Message.status == MessageStatus.SENDING)
                            .values(status=MessageStatus.QUEUED, claimed_until=None))

    def _release(self, ids: list[int], error: str) -> None:
        for message_id in ids:
            self._record(message_id, MessageStatus.QUEUED, error)

    def send_batch(self, ids: list[int]) -> int:
        """Sends the claimed messages over one connection; returns how many were sent."""
        if not ids:
            return 0
        try:
            smtp = self._connect()
        except (OSError, smtplib.SMTPException) as exc:
            self._release(ids, f"cannot connect to SMTP server: {exc}")
            return 0
        sent = 0
        try:
            for index, message_id in enumerate(ids):
                if self.stopping.is_set():
                    self._unclaim(ids[index:])
                    break
                try:
                    with self.database.session_scope() as session:
                        message = session.get(Message, message_id)
                        if message is None or message.status != MessageStatus.SENDING:
                            continue
                        email = build_email(session, message, self.settings)
                    smtp.send_message(email, from_addr=_addr(self.settings.mail_from), to_addrs=[message.recipient])
                except PermanentFailure as exc:
                    self._record(message_id, MessageStatus.FAILED, str(exc))
                except smtplib.SMTPRecipientsRefused as exc:
                    code, reason = next(iter(exc.recipients.values()))
                    self._classify(message_id, code, reason)
                except smtplib.SMTPResponseException as exc:
                    self._classify(message_id, exc.smtp_code, exc.smtp_error)
                    if exc.smtp_code == 421:  # the server is closing the connection
                        self._release(ids[index + 1:], "SMTP server closed the connection")
                        break
                except (OSError, smtplib.SMTPException) as exc:
                    self._release(ids[index:], f"SMTP connection lost: {exc}")
                    break
                else:
                    self._record(message_id, MessageStatus.SENT)
                    sent += 1
        finally:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()
        return sent

    def _classify(self, message_id: int, code: int, reason: bytes | str) -> None:
        text = reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)
        error = f"{code} {text}"
        self._record(message_id, MessageStatus.FAILED if code >= 500 else MessageStatus.QUEUED, error)

    def run_once(self) -> int:
        return self.send_batch(self.claim())

    def run_forever(self, idle_seconds: float = 0.5) -> None:
        while not self.stopping.is_set():
            try:
                busy = self.run_once()
            except Exception:  # a database hiccup must not end the loop; logged, retried next pass
                log.exception("send pass failed")
                busy = 0
            if not busy:
                self.stopping.wait(idle_seconds)
