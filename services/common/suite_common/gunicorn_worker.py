"""gunicorn's gthread worker, except that a thread gets a request only once it has arrived.

gthread hands every connection that sent a byte to a thread, which then reads the rest of the
request blocking: thirty clients trickling one header line every 3 s hold all eight threads of
a service (2 workers x 4) and ``/healthz`` waits as long as they do. This worker reads each
request in its main loop instead, as nginx buffers for the compose topology: the connection sits
in the worker's selector, non-blocking, until its head (and its body, when small and of known
length) is in memory, then the parser gets those bytes and a thread serves the request at full
speed. A request must arrive within ``REQUEST_READ_TIMEOUT`` of the connection being accepted,
or of becoming readable again after a response; a connection that fails to is closed.

Everything else is gthread's (gunicorn 27.0.1, pinned): threads, keep-alive, limits, graceful
stop. The subclass uses its ``enqueue_req`` hook, ``TConn.data_ready`` (the thread does not wait
for data again) and ``murder_pending`` (called once per loop, where expired connections close).
"""
from __future__ import annotations

import contextlib
import selectors
import time
from enum import Enum
from functools import partial

from gunicorn import util
from gunicorn.workers.gthread import STOP_KEEPALIVE_LINGER, TConn, ThreadWorker

# nginx's client_header_timeout and client_body_timeout in deploy/proxy/nginx.conf are the same.
REQUEST_READ_TIMEOUT = 10.0
# No browser or client of the suite sends a head this large (nginx refuses over 4 x 8 KiB).
MAX_HEAD_BYTES = 64 * 1024
# Bodies up to this size are read here too: every JSON and form request of the suite. Larger ones
# (CSV uploads) are read by their thread; in the compose topology nginx has buffered them already.
MAX_BUFFERED_BODY_BYTES = 64 * 1024
RECV_BYTES = 64 * 1024


class Arrival(Enum):
    WAITING = "waiting"  # more bytes are needed before a thread could serve the request
    READY = "ready"  # a thread can serve it, or gunicorn's parser refuses it, without waiting
    TOO_LARGE = "too large"  # the head exceeds MAX_HEAD_BYTES


def arrival(data: bytes, limit_request_line: int) -> Arrival:
    """How far a request has arrived, judged as gunicorn's parser would read it.

    Anything the parser refuses at once (an empty or over-long request line, a bare LF) is READY:
    the thread answers its 400 or 414 straight away. So is a body the parser reads itself: chunked,
    behind ``Expect: 100-continue``, larger than MAX_BUFFERED_BODY_BYTES, or of invalid length.
    """
    start = 2 if data.startswith(b"\r\n") else 0  # one empty line before a request is allowed
    line_end = data.find(b"\r\n", start)
    line_length = (line_end if line_end >= 0 else len(data)) - start
    if line_end == start or line_length > limit_request_line:
        return Arrival.READY
    head_end = data.find(b"\r\n\r\n", max(start, line_end))
    head = data[start:head_end if head_end >= 0 else len(data)]
    if head.count(b"\n") != head.count(b"\r\n"):
        return Arrival.READY
    if head_end < 0:
        return Arrival.TOO_LARGE if len(data) > MAX_HEAD_BYTES else Arrival.WAITING
    length = None
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name, value = name.lower(), value.strip()
        if name in (b"transfer-encoding", b"expect"):
            return Arrival.READY
        if name == b"content-length":
            if length is not None or not value.isdigit():
                return Arrival.READY
            length = int(value)
    if length is None or length > MAX_BUFFERED_BODY_BYTES:
        return Arrival.READY
    return Arrival.READY if len(data) >= head_end + 4 + length else Arrival.WAITING


class BufferingThreadWorker(ThreadWorker):
    """gthread whose threads never wait on a client that is still sending its request."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Connections still arriving, each with its deadline; insertion order is deadline order.
        self.arriving: dict[TConn, float] = {}
        self.stopping = False

    @classmethod
    def check_config(cls, cfg, log) -> None:
        super().check_config(cfg, log)
        # Both have a thread read from the socket at its own pace (TLS handshake, HTTP/2 frames).
        if cfg.is_ssl or "h2" in cfg.http_protocols:
            raise RuntimeError("BufferingThreadWorker serves plain HTTP/1.1; terminate TLS in a proxy")

    def enqueue_req(self, conn: TConn) -> None:
        """Every way to a thread passes here: a new connection, a kept-alive one readable again, and
        one whose previous request left bytes of the next in the parser."""
        if conn.data_ready:
            super().enqueue_req(conn)
            return
        received = bytearray(conn.parser.unreader.take_buffered() if conn.parser else b"")
        conn.sock.setblocking(False)
        self.arriving[conn] = time.monotonic() + (REQUEST_READ_TIMEOUT if self.alive else STOP_KEEPALIVE_LINGER)
        # Most requests are in already (a kept-alive connection is here because it became readable):
        # reading at once spares them a round through the selector.
        self.receive(conn, received, registered=False)

    def on_readable(self, conn: TConn, received: bytearray, _sock: object) -> None:
        self.receive(conn, received, registered=True)

    def receive(self, conn: TConn, received: bytearray, registered: bool) -> None:
        """Read what the client sent, then hand the request to a thread, refuse it, or wait for more."""
        try:
            chunk = conn.sock.recv(RECV_BYTES)
        except (BlockingIOError, InterruptedError):
            chunk = None  # nothing yet
        except OSError:
            chunk = b""
        if chunk == b"":  # the client left
            self.drop(conn)
            return
        received += chunk or b""
        state = arrival(received, self.cfg.limit_request_line)
        if state is Arrival.WAITING:
            if not registered:
                self.poller.register(conn.sock, selectors.EVENT_READ, partial(self.on_readable, conn, received))
            return
        if state is Arrival.TOO_LARGE:
            with contextlib.suppress(OSError):  # the client is gone or not reading; it is closed either way
                util.write_error(conn.sock, 431, "Request Header Fields Too Large", "")
            self.drop(conn)
            return
        self.stop_arriving(conn)
        conn.init()  # plain HTTP/1.1 (check_config): only makes the parser, and the socket blocking
        conn.parser.unreader.unread(bytes(received))
        conn.data_ready = True
        super().enqueue_req(conn)

    def finish_request(self, conn: TConn, fs) -> None:
        conn.data_ready = False  # the next request on this connection has to arrive first
        super().finish_request(conn, fs)

    def stop_arriving(self, conn: TConn) -> None:
        del self.arriving[conn]
        with contextlib.suppress(KeyError, ValueError, OSError):  # already unregistered
            self.poller.unregister(conn.sock)

    def drop(self, conn: TConn) -> None:
        self.stop_arriving(conn)
        self.nr_conns -= 1
        conn.close()

    def murder_pending(self) -> None:
        """Also close connections whose request is late. A stopping worker gives them what gthread
        gives kept-alive connections, STOP_KEEPALIVE_LINGER, rather than its whole graceful timeout."""
        super().murder_pending()
        now = time.monotonic()
        if not self.alive and not self.stopping:
            self.stopping = True
            for conn, deadline in self.arriving.items():  # the same cap for all keeps the order
                self.arriving[conn] = min(deadline, now + STOP_KEEPALIVE_LINGER)
        for conn, deadline in list(self.arriving.items()):
            if deadline > now:
                break
            self.drop(conn)
