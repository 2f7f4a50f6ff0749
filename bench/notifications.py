"""Notifications: 10,000 messages queued, then delivered by the sender to a local SMTP sink.

The notifications service's own code on a fresh PostgreSQL schema: messages are queued through the
service layer (``messages.accept``, the body of ``POST /internal/v1/messages``), each a
"registration confirmed" mail with its calendar file, as registration sends them; then
``Sender.run_once`` (the loop of ``flask --app notifications worker``) claims batches and delivers
them over SMTP to bench/count_sink.py, an aiosmtpd sink in its own process that only counts.

Baseline: the same mails (``build_email`` of the same rows, built beforehand; flattened by
``wire_bytes`` inside the timed loop, as the sender does) sent with raw smtplib over one connection
to the same sink. Target: the sender's rate >= 0.5x the raw rate.

    python bench/notifications.py [--quick] [--count N] [--profile]
"""
from __future__ import annotations

import argparse
import base64
import dataclasses
import multiprocessing
import os
import smtplib
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path[0] = str(Path(__file__).resolve().parent.parent)  # the repo, not bench/ (bench/notifications.py)

from bench import _common as common  # noqa: E402

ICS = (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Imaging Events//Registration//EN\r\nMETHOD:PUBLISH\r\n"
       b"BEGIN:VEVENT\r\nUID:bench@imaging-events.local\r\nDTSTAMP:20270101T000000Z\r\n"
       b"DTSTART:20270301T080000Z\r\nDTEND:20270301T110000Z\r\nSUMMARY:AI in chest CT\r\nEND:VEVENT\r\n"
       b"END:VCALENDAR\r\n")


def start_sink(tmp: Path) -> tuple[subprocess.Popen[bytes], int, Path]:
    port = common.free_port()
    count_file = tmp / "sink-count"
    process = subprocess.Popen([sys.executable, str(common.ROOT / "bench" / "count_sink.py"), "--port", str(port),
                                "--count-file", str(count_file)], start_new_session=True)
    deadline = time.monotonic() + 30
    while True:
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=2) as smtp:
                smtp.noop()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the SMTP sink did not start") from None
            time.sleep(0.1)
    return process, port, count_file


def sink_count(count_file: Path) -> int:
    try:
        return int(count_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


def wait_for_count(count_file: Path, expected: int, timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (count := sink_count(count_file)) >= expected:
            return count
        time.sleep(0.05)
    return sink_count(count_file)


def make_app(url: str, tmp: Path, smtp_port: int) -> Any:
    env = common.service_env(tmp, NOTIFICATIONS_DATABASE_URL=url, SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp_port))
    common.migrate("notifications", env)
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        from notifications import create_app
        return create_app()
    finally:
        os.environ.clear()
        os.environ.update(saved)


def queue(app: Any, count: int) -> float:
    from notifications.services import messages
    from notifications.services.rendering import sample_context

    database = app.extensions["suite_db"]
    context = sample_context("registration_confirmed")
    attachment = {"filename": "invite.ics", "content_type": "text/calendar", "method": "PUBLISH",
                  "content_base64": base64.b64encode(ICS).decode()}
    started = time.perf_counter()
    with app.app_context():
        for first in range(0, count, 500):
            with database.session_scope() as session:
                for n in range(first, min(count, first + 500)):
                    messages.accept(session, {
                        "idempotency_key": f"reg:{n}:confirmed", "template": "registration_confirmed",
                        "to": f"person{n}@hospital.example", "organisation_id": 1, "event": "bench-webinar",
                        "context": {**context, "attendee": {"given_name": "Zoë", "family_name": f"Łukasiewicz {n}"}},
                        "attachments": [attachment]}, app.extensions["suite_settings"].smtp.mail_domain)
    return time.perf_counter() - started


def drain(sender: Any, forked: bool) -> None:
    """``Sender.run_once`` until nothing is left (bounded in time)."""
    if forked:
        sender.database.engine.dispose(close=False)  # the parent's pooled connections stay the parent's
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline and sender.run_once():
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="1,000 messages")
    parser.add_argument("--count", type=int)
    parser.add_argument("--profile", action="store_true", help="pyinstrument the sender")
    parser.add_argument("--senders", type=int, default=1,
                        help="sender processes draining the queue together (as worker replicas would)")
    args = parser.parse_args()
    count = args.count or (1_000 if args.quick else 10_000)
    common.check_postgresql()
    common.log(f"notifications: {count} messages queued, then sent by {args.senders} sender(s) to an aiosmtpd sink "
               "that only counts")
    with common.temp_dir("notifications") as tmp, common.fresh_schema("notifications") as (url, _conninfo, _schema):
        sink, port, count_file = start_sink(tmp)
        try:
            app = make_app(url, tmp, port)
            from sqlalchemy import func, select

            from notifications.models import Message, MessageStatus
            from notifications.services.messages import wording_key, wordings_for
            from notifications.services.sender import Sender, _addr, build_email, wire_bytes

            queue_s = queue(app, count)
            common.log(f"  queued through messages.accept: {queue_s:6.2f} s  ({count / queue_s:7.1f} messages/s)")
            database = app.extensions["suite_db"]
            settings = dataclasses.replace(app.extensions["suite_settings"].smtp, host="127.0.0.1", port=port)  # as SMTP_HOST/PORT set
            sender = Sender(database, settings)
            profiler = None
            if args.profile:
                from pyinstrument import Profiler

                profiler = Profiler(interval=0.001)
                profiler.start()
            started = time.perf_counter()
            others = [multiprocessing.get_context("fork").Process(target=drain, args=(sender, True))
                      for _ in range(args.senders - 1)]
            for other in others:
                other.start()
            with app.app_context():
                drain(sender, False)
            for other in others:
                other.join(timeout=900)
            sender_s = time.perf_counter() - started
            if profiler is not None:
                profiler.stop()
            delivered = wait_for_count(count_file, count)
            with database.session_scope() as session:
                statuses = dict(session.execute(select(Message.status, func.count()).group_by(Message.status)).all())
            common.log(f"  Sender.run_once loop           : {sender_s:6.2f} s  ({count / sender_s:7.1f} messages/s); "
                       f"sink counted {delivered}; statuses {statuses}")

            # Baseline: the same mails, rendered beforehand, over one raw smtplib connection.
            with app.app_context(), database.session_scope() as session:
                rows = list(session.scalars(select(Message).order_by(Message.id)))
                wordings = wordings_for(session, rows)
                mails = [(build_email(m, wordings[wording_key(m)], settings), m.recipient) for m in rows]
            from_addr = _addr(settings.mail_from)
            started = time.perf_counter()
            with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
                for email, recipient in mails:
                    smtp.sendmail(from_addr, [recipient], wire_bytes(email))
            raw_s = time.perf_counter() - started
            raw_delivered = wait_for_count(count_file, 2 * count) - delivered
            common.log(f"  raw smtplib, one connection    : {raw_s:6.2f} s  ({count / raw_s:7.1f} messages/s); "
                       f"sink counted {raw_delivered}")
            database.engine.dispose()
        finally:
            sink.terminate()
            sink.wait(timeout=30)
        if profiler is not None:
            common.log("  pyinstrument, the sender:")
            for line in profiler.output_text(unicode=False, color=False).splitlines()[:60]:
                common.log("    " + line)

    ratio = (count / sender_s) / (count / raw_s)
    exact = delivered == count and statuses.get(MessageStatus.SENT, statuses.get("sent", 0)) == count
    targets = {"rate_ratio_ge_0.5": ratio >= 0.5, "all_delivered_once": exact}
    common.log(f"  sender rate / raw smtplib rate: {ratio:.2f}x")
    for name, ok in targets.items():
        common.log("  " + common.verdict(name, ok))
    common.emit({
        "benchmark": "notifications", "quick": args.quick, "messages": count, "senders": args.senders,
        "queue_rate": common.rounded(count / queue_s, 1), "sender_rate": common.rounded(count / sender_s, 1),
        "raw_rate": common.rounded(count / raw_s, 1), "rate_ratio": common.rounded(ratio),
        "delivered": delivered, "raw_delivered": raw_delivered, "statuses": {str(k): v for k, v in statuses.items()},
        "targets": targets, "machine": common.machine(),
    })


if __name__ == "__main__":
    main()
