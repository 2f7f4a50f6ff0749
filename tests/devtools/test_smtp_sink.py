"""The local SMTP sink: what the services' mail tests rely on, over real SMTP on loopback."""
from __future__ import annotations

import json
import re
import signal
import smtplib
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from devtools.smtp_sink import SmtpSink, create_web_app, read_caught, read_maildir

ICS = (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//tests//EN\r\nBEGIN:VEVENT\r\nUID:1@tests\r\n"
       b"DTSTART:20270310T090000Z\r\nSUMMARY:Imaging symposium\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[SmtpSink]:
    with SmtpSink(tmp_path / "mail") as running:
        yield running


@pytest.fixture
def web(sink: SmtpSink) -> FlaskClient:
    return create_web_app(sink.maildir).test_client()


def invitation(to: str = "dr.ada@example.org", subject: str = "Your registration") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Conference <noreply@conference.example>"
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = "<reg-42@conference.example>"
    message["List-Unsubscribe"] = "<https://conference.example/unsubscribe/42>"
    message.set_content("Dear Ada,\nyou are registered.\n")
    message.add_alternative('<p class="x">Dear <b>Ada</b> & "friends"</p><script>alert(1)</script>', subtype="html")
    message.add_attachment(ICS, maintype="text", subtype="calendar", filename="symposium.ics")
    return message


def send(sink: SmtpSink, *messages: EmailMessage, **kwargs: object) -> None:
    with smtplib.SMTP(sink.host, sink.port, timeout=10) as client:
        for message in messages:
            client.send_message(message, **kwargs)  # type: ignore[arg-type]


def test_multipart_message_is_stored_as_eml_and_parsed_back(sink: SmtpSink) -> None:
    assert sink.port != 0
    send(sink, invitation(), to_addrs=["dr.ada@example.org", "hidden@example.org"])

    [message] = sink.wait_for(1)
    assert message["Subject"] == "Your registration"
    assert message.get_body(("plain",)).get_content() == "Dear Ada,\nyou are registered.\n"
    assert "<b>Ada</b>" in message.get_body(("html",)).get_content()
    [attachment] = message.iter_attachments()
    assert attachment.get_filename() == "symposium.ics"
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_payload(decode=True) == ICS

    [file] = sink.maildir.iterdir()
    assert re.fullmatch(r"\d{6}-[0-9a-f]{8}\.eml", file.name)
    assert [m["Message-ID"] for m in read_maildir(sink.maildir)] == ["<reg-42@conference.example>"]
    [caught] = read_caught(sink.maildir)
    assert caught.name == file.stem
    assert caught.mail_from == "noreply@conference.example"
    assert caught.rcpt_tos == ("dr.ada@example.org", "hidden@example.org")
    assert [mail.name for mail in sink.received] == [caught.name]


def test_web_view_lists_and_shows_the_message(sink: SmtpSink, web: FlaskClient) -> None:
    send(sink, invitation(subject="Older"))
    send(sink, invitation(subject="Newer <3"))
    sink.wait_for(2)
    older, newer = sink.caught()

    listing = web.get("/").get_data(as_text=True)
    assert listing.index("Newer &lt;3") < listing.index("Older")
    assert f'href="/messages/{newer.name}"' in listing
    assert "dr.ada@example.org" in listing

    api = web.get("/api/messages").get_json()
    assert [item["subject"] for item in api] == ["Newer <3", "Older"]
    assert api[1] == {**api[1], "name": older.name, "to": "dr.ada@example.org",
                      "from": "Conference <noreply@conference.example>", "message_id": "<reg-42@conference.example>"}
    assert api[1]["date"] == ""

    page = web.get(f"/messages/{newer.name}")
    assert page.status_code == 200
    detail = page.get_data(as_text=True)
    assert "https://conference.example/unsubscribe/42" in detail
    assert "&lt;reg-42@conference.example&gt;" in detail
    assert "<pre>Dear Ada,\nyou are registered.\n</pre>" in detail
    srcdoc = re.search(r'<iframe class="html-part" sandbox srcdoc="([^"]*)"', detail)
    assert srcdoc and "&lt;script&gt;" in srcdoc.group(1) and "&#34;friends&#34;" in srcdoc.group(1)
    assert "<script>" not in detail and "style=" not in detail
    assert f'href="/messages/{newer.name}/attachments/0">symposium.ics</a>' in detail

    download = web.get(f"/messages/{newer.name}/attachments/0")
    assert download.status_code == 200
    assert download.data == ICS
    assert download.mimetype == "text/calendar"
    assert "attachment" in download.headers["Content-Disposition"]

    with web.get(f"/messages/{newer.name}.eml") as raw:
        assert raw.status_code == 200
        assert raw.data == newer.path.read_bytes()
    assert web.get("/sink.css").mimetype == "text/css"


@pytest.mark.parametrize("path", [
    "/messages/..",
    "/messages/../secret",
    "/messages/..%2Fsecret",
    "/messages/%2E%2E%2Fsecret.eml",
    "/messages/..%2Fsecret/attachments/0",
    "/messages/.000001-00000000.tmp",
    "/messages/000099-deadbeef",
    "/messages/000099-deadbeef.eml",
    "/messages/notes",
])
def test_web_view_serves_only_listed_messages(sink: SmtpSink, web: FlaskClient, path: str) -> None:
    (sink.maildir.parent / "secret.eml").write_text("Subject: secret\n\nsecret\n")
    (sink.maildir / "notes.eml").write_text("Subject: not a caught mail\n\n")
    (sink.maildir / ".000001-00000000.tmp").write_text("Subject: half written\n\n")
    assert web.get(path).status_code == 404


def test_attachment_index_out_of_range_is_404(sink: SmtpSink, web: FlaskClient) -> None:
    send(sink, invitation())
    [caught] = sink.caught()
    assert web.get(f"/messages/{caught.name}/attachments/1").status_code == 404


def test_rejected_recipient_gets_550_at_rcpt(sink: SmtpSink) -> None:
    sink.reject_recipients = {"*@blocked.example"}
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(sink, invitation(to="Someone@BLOCKED.example"))
    assert refused.value.recipients == {"Someone@BLOCKED.example": (550, b"5.1.1 Mailbox unavailable")}

    with smtplib.SMTP(sink.host, sink.port, timeout=10) as client:
        partly = client.send_message(invitation(), to_addrs=["ok@example.org", "no@blocked.example"])
    assert partly == {"no@blocked.example": (550, b"5.1.1 Mailbox unavailable")}
    [caught] = sink.caught()
    assert caught.rcpt_tos == ("ok@example.org",)


def test_tempfail_next_fails_data_once_and_stores_nothing(sink: SmtpSink) -> None:
    sink.tempfail_next(1)
    with smtplib.SMTP(sink.host, sink.port, timeout=10) as client:
        with pytest.raises(smtplib.SMTPDataError) as failed:
            client.send_message(invitation(subject="first try"))
        assert failed.value.smtp_code == 451
        assert failed.value.smtp_error == b"4.3.0 Try again later"
        assert sink.messages() == []
        client.send_message(invitation(subject="second try"))
    assert [m["Subject"] for m in sink.wait_for(1)] == ["second try"]
    assert sink.tempfails_pending == 0


def test_batch_over_one_connection_counts_one_connection(sink: SmtpSink) -> None:
    send(sink, invitation(subject="one"), invitation(subject="two"))
    assert sink.connection_count == 1
    assert len({mail.session for mail in sink.caught()}) == 1

    send(sink, invitation(subject="three"))
    assert sink.connection_count == 2
    assert [mail.session for mail in sink.caught()] == [1, 1, 2]

    sink.clear()
    assert sink.connection_count == 0
    assert sink.messages() == [] and sink.received == [] and list(sink.maildir.iterdir()) == []


def test_delay_seconds_slows_the_data_reply(sink: SmtpSink) -> None:
    sink.delay_seconds = 0.3
    started = time.monotonic()
    send(sink, invitation())
    assert time.monotonic() - started >= 0.3
    sink.reset_faults()
    assert sink.delay_seconds == 0 and sink.reject_recipients == frozenset()


def test_wait_for_reports_what_arrived(sink: SmtpSink) -> None:
    send(sink, invitation(subject="the only one"))
    with pytest.raises(AssertionError, match=r"(?s)at least 2 mail.*1 arrived.*'the only one'"):
        sink.wait_for(2, timeout=0.2)


def test_numbering_continues_across_restarts(tmp_path: Path) -> None:
    with SmtpSink(tmp_path) as first:
        send(first, invitation(subject="before"))
    with SmtpSink(tmp_path, port=first.port) as second:
        send(second, invitation(subject="after"))
    assert [name.split("-")[0] for name in (m.name for m in read_caught(tmp_path))] == ["000001", "000002"]
    assert [m["Subject"] for m in read_maildir(tmp_path)] == ["before", "after"]


def test_command_line_runs_until_sigterm(tmp_path: Path) -> None:
    maildir = tmp_path / "mail"
    with subprocess.Popen(
        [sys.executable, "-m", "devtools.smtp_sink", "--smtp", "127.0.0.1:0", "--web", "127.0.0.1:0",
         "--maildir", str(maildir)],
        stdout=subprocess.PIPE, text=True,
    ) as process:
        try:
            assert process.stdout is not None
            smtp_line, web_line = process.stdout.readline(), process.stdout.readline()
            smtp = re.search(r"smtp://127\.0\.0\.1:(\d+)", smtp_line)
            web = re.search(r"(http://127\.0\.0\.1:\d+/)", web_line)
            assert smtp and web, (smtp_line, web_line)
            with smtplib.SMTP("127.0.0.1", int(smtp.group(1)), timeout=10) as client:
                client.send_message(invitation(subject="via the CLI"))
            with urllib.request.urlopen(web.group(1) + "api/messages", timeout=10) as response:
                assert [item["subject"] for item in json.load(response)] == ["via the CLI"]
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=10) == 0
        finally:
            if process.poll() is None:  # a failed assertion must not leave it running
                process.kill()
