"""A local SMTP server that catches every mail, for ``make run`` and the tests.

Nothing the suite sends in development may reach a real inbox, yet developers need to read
the mails and tests need to assert on them and on the awkward cases (refused recipients,
temporary failures, a slow server). ``SmtpSink`` accepts mail on loopback and stores each
message as an ``.eml`` file in a mail directory, so another process can read them
(``read_maildir``, ``read_caught``); ``create_web_app`` shows that directory in a browser.

Each stored file is the message exactly as received (CRLF line ends), preceded by ``X-Sink-*``
trace headers holding the SMTP envelope (MAIL FROM, RCPT TO), the SMTP session number and the
arrival time, because the envelope (Bcc recipients, bounce address) is not in the message itself.
Parsed messages have LF line ends, like the ``EmailMessage`` that was sent.

``python -m devtools.smtp_sink`` runs the sink and the web view until SIGTERM/SIGINT.
"""
from __future__ import annotations

import argparse
import asyncio
import fnmatch
import hashlib
import io
import os
import re
import signal
import threading
import time
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any, cast

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from flask import Flask, Response, abort, jsonify, render_template, send_file
from jinja2 import DictLoader
from werkzeug.serving import BaseWSGIServer, make_server

from devtools.command_line import env, host_port

TRACE_RECEIVED = "X-Sink-Received-At"
TRACE_MAIL_FROM = "X-Sink-Mail-From"
TRACE_RCPT_TO = "X-Sink-Rcpt-To"
TRACE_SESSION = "X-Sink-Session"
TRACE_PEER = "X-Sink-Peer"

REJECT_REPLY = "550 5.1.1 Mailbox unavailable"
TEMPFAIL_REPLY = "451 4.3.0 Try again later"

_NAME = re.compile(r"^(?P<seq>\d{6,})-(?P<digest>[0-9a-f]{8})$")
_BRACKETED = re.compile(r"<([^<>]*)>")
_PARSER = BytesParser(policy=policy.default)


@dataclass(frozen=True)
class CaughtMail:
    """One stored message with its SMTP envelope, which tests need beside the headers."""

    name: str  # file stem, e.g. "000007-3fa9c2d1": arrival order, then a hash of the content
    path: Path
    received_at: datetime  # UTC
    mail_from: str  # "" for the null sender <>
    rcpt_tos: tuple[str, ...]
    session: int  # SMTP session number within the sink that stored it; 0 if unknown
    peer: str
    message: EmailMessage


# --- the mail directory -------------------------------------------------------------------

def _mail_paths(maildir: Path) -> dict[str, Path]:
    """Stored messages by name, in arrival order; temporary files and strangers are ignored."""
    try:
        entries = list(os.scandir(maildir))
    except FileNotFoundError:
        return {}
    found = []
    for entry in entries:
        stem, ext = os.path.splitext(entry.name)
        match = _NAME.match(stem)
        if ext == ".eml" and match and entry.is_file():
            found.append((int(match["seq"]), stem, Path(entry.path)))
    return {stem: path for _, stem, path in sorted(found)}


def _parse(data: bytes) -> EmailMessage:
    """Parse with LF line ends, as a Unix mailbox would: SMTP's CRLF would leak into text bodies."""
    return cast(EmailMessage, _PARSER.parsebytes(data.replace(b"\r\n", b"\n")))


def _trace_value(message: EmailMessage, name: str) -> str:
    value = message.get(name)
    return "" if value is None else str(value)


def _load(name: str, path: Path) -> CaughtMail | None:
    """Parse one stored file; None if it vanished meanwhile (``clear()`` in another thread)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    message = _parse(data)
    try:
        received_at = datetime.fromisoformat(_trace_value(message, TRACE_RECEIVED))
    except ValueError:  # dropped in by hand: no trace headers
        received_at = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    mail_from = _BRACKETED.findall(_trace_value(message, TRACE_MAIL_FROM))
    session = _trace_value(message, TRACE_SESSION)
    return CaughtMail(
        name=name,
        path=path,
        received_at=received_at,
        mail_from=mail_from[0] if mail_from else "",
        rcpt_tos=tuple(_BRACKETED.findall(_trace_value(message, TRACE_RCPT_TO))),
        session=int(session) if session.isdigit() else 0,
        peer=_trace_value(message, TRACE_PEER),
        message=message,
    )


def read_caught(maildir: str | os.PathLike[str]) -> list[CaughtMail]:
    """Every message in a mail directory with its envelope, oldest first."""
    loaded = (_load(name, path) for name, path in _mail_paths(Path(maildir)).items())
    return [mail for mail in loaded if mail is not None]


def read_maildir(maildir: str | os.PathLike[str]) -> list[EmailMessage]:
    """Every message in a mail directory, oldest first; works on another process' sink."""
    return [mail.message for mail in read_caught(maildir)]


def _trace_headers(mail_from: str, rcpt_tos: Iterable[str], session: int, peer: str,
                   received_at: datetime, linesep: str) -> bytes:
    """The envelope as header lines, RFC 2047-encoded if need be so the file stays parseable."""
    fold_policy = policy.SMTP.clone(linesep=linesep)
    fields = [
        (TRACE_RECEIVED, received_at.isoformat(timespec="milliseconds")),
        (TRACE_MAIL_FROM, f"<{mail_from}>"),
        (TRACE_RCPT_TO, ", ".join(f"<{address}>" for address in rcpt_tos)),
        (TRACE_SESSION, str(session)),
        (TRACE_PEER, peer),
    ]
    return "".join(
        fold_policy.header_factory(name, value).fold(policy=fold_policy) for name, value in fields
    ).encode("ascii")


# --- the SMTP server ----------------------------------------------------------------------

class _Controller(Controller):
    """aiosmtpd's Controller, able to listen on port 0 and failing fast when it cannot bind."""

    def _run(self, ready_event: threading.Event) -> None:
        try:
            super()._run(ready_event)
        finally:
            ready_event.set()  # a bind error otherwise shows only after ready_timeout

    def _trigger_server(self) -> None:
        if self._thread_exception is not None:
            raise self._thread_exception
        if self.port == 0 and self.server is not None:
            self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class _Handler:
    """aiosmtpd hooks; kept off SmtpSink so its public API holds no ``handle_*`` methods."""

    def __init__(self, sink: SmtpSink) -> None:
        self._sink = sink

    async def handle_HELO(self, server: SMTP, session: Session, envelope: Envelope, hostname: str) -> str:
        session.host_name = hostname
        self._sink._session_started(session)
        return f"250 {server.hostname}"

    async def handle_EHLO(self, server: SMTP, session: Session, envelope: Envelope, hostname: str,
                          responses: list[str]) -> list[str]:
        session.host_name = hostname
        self._sink._session_started(session)
        return responses

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        if self._sink._refuses(address):
            return REJECT_REPLY
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        tempfail, delay = self._sink._data_faults()
        if delay > 0:
            await asyncio.sleep(delay)
        if tempfail:
            return TEMPFAIL_REPLY
        name = self._sink._store(session, envelope)
        return f"250 2.0.0 OK queued as {name}"


class SmtpSink:
    """Catches mail on loopback into ``maildir``, with faults a test can switch on at run time.

    All methods and properties may be used from any thread while the sink runs.
    """

    def __init__(self, maildir: str | os.PathLike[str], port: int = 0, host: str = "127.0.0.1") -> None:
        self.maildir = Path(maildir)
        self.host = host
        self.port = port  # the real port once started when 0 was asked for; kept across restarts
        self._lock = threading.Lock()
        self._controller: _Controller | None = None
        self._seq = 0
        self._received: list[CaughtMail] = []
        self._sessions: weakref.WeakKeyDictionary[Session, int] = weakref.WeakKeyDictionary()
        self._session_serial = 0
        self._connection_count = 0
        self._reject: frozenset[str] = frozenset()
        self._tempfails = 0
        self._delay = 0.0

    # lifecycle

    def start(self) -> SmtpSink:
        if self._controller is not None:
            raise RuntimeError("SMTP sink already running")
        self.maildir.mkdir(parents=True, exist_ok=True)
        with self._lock:  # continue numbering after mail kept from earlier runs
            self._seq = max((int(name.split("-")[0]) for name in _mail_paths(self.maildir)), default=0)
        controller = _Controller(_Handler(self), hostname=self.host, port=self.port,
                                 server_hostname="smtp-sink")  # avoids a slow getfqdn()
        try:
            controller.start()
        except BaseException:
            if not controller.loop.is_closed():
                controller.loop.close()
            raise
        self.port = controller.port
        self._controller = controller
        return self

    def stop(self) -> None:
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._controller is not None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    # what arrived

    def messages(self) -> list[EmailMessage]:
        """Messages in the mail directory, oldest first, parsed with ``email.policy.default``."""
        return read_maildir(self.maildir)

    def caught(self) -> list[CaughtMail]:
        """Like ``messages()`` but with each message's envelope, session and file name."""
        return read_caught(self.maildir)

    @property
    def received(self) -> list[CaughtMail]:
        """What this sink itself stored since start or ``clear()``, without reading the directory."""
        with self._lock:
            return list(self._received)

    @property
    def connection_count(self) -> int:
        """SMTP sessions (connections that said HELO/EHLO) since start or ``clear()``."""
        with self._lock:
            return self._connection_count

    def clear(self) -> None:
        """Forget the mail (files included) and the connection count; faults stay as set."""
        with self._lock:
            for path in _mail_paths(self.maildir).values():
                path.unlink(missing_ok=True)
            self._received.clear()
            self._connection_count = 0

    def wait_for(self, count: int = 1, timeout: float = 5.0) -> list[EmailMessage]:
        """Messages once at least ``count`` are in the directory; mail is delivered asynchronously."""
        deadline = time.monotonic() + timeout
        while True:
            # Counting files is cheap; parsing them all on every poll would starve the sink itself.
            if len(_mail_paths(self.maildir)) < count and time.monotonic() < deadline:
                time.sleep(0.05)
                continue
            caught = self.caught()
            if len(caught) >= count:
                return [mail.message for mail in caught]
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"expected at least {count} mail(s) in {self.maildir} within {timeout}s, "
                    f"{len(caught)} arrived" + "".join(f"\n  {_describe(mail)}" for mail in caught)
                )
            time.sleep(0.05)

    # fault injection

    @property
    def reject_recipients(self) -> frozenset[str]:
        """fnmatch patterns (case-insensitive) of recipients refused at RCPT with 550 5.1.1."""
        with self._lock:
            return self._reject

    @reject_recipients.setter
    def reject_recipients(self, patterns: Iterable[str]) -> None:
        if isinstance(patterns, str):  # a bare string would become a set of characters
            patterns = [patterns]
        with self._lock:
            self._reject = frozenset(pattern.lower() for pattern in patterns)

    def tempfail_next(self, n: int = 1) -> None:
        """Answer the next ``n`` DATA commands with 451 4.3.0 and store nothing (replaces a pending count)."""
        if n < 0:
            raise ValueError("n must be >= 0")
        with self._lock:
            self._tempfails = n

    @property
    def tempfails_pending(self) -> int:
        with self._lock:
            return self._tempfails

    @property
    def delay_seconds(self) -> float:
        """Pause before answering each DATA, to look like a slow server (other sessions go on)."""
        with self._lock:
            return self._delay

    @delay_seconds.setter
    def delay_seconds(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("delay_seconds must be >= 0")
        with self._lock:
            self._delay = float(seconds)

    def reset_faults(self) -> None:
        with self._lock:
            self._reject = frozenset()
            self._tempfails = 0
            self._delay = 0.0

    # called from the SMTP thread by _Handler

    def _session_started(self, session: Session) -> None:
        with self._lock:
            if session not in self._sessions:  # a second EHLO on one connection is no new session
                self._session_serial += 1
                self._sessions[session] = self._session_serial
                self._connection_count += 1

    def _refuses(self, address: str) -> bool:
        address = address.lower()
        return any(fnmatch.fnmatchcase(address, pattern) for pattern in self.reject_recipients)

    def _data_faults(self) -> tuple[bool, float]:
        with self._lock:
            tempfail = self._tempfails > 0
            if tempfail:
                self._tempfails -= 1
            return tempfail, self._delay

    def _store(self, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content
        if content is None:
            content = envelope.content if isinstance(envelope.content, bytes) else b""
        linesep = "\r\n" if b"\r\n" in content else "\n"
        peer = session.peer
        peer_text = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer or "")
        now = datetime.now(UTC)
        received_at = now.replace(microsecond=now.microsecond // 1000 * 1000)  # as precise as the file
        with self._lock:  # numbering, file and list change together; clear() cannot interleave
            session_number = self._sessions.get(session, 0)
            data = _trace_headers(envelope.mail_from or "", envelope.rcpt_tos, session_number, peer_text,
                                  received_at, linesep) + content
            self._seq += 1
            name = f"{self._seq:06d}-{hashlib.sha256(content).hexdigest()[:8]}"
            path = self.maildir / f"{name}.eml"
            temporary = self.maildir / f".{name}.tmp"
            temporary.write_bytes(data)
            os.replace(temporary, path)  # readers never see half a message
            self._received.append(CaughtMail(
                name=name, path=path, received_at=received_at, mail_from=envelope.mail_from or "",
                rcpt_tos=tuple(envelope.rcpt_tos), session=session_number, peer=peer_text,
                message=_parse(data),
            ))
        return name


def _describe(mail: CaughtMail) -> str:
    return (f"{mail.name}  <{mail.mail_from}> -> {', '.join(mail.rcpt_tos) or '-'}: "
            f"{_trace_value(mail.message, 'Subject')!r}")


# --- the web view -------------------------------------------------------------------------

_CSS = """\
body { font: 15px/1.45 system-ui, sans-serif; margin: 0; color: #1d2430; background: #f5f6f8; }
header { background: #1d2430; color: #fff; padding: .7rem 1.5rem; display: flex; gap: 1rem; align-items: baseline; }
header a { color: #fff; font-weight: 600; text-decoration: none; }
main { padding: 1rem 1.5rem; max-width: 80rem; }
.muted { color: #7a8494; }
header .muted { color: #aab3c2; font-size: .85rem; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { text-align: left; padding: .45rem .7rem; border-bottom: 1px solid #e2e5ea; vertical-align: top; }
th { font-size: .8rem; text-transform: uppercase; letter-spacing: .04em; color: #5b6575; }
td.time { white-space: nowrap; font-variant-numeric: tabular-nums; }
dl.headers { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; background: #fff; padding: .8rem 1rem; }
dl.headers dt { font-weight: 600; color: #5b6575; }
dl.headers dd { margin: 0; overflow-wrap: anywhere; }
section { margin-top: 1.3rem; }
h2 { font-size: 1rem; margin: 0 0 .4rem; }
pre { background: #fff; padding: .8rem 1rem; white-space: pre-wrap; overflow-wrap: anywhere; margin: 0; }
iframe.html-part { width: 100%; height: 70vh; border: 1px solid #e2e5ea; background: #fff; }
ul.files { background: #fff; margin: 0; padding: .6rem 1rem .6rem 2rem; }
"""

_TEMPLATES = {
    "sink/base.html": """\
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="referrer" content="no-referrer">
<title>{% block title %}{% endblock %} · SMTP sink</title>
<link rel="stylesheet" href="{{ url_for('stylesheet') }}">
</head>
<body>
<header><a href="{{ url_for('index') }}">SMTP sink</a><span class="muted">{{ maildir }}</span></header>
<main>
{% block main %}{% endblock %}
</main>
</body>
</html>
""",
    "sink/index.html": """\
{% extends "sink/base.html" %}
{% block title %}Caught mail{% endblock %}
{% block main %}
{% if mails %}
<p class="muted">{{ mails|length }} message{{ "s" if mails|length != 1 }}, newest first.</p>
<table>
<thead><tr><th>Received</th><th>From</th><th>To</th><th>Subject</th></tr></thead>
<tbody>
{% for mail in mails %}
<tr>
<td class="time">{{ mail.received }}</td>
<td>{{ mail.from }}</td>
<td>{{ mail.to }}</td>
<td><a href="{{ url_for('message', name=mail.name) }}">{{ mail.subject or "(no subject)" }}</a></td>
</tr>
{% endfor %}
</tbody>
</table>
{% else %}
<p class="muted">No mail caught yet.</p>
{% endif %}
{% endblock %}
""",
    "sink/message.html": """\
{% extends "sink/base.html" %}
{% block title %}{{ subject or "(no subject)" }}{% endblock %}
{% block main %}
<dl class="headers">
{% for label, value in headers %}<dt>{{ label }}</dt><dd>{{ value }}</dd>
{% endfor %}
</dl>
<section>
<h2>Envelope</h2>
<dl class="headers">
<dt>MAIL FROM</dt><dd>&lt;{{ mail.mail_from }}&gt;</dd>
<dt>RCPT TO</dt><dd>{{ mail.rcpt_tos|join(", ") }}</dd>
<dt>Received</dt><dd>{{ received }} (session {{ mail.session }}, from {{ mail.peer }})</dd>
</dl>
</section>
{% if text is not none %}
<section>
<h2>Plain text</h2>
<pre>{{ text }}</pre>
</section>
{% endif %}
{% if html is not none %}
<section>
<h2>HTML</h2>
<iframe class="html-part" sandbox srcdoc="{{ html }}" title="HTML part"></iframe>
</section>
{% endif %}
<section>
<h2>Files</h2>
<ul class="files">
{% for file in attachments %}
<li><a href="{{ url_for('attachment', name=mail.name, index=file.index) }}">{{ file.filename }}</a>
<span class="muted">{{ file.content_type }}, {{ file.size }} bytes</span></li>
{% endfor %}
<li><a href="{{ url_for('raw', name=mail.name) }}">{{ mail.name }}.eml</a> <span class="muted">the raw message</span></li>
</ul>
</section>
{% endblock %}
""",
}

_SHOWN_HEADERS = ("From", "To", "Subject", "Date", "Message-ID")
_SHOWN_IF_PRESENT = ("Cc", "Reply-To", "List-Unsubscribe", "List-Unsubscribe-Post")


def _local_time(moment: datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _parts(message: EmailMessage) -> tuple[EmailMessage | None, EmailMessage | None, list[EmailMessage]]:
    """Plain-text body, HTML body, and every other leaf part (attachments, inline images, invites)."""
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    bodies = [part for part in (text, html) if part is not None]
    others = [part for part in message.walk()
              if not part.is_multipart() and not any(part is body for body in bodies)]
    return (cast(EmailMessage | None, text), cast(EmailMessage | None, html),
            cast(list[EmailMessage], others))


def _text_of(part: EmailMessage) -> str:
    """Decoded text, tolerating unknown charsets and bad bytes rather than failing the page."""
    try:
        content = part.get_content()
    except (LookupError, UnicodeError):
        content = None
    if isinstance(content, str):
        return content
    payload = part.get_payload(decode=True)
    return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""


def _payload(part: EmailMessage) -> bytes:
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def _summary(mail: CaughtMail) -> dict[str, Any]:
    message = mail.message
    return {
        "name": mail.name,
        "subject": _trace_value(message, "Subject"),
        "from": _trace_value(message, "From"),
        "to": _trace_value(message, "To") or ", ".join(mail.rcpt_tos),
        "message_id": _trace_value(message, "Message-ID"),
        "date": _trace_value(message, "Date"),
        "received_at": mail.received_at.isoformat(),
        "envelope_from": mail.mail_from,
        "envelope_to": list(mail.rcpt_tos),
        "session": mail.session,
    }


def create_web_app(maildir: str | os.PathLike[str]) -> Flask:
    """A browser view of a mail directory; it reads the files on each request, so any sink may fill it."""
    root = Path(maildir)
    app = Flask(__name__, static_folder=None)
    app.jinja_loader = DictLoader(_TEMPLATES)

    def find(name: str) -> CaughtMail:
        path = _mail_paths(root).get(name)  # only listed names: nothing outside the directory
        mail = _load(name, path) if path is not None else None
        if mail is None:
            abort(404)
        return mail

    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {"maildir": str(root)}

    @app.get("/sink.css")
    def stylesheet() -> Response:
        return Response(_CSS, mimetype="text/css")

    @app.get("/")
    def index() -> str:
        mails = [{**_summary(mail), "received": _local_time(mail.received_at)}
                 for mail in reversed(read_caught(root))]
        return render_template("sink/index.html", mails=mails)

    @app.get("/api/messages")
    def api_messages() -> Response:
        return jsonify([_summary(mail) for mail in reversed(read_caught(root))])

    @app.get("/messages/<name>")
    def message(name: str) -> str:
        mail = find(name)
        text, html, others = _parts(mail.message)
        headers = [(label, _trace_value(mail.message, label) or "—") for label in _SHOWN_HEADERS]
        headers += [(label, _trace_value(mail.message, label))
                    for label in _SHOWN_IF_PRESENT if label in mail.message]
        attachments = [
            {"index": index, "filename": part.get_filename() or f"part-{index}",
             "content_type": part.get_content_type(), "size": len(_payload(part))}
            for index, part in enumerate(others)
        ]
        return render_template(
            "sink/message.html", mail=mail, headers=headers, subject=_trace_value(mail.message, "Subject"),
            received=_local_time(mail.received_at), attachments=attachments,
            text=_text_of(text) if text is not None else None,
            html=_text_of(html) if html is not None else None,
        )

    @app.get("/messages/<name>.eml")
    def raw(name: str) -> Response:
        return send_file(find(name).path, mimetype="message/rfc822", as_attachment=True,
                         download_name=f"{name}.eml")

    @app.get("/messages/<name>/attachments/<int:index>")
    def attachment(name: str, index: int) -> Response:
        _, _, others = _parts(find(name).message)
        if index >= len(others):
            abort(404)
        part = others[index]
        return send_file(io.BytesIO(_payload(part)), mimetype=part.get_content_type(), as_attachment=True,
                         download_name=part.get_filename() or f"part-{index}")

    @app.after_request
    def _no_sniffing(response: Response) -> Response:
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    return app


class WebView:
    """``create_web_app`` served by werkzeug in a daemon thread, for the CLI and ``devtools.stack``."""

    def __init__(self, maildir: str | os.PathLike[str], port: int = 8025, host: str = "127.0.0.1") -> None:
        self.maildir = Path(maildir)
        self.host = host
        self.port = port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def start(self) -> WebView:
        if self._server is not None:
            raise RuntimeError("web view already running")
        self._server = make_server(self.host, self.port, create_web_app(self.maildir), threaded=True)
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, name="smtp-sink-web", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join()
            self._thread = None


# --- command line -------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Catch the suite's mail locally and show it in a browser.")
    parser.add_argument("--smtp", type=host_port, metavar="HOST:PORT",
                        default=f"{env('SMTP_HOST', '127.0.0.1')}:{env('SMTP_PORT', '1025')}",
                        help="SMTP listen address (default: $SMTP_HOST:$SMTP_PORT or 127.0.0.1:1025; port 0 = any)")
    parser.add_argument("--web", type=host_port, metavar="HOST:PORT", default=env("SMTP_SINK_WEB", "127.0.0.1:8025"),
                        help="web view address (default: $SMTP_SINK_WEB or 127.0.0.1:8025; port 0 = any)")
    parser.add_argument("--maildir", type=Path, default=Path(env("VAR_DIR", "var")) / "mail",
                        help="where messages are stored (default: $VAR_DIR/mail, VAR_DIR defaulting to ./var)")
    args = parser.parse_args(argv)

    stopping = threading.Event()

    def _stop(_signum: int, _frame: object) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    (smtp_host, smtp_port), (web_host, web_port) = args.smtp, args.web
    sink = SmtpSink(args.maildir, port=smtp_port, host=smtp_host).start()
    web = WebView(args.maildir, port=web_port, host=web_host)
    try:
        web.start()
        print(f"SMTP sink  smtp://{sink.address}", flush=True)
        print(f"web view   {web.url}", flush=True)
        print(f"mail dir   {args.maildir}", flush=True)
        while not stopping.wait(0.5):  # a signal may land in a server thread; polling still sees it
            pass
    finally:
        web.stop()
        sink.stop()


if __name__ == "__main__":
    main()
