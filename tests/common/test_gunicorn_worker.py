"""When a request has arrived far enough for a gunicorn thread (suite_common.gunicorn_worker.arrival)."""
from __future__ import annotations

import pytest

from suite_common.gunicorn_worker import MAX_BUFFERED_BODY_BYTES, MAX_HEAD_BYTES, Arrival, arrival

LINE_LIMIT = 8190
HEAD = b"POST /api/v1/events/x/registrations HTTP/1.1\r\nHost: a\r\n"


@pytest.mark.parametrize("data", [
    b"",
    b"GE",
    b"GET /healthz HTTP/1.1\r",
    b"GET /healthz HTTP/1.1\r\nHost: a\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: a\r\n\r",
    b"\r\nGET /healthz HTTP/1.1\r\n",  # one empty line before the request is allowed
    HEAD + b"Content-Length: 7\r\n\r\n",
    HEAD + b"Content-Length: 7\r\n\r\n{\"a\":",
])
def test_a_request_still_arriving_waits(data: bytes) -> None:
    assert arrival(data, LINE_LIMIT) is Arrival.WAITING


@pytest.mark.parametrize("data", [
    b"GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /healthz HTTP/1.0\r\n\r\n",
    b"\r\nGET /healthz HTTP/1.1\r\n\r\n",
    HEAD + b"Content-Length: 7\r\n\r\n{\"a\":1}",
    HEAD + b"content-length:7\r\n\r\n{\"a\":1}GET / HTTP/1.1\r\n",  # pipelined: the parser keeps the rest
    HEAD + b"Content-Length: 0\r\n\r\n",
    # Bodies the parser reads itself: chunked, after a 100 Continue, large, or of a length it refuses.
    HEAD + b"Transfer-Encoding: chunked\r\n\r\n",
    HEAD + b"Expect: 100-continue\r\nContent-Length: 7\r\n\r\n",
    HEAD + f"Content-Length: {MAX_BUFFERED_BODY_BYTES + 1}\r\n\r\n".encode(),
    HEAD + b"Content-Length: 7\r\nContent-Length: 7\r\n\r\n",
    HEAD + b"Content-Length: -7\r\n\r\n",
    # What the parser refuses at once, without waiting for more: 400 or 414.
    b"\r\n\r\nGET /healthz HTTP/1.1\r\n",
    b"GET /healthz HTTP/1.1\nHost: a\n",
    b"GET /healthz HTTP/1.1\r\nHost: a\nX-Slow: 1\r\n",
    b"GET /" + b"a" * LINE_LIMIT + b" HTTP/1.1",
])
def test_a_request_a_thread_can_serve_or_refuse_at_once_is_ready(data: bytes) -> None:
    assert arrival(data, LINE_LIMIT) is Arrival.READY


def test_a_head_beyond_the_limit_is_too_large_but_a_body_may_be_longer() -> None:
    assert arrival(HEAD + b"X-Big: " + b"a" * MAX_HEAD_BYTES, LINE_LIMIT) is Arrival.TOO_LARGE
    body = b"a" * MAX_BUFFERED_BODY_BYTES
    partial = HEAD + f"Content-Length: {len(body)}\r\n\r\n".encode() + body[:-1]
    assert len(partial) > MAX_HEAD_BYTES
    assert arrival(partial, LINE_LIMIT) is Arrival.WAITING
    assert arrival(partial + body[-1:], LINE_LIMIT) is Arrival.READY
