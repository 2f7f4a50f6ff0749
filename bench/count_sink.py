"""A fast SMTP sink for the notifications benchmark: aiosmtpd that only counts what it accepts.

Runs in its own process on loopback (so the sink is not the sender's bottleneck and shares no GIL
with it); writes the number of messages and bytes accepted to ``--count-file`` every 50 ms, and
stops by itself after ``--max-seconds``.

    python bench/count_sink.py --port 2525 --count-file /tmp/count
"""
from __future__ import annotations

import argparse
import os
import signal
import threading
import time
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


class Counter:
    def __init__(self) -> None:
        self.messages = 0
        self.bytes = 0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.messages += 1
        self.bytes += len(envelope.original_content or b"")
        return "250 OK"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--count-file", type=Path, required=True)
    parser.add_argument("--max-seconds", type=float, default=900)
    args = parser.parse_args()
    counter = Counter()
    controller = Controller(counter, hostname="127.0.0.1", port=args.port, data_size_limit=0)
    controller.start()
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    deadline = time.monotonic() + args.max_seconds
    last = None
    try:
        while not stopping.wait(0.05) and time.monotonic() < deadline:
            current = (counter.messages, counter.bytes)
            if current != last:
                temporary = args.count_file.with_suffix(".tmp")
                temporary.write_text(f"{current[0]} {current[1]}")
                os.replace(temporary, args.count_file)
                last = current
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
