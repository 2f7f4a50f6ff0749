"""Clients that trickle their request hold no gunicorn thread: the service answers everyone else at once.

A slowloris against registration: more connections than its threads (2 workers x 4), each sending a
request line and then one header line every 3 s. Meanwhile /healthz and a JSON sign-up each answer
within a second, and the server drops the slow connections itself (suite_common.gunicorn_worker).
"""
from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from suite_common.gunicorn_worker import MAX_HEAD_BYTES, REQUEST_READ_TIMEOUT
from tests.support.factories import event_payload, signup_payload
from tests.support.stack import free_port, running_stack, url

pytestmark = pytest.mark.e2e

SLOW_CLIENTS = 32
TRICKLE_EVERY = 3.0
ROUNDS = 4  # a measure every 3 s, the last before the server drops the slow connections
ANSWER_WITHIN = 1.0


def timed(call: Callable[..., requests.Response], *args: Any, **kwargs: Any) -> tuple[requests.Response, float]:
    started = time.monotonic()
    response = call(*args, timeout=5, **kwargs)
    return response, time.monotonic() - started


def closed_by_server(sock: socket.socket, deadline: float) -> bool:
    """Whether the server closes the connection before ``deadline`` (it never answers a partial request)."""
    sock.settimeout(max(deadline - time.monotonic(), 0.01))
    try:
        return sock.recv(1024) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def raw_exchange(port: int, request: bytes) -> bytes:
    """What the server answers to ``request`` before it closes the connection or falls silent for 2 s."""
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
        sock.sendall(request)
        answer = b""
        with contextlib.suppress(TimeoutError, ConnectionResetError):
            while chunk := sock.recv(65536):
                answer += chunk
        return answer


def free_signups(base: str, token: str) -> str:
    """The sign-up URL of a new event with a free rate (warmed: the first requests import)."""
    auth = {"Authorization": f"Bearer {token}"}
    slug = requests.post(f"{base}/api/v1/events", json=event_payload(capacity=100), headers=auth).json()["slug"]
    response = requests.post(f"{base}/api/v1/events/{slug}/rates", headers=auth, json={
        "code": "free", "name": "Free", "amount": 0, "currency": "EUR", "category": "other"})
    assert response.status_code == 201
    signups = f"{base}/api/v1/events/{slug}/registrations"
    assert requests.post(signups, json=signup_payload()).status_code == 201
    return signups


def assert_slow_clients_starve_nothing(base: str, signups: str, rounds: int, dropped_after: float) -> None:
    """SLOW_CLIENTS trickle a sign-up's head, a line every TRICKLE_EVERY s, for ``rounds`` rounds:
    meanwhile /healthz and a sign-up answer within ANSWER_WITHIN each round, and whoever reads the
    requests (the service, or the proxy in front) closes every slow connection, without an answer,
    by ``dropped_after`` s (plus a margin)."""
    parts = urlsplit(base)
    path = urlsplit(signups).path
    slow = [socket.create_connection((parts.hostname, parts.port), timeout=5) for _ in range(SLOW_CLIENTS)]
    try:
        opened = time.monotonic()
        for sock in slow:
            sock.sendall(f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\n".encode())
        answers = []
        for round_ in range(rounds):  # at 0, 3, 6 (and 9) s
            time.sleep(max(opened + round_ * TRICKLE_EVERY - time.monotonic(), 0))
            if round_:
                for n, sock in enumerate(slow):
                    sock.sendall(f"X-Trickle-{round_}: {n}\r\n".encode())
                assert not any(closed_by_server(sock, time.monotonic()) for sock in slow)  # still waited for
            health, health_took = timed(requests.get, f"{base}/healthz")
            signup, signup_took = timed(requests.post, signups, json=signup_payload())
            assert (health.status_code, signup.status_code) == (200, 201)
            assert signup.json()["status"] == "confirmed"
            answers.append((round(health_took, 2), round(signup_took, 2)))
        assert all(took < ANSWER_WITHIN for pair in answers for took in pair), answers

        # No leak: every slow connection is closed, without an answer.
        deadline = opened + dropped_after + 3
        assert sum(closed_by_server(sock, deadline) for sock in slow) == SLOW_CLIENTS
        assert requests.get(f"{base}/healthz", timeout=5).status_code == 200
    finally:
        for sock in slow:
            sock.close()


def test_thirty_slow_clients_starve_neither_health_checks_nor_sign_ups(tmp_path: Path) -> None:
    with running_stack(tmp_path, services=("registration",), background=False) as stack:
        base = url(stack, "registration")
        signups = free_signups(base, stack.create_token("society"))
        assert_slow_clients_starve_nothing(base, signups, ROUNDS, REQUEST_READ_TIMEOUT)
        parts = urlsplit(base)

        # Requests that arrive at once are served as gthread serves them: pipelined ones in turn,
        # a malformed one refused straight away; a head no client sends is refused too.
        healthz = f"GET /healthz HTTP/1.1\r\nHost: {parts.netloc}\r\n\r\n".encode()
        last = healthz.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n")
        assert raw_exchange(parts.port, healthz + last).count(b"HTTP/1.1 200 OK") == 2
        assert raw_exchange(parts.port, b"GET /healthz HTTP/1.1\nHost: a\n").startswith(b"HTTP/1.1 400 ")
        too_large = healthz[:-2] + b"X-Big: " + b"a" * (MAX_HEAD_BYTES + 1)
        assert raw_exchange(parts.port, too_large).startswith(b"HTTP/1.1 431 ")


# --- the compose topology: nginx in front ---------------------------------------------------------

PROXY_CONF = Path(__file__).parents[2] / "deploy" / "proxy" / "nginx.conf"
# nginx's client_header_timeout in that file: it drops a client whose head is not in by then.
PROXY_HEADER_TIMEOUT = 10.0


def proxy_conf_for(registration_port: int, ports: dict[str, int]) -> str:
    """deploy/proxy/nginx.conf as compose runs it, but on loopback: its listen ports are free ones,
    and registration is the stack's (the other services are not needed); every other line is the file's."""
    text = PROXY_CONF.read_text()
    for published, port in ports.items():
        text = text.replace(f"listen {published};", f"listen 127.0.0.1:{port};")
    return (text.replace("set $registration registration;", "set $registration 127.0.0.1;")
            .replace("proxy_pass http://$registration:8001;", f"proxy_pass http://$registration:{registration_port};"))


@contextlib.contextmanager
def nginx(conf: str, prefix: Path) -> Iterator[None]:
    """Debian's nginx (devtools/system-packages.sh installs it) in the foreground, on ``conf``."""
    # Its temporary files in ``prefix`` rather than the package's /var/lib/nginx.
    temps = "".join(f"\n    {name}_temp_path {prefix / name};" for name in ("client_body", "proxy", "fastcgi", "uwsgi",
                                                                           "scgi"))
    (prefix / "nginx.conf").write_text(conf.replace("http {", "http {" + temps, 1))
    process = subprocess.Popen(
        [shutil.which("nginx") or "/usr/sbin/nginx", "-p", str(prefix), "-c", str(prefix / "nginx.conf"),
         "-e", str(prefix / "error.log"), "-g", f"daemon off; pid {prefix / 'nginx.pid'};"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        yield
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_behind_the_compose_proxy_slow_clients_wait_in_nginx(tmp_path: Path) -> None:
    """The compose topology: clients reach registration through deploy/proxy/nginx.conf, which
    reads each whole request before passing it on and drops a client whose head takes over 10 s."""
    with running_stack(tmp_path / "stack", services=("registration",), background=False) as stack:
        registration = url(stack, "registration")
        ports = {published: free_port() for published in (8001, 8002, 8003)}
        prefix = tmp_path / "nginx"
        prefix.mkdir()
        with nginx(proxy_conf_for(urlsplit(registration).port, ports), prefix):
            base = f"http://127.0.0.1:{ports[8001]}"
            for _ in range(50):  # nginx is up within a second or two
                with contextlib.suppress(requests.ConnectionError):
                    if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                        break
                time.sleep(0.2)
            signups = free_signups(base, stack.create_token("society"))
            # Three rounds (0, 3, 6 s) keep a margin before nginx's 10 s, which counts from the first byte.
            assert_slow_clients_starve_nothing(base, signups, 3, PROXY_HEADER_TIMEOUT)
