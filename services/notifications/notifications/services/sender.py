"""Sending due messages over SMTP, once.

A sender claims a batch of due messages (``FOR UPDATE SKIP LOCKED`` on PostgreSQL,
SQLite's write lock otherwise), marks them ``sending`` with a lease and keeps the rows
it loaded; it builds the batch's mails (the organisers' wording looked up once per
batch), sends them over one SMTP connection and records each outcome as soon as the
server answers, a success with one UPDATE. A message whose lease ran out while
``sending`` (its sender died) is claimed again; a sender whose own lease ran out
stops sending its batch, since another may have claimed it. Between the server's
"250 OK" and the commit that records it lies the only window in which a crash can
repeat a mail; the repeat carries the same Message-ID, which mail clients use to
show it once.

Temporary failures (connection refused, 4xx) retry with exponential backoff and
jitter; permanent ones (5xx, an address that cannot be parsed) fail at once with
the server's reason.
"""
from __future__ import annotations

import base64
import datetime as dt
import functools
import io
import logging
import smtplib
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from email import encoders, policy
from email.header import Header
from email.message import Message as Mail
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr, parseaddr

from PIL import Image, UnidentifiedImageError
from sqlalchemy import bindparam, or_, select, update

from suite_common.branding import Branding, Logo
from suite_common.db import Database, is_postgresql, utcnow
from suite_common.outbox import backoff
from suite_common.settings import SmtpSettings

from ..models import Message, MessageStatus
from .messages import WordingKey, wording_key, wordings_for
from .rendering import HeaderLogo, RenderError, Wording, render

log = logging.getLogger(__name__)


class PermanentFailure(Exception):
    """Retrying cannot help: the message is marked failed with this reason."""


# The largest box the society's logo is drawn in at the top of a mail (CSS pixels, aspect kept); the
# file itself travels as registration took it (PNG or JPEG, at most 512 KB and 2000 pixels a side).
LOGO_MAX_WIDTH, LOGO_MAX_HEIGHT = 200, 60


@functools.lru_cache(maxsize=64)
def header_logo(logo: Logo, mail_domain: str) -> HeaderLogo | None:
    """Where and how large the HTML shows ``logo``: its Content-ID comes from the logo's own hash, so a
    retried mail (same Message-ID) points at the same part, and a changed logo never reuses an old id.
    Only the image's header is read (Pillow does not decode here); the sender's branding cache hands
    the same ``Logo`` to a whole batch, so this runs once per logo. A logo Pillow cannot read (registration
    checked it when it was uploaded) is left out rather than failing the mail."""
    try:
        with Image.open(io.BytesIO(logo.data), formats=["PNG", "JPEG"]) as image:
            width, height = image.size
    except (UnidentifiedImageError, OSError, ValueError):
        log.warning("logo unreadable, mail sent without it", extra={"logo_version": logo.version})
        return None
    if width < 1 or height < 1:
        return None
    scale = min(1.0, LOGO_MAX_WIDTH / width, LOGO_MAX_HEIGHT / height)
    return HeaderLogo(f"logo.{logo.version}@{mail_domain}", max(1, round(width * scale)),
                      max(1, round(height * scale)))


def _logo_part(logo: Logo, shown: HeaderLogo) -> MIMEBase:
    """The logo as an inline part of the HTML's multipart/related: clients that block remote images
    still show it, and no image server learns who opened the mail."""
    maintype, _, subtype = logo.content_type.partition("/")
    part = MIMEBase(maintype, subtype)
    part.set_payload(logo.data)
    encoders.encode_base64(part)
    part.add_header("Content-ID", f"<{shown.content_id}>")
    part.add_header("Content-Disposition", "inline", filename="logo.jpg" if subtype == "jpeg" else "logo.png")
    return part


def build_email(message: Message, wording: Wording, settings: SmtpSettings, branding: Branding | None = None,
                logo: Logo | None = None) -> Mail:
    """The mail as MIME, built with ``email.mime`` (compat32 headers).

    The ``EmailMessage`` API parses every header it is given and re-encodes each part, which made
    building a mail cost more than sending it; here headers are set as they are (RFC 2047 only
    for non-ASCII text) and the recipient, already validated when the message was accepted, is
    still parsed once so a bad address fails permanently. With the society's ``branding`` the mail
    carries its name (also as the From display name; the address stays the suite's, which SPF and
    DKIM vouch for) and its reply-to address; with its ``logo`` the HTML becomes a multipart/related
    whose header shows the logo from an inline part (``cid:``). The plain text stays text.
    """
    shown = (header_logo(logo, settings.mail_domain)
             if logo is not None and branding is not None and branding.display_name else None)
    try:
        rendered = render(wording, message.context, _sender_name(settings.mail_from), message.language, branding,
                          shown)
    except RenderError as exc:
        raise PermanentFailure(f"template does not render: {exc}") from exc
    try:
        policy.default.header_factory("To", message.recipient)  # the check EmailMessage made
    except (ValueError, IndexError) as exc:
        raise PermanentFailure(f"invalid address: {exc}") from exc
    email: Mail = MIMEMultipart("alternative")
    email.attach(MIMEText(rendered.text, "plain", "utf-8"))
    html: Mail = MIMEText(rendered.html, "html", "utf-8")
    if logo is not None and shown is not None:
        html = MIMEMultipart("related", _subparts=[html, _logo_part(logo, shown)], type="text/html")
    email.attach(html)
    if message.attachments:
        email = MIMEMultipart("mixed", _subparts=[email])
        for attachment in message.attachments:
            maintype, _, subtype = attachment["content_type"].partition("/")
            part = MIMEBase(maintype, subtype, **({"method": attachment["method"]} if attachment.get("method") else {}))
            part.set_payload(base64.b64decode(attachment["content_base64"]))
            encoders.encode_base64(part)
            part.add_header("Content-Disposition", "attachment", filename=attachment["filename"])
            email.attach(part)
    email["Subject"] = _header_text(rendered.subject)
    email["From"] = _from_header(settings.mail_from, branding.display_name if branding else None)
    if branding is not None and branding.reply_to:
        email["Reply-To"] = _header_text(branding.reply_to)
    email["To"] = _header_text(message.recipient)
    email["Date"] = format_datetime(utcnow())
    email["Message-ID"] = message.message_id
    email["Auto-Submitted"] = "auto-generated"
    if message.unsubscribe_url:
        email["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
        email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return email


def _header_text(value: str) -> str | Header:
    return value if value.isascii() else Header(value, "utf-8")


@functools.cache
def _sender_name(mail_from: str) -> str:
    return parseaddr(mail_from)[0] or mail_from


@functools.cache
def _from_header(mail_from: str, display_name: str | None = None) -> str:
    name, address = parseaddr(mail_from)
    return formataddr((display_name or name, address), "utf-8")


_WIRE = policy.compat32.clone(linesep="\r\n")


def wire_bytes(email: Mail) -> bytes:
    """The mail as sent: CRLF line ends, compat32 folding (no header is parsed again)."""
    return email.as_bytes(policy=_WIRE)


def send_mail(smtp: smtplib.SMTP, from_addr: str, recipient: str, email: Mail) -> None:
    """One mail over an open connection. A non-ASCII address needs the server's SMTPUTF8; a server
    without it refuses the mail permanently (its To header carries the address RFC 2047-encoded)."""
    options = () if recipient.isascii() else ("SMTPUTF8",)
    smtp.sendmail(from_addr, [recipient], wire_bytes(email), mail_options=options)


def _addr(value: str) -> str:
    return value.rsplit("<", 1)[-1].rstrip(">").strip()


_MARK_SENT = (
    update(Message)
    .where(Message.id == bindparam("pk"), Message.status == MessageStatus.SENDING)
    .values(status=MessageStatus.SENT, sent_at=bindparam("at"), updated_at=bindparam("at"),
            attempts=Message.attempts + 1, claimed_until=None, last_error=None)
)


@dataclass
class Batch:
    """Claimed messages, loaded by the claim, with the wording of each (organisation, event, template)."""

    messages: list[Message]
    wordings: dict[WordingKey, Wording]
    lease_until: dt.datetime


class Sender:
    def __init__(self, database: Database, settings: SmtpSettings, batch_size: int = 50,
                 branding: Callable[[int], Branding | None] | None = None,
                 logo: Callable[[int], Logo | None] | None = None) -> None:
        self.database = database
        self.settings = settings
        # The society's look and logo per organisation (registration's, cached): None sends mails unbranded.
        self.branding = branding
        self.logo = logo
        self.batch_size = batch_size
        self.stopping = threading.Event()

    def claim(self) -> Batch:
        now = utcnow()
        lease_until = now + dt.timedelta(seconds=self.settings.lease_seconds)
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
                message.claimed_until = lease_until
            wordings = wordings_for(session, messages) if messages else {}
        return Batch(messages, wordings, lease_until)

    def _connect(self) -> smtplib.SMTP:
        smtp = smtplib.SMTP(self.settings.host, self.settings.port, timeout=self.settings.timeout)
        if self.settings.starttls:
            smtp.starttls(context=ssl.create_default_context())
        if self.settings.username:
            smtp.login(self.settings.username, self.settings.password or "")
        return smtp

    def _record_sent(self, message_id: int) -> None:
        """The common outcome in one statement, no row loaded.

        On PostgreSQL this commit does not wait for the WAL flush (``synchronous_commit`` off for
        this transaction only): a sender that dies still leaves it recorded, and only a crash of
        the database server within its flush interval (well under a second) can forget it, so that
        the mail is sent again with the same Message-ID. Waiting for the flush would cost more than
        sending the mail.
        """
        now = utcnow()
        with self.database.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
            connection.execute(_MARK_SENT, {"pk": message_id, "at": now})

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
            if status == MessageStatus.QUEUED and message.attempts >= self.settings.max_attempts:
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

    def _build(self, batch: Batch) -> list[tuple[Message, Mail]]:
        """The batch's mails, built before connecting; a message that cannot be built fails here."""
        built = []
        for message in batch.messages:
            try:
                organisation_id = message.organisation_id
                branding = (self.branding(organisation_id)
                            if self.branding is not None and organisation_id is not None else None)
                logo = (self.logo(organisation_id)
                        if self.logo is not None and branding is not None and branding.has_logo
                        and organisation_id is not None else None)
                built.append((message, build_email(message, batch.wordings[wording_key(message)], self.settings,
                                                   branding, logo)))
            except PermanentFailure as exc:
                self._record(message.id, MessageStatus.FAILED, str(exc))
        return built

    def send_batch(self, batch: Batch) -> int:
        """Sends the claimed messages over one connection; returns how many were sent."""
        built = self._build(batch)
        if not built:
            return 0
        ids = [message.id for message, _ in built]
        try:
            smtp = self._connect()
        except (OSError, smtplib.SMTPException) as exc:
            self._release(ids, f"cannot connect to SMTP server: {exc}")
            return 0
        from_addr = _addr(self.settings.mail_from)
        sent = 0
        try:
            for index, (message, email) in enumerate(built):
                if self.stopping.is_set():
                    self._unclaim(ids[index:])
                    break
                if utcnow() >= batch.lease_until:  # another sender may have claimed the rest meanwhile
                    break
                try:
                    send_mail(smtp, from_addr, message.recipient, email)
                except smtplib.SMTPRecipientsRefused as exc:
                    code, reason = next(iter(exc.recipients.values()))
                    self._classify(message.id, code, reason)
                except smtplib.SMTPResponseException as exc:
                    self._classify(message.id, exc.smtp_code, exc.smtp_error)
                    if exc.smtp_code == 421:  # the server is closing the connection
                        self._release(ids[index + 1:], "SMTP server closed the connection")
                        break
                except (OSError, smtplib.SMTPException) as exc:
                    self._release(ids[index:], f"SMTP connection lost: {exc}")
                    break
                else:
                    self._record_sent(message.id)
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
