"""What every benchmark shares: a fresh PostgreSQL schema, services under gunicorn on free loopback
ports, the machine's description, percentiles, RSS sampling and the closing JSON line.

All traffic stays on 127.0.0.1. Every loop is bounded in count and time.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DATABASE_URL = os.environ.get("DATABASE_URL_TEST") or "postgresql+psycopg://postgres@127.0.0.1:5432/test"
# gunicorn workers for the HTTP benchmarks; the machine has 2 cores (compose's default is 2).
WEB_CONCURRENCY = int(os.environ.get("BENCH_WEB_CONCURRENCY", "4"))


def log(*parts: object) -> None:
    print(*parts, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def psycopg_conninfo(sqlalchemy_url: str) -> str:
    """SQLAlchemy's URL as libpq understands it."""
    return sqlalchemy_url.replace("postgresql+psycopg://", "postgresql://", 1)


@contextlib.contextmanager
def fresh_schema(name: str) -> Iterator[tuple[str, str, str]]:
    """(SQLAlchemy URL, psycopg conninfo, schema) of an empty schema, dropped afterwards."""
    import psycopg

    base = psycopg_conninfo(DATABASE_URL)
    schema = f"bench_{name}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    options = quote("-csearch_path=" + schema)
    separator = "&" if "?" in DATABASE_URL else "?"
    try:
        yield (f"{DATABASE_URL}{separator}options={options}", f"{base}{separator}options={options}", schema)
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def check_postgresql() -> None:
    import psycopg

    try:
        with psycopg.connect(psycopg_conninfo(DATABASE_URL), connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError as exc:
        sys.exit(f"PostgreSQL is not reachable at {DATABASE_URL} (set DATABASE_URL_TEST): {exc}")


# --- processes -----------------------------------------------------------------------------

class Gunicorn:
    """One gunicorn master with the production settings (suite_common.gunicorn_conf)."""

    def __init__(self, app: str, env: dict[str, str], workers: int, log_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.app = app
        self.env = {**env, "WEB_CONCURRENCY": str(workers)}
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, ready_path: str = "/readyz", timeout: float = 60) -> Gunicorn:
        import requests

        with open(self.log_path, "ab") as log_file:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", "python:suite_common.gunicorn_conf",
                 "--bind", f"127.0.0.1:{self.port}", self.app],
                env=self.env, cwd=ROOT, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.app} exited; see {self.log_path}:\n{self.log_path.read_text()[-3000:]}")
            try:
                if requests.get(self.url + ready_path, timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.app} not ready at {self.url}")
            time.sleep(0.2)
        # Every worker must have booted (and imported the app) before we measure.
        time.sleep(1.0)
        return self

    def worker_pids(self) -> list[int]:
        import psutil

        assert self.process is not None
        return [child.pid for child in psutil.Process(self.process.pid).children()]

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def __enter__(self) -> Gunicorn:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


def service_env(var_dir: Path, **extra: str) -> dict[str, str]:
    """The environment a service starts with: only what the benchmark sets, no stray DATABASE_URLs."""
    env = {k: v for k, v in os.environ.items() if not k.endswith("DATABASE_URL")}
    env.update(VAR_DIR=str(var_dir), PYTHONPATH=str(ROOT), LOG_LEVEL=os.environ.get("BENCH_LOG_LEVEL", "WARNING"))
    # Bursts of thousands of sign-ups from one loopback address: limits high enough never to bite, still
    # counted as in production, so the counters' cost is part of the figures.
    for name in ("SIGNUP_RATE_LIMIT", "TOKEN_RATE_LIMIT", "TOKEN_FAILURE_RATE_LIMIT"):
        env.setdefault(name, "1000000/minute")
    for name in ("registration", "notifications", "certificates"):
        env.setdefault(f"{name.upper()}_URL", f"http://127.0.0.1:{free_port()}")
    env.update(extra)
    return env


def migrate(service: str, env: dict[str, str]) -> None:
    result = subprocess.run([sys.executable, "-m", "flask", "--app", service, "db", "upgrade"], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"migrating {service} failed:\n{result.stderr}")


def flask_command(service: str, env: dict[str, str], *args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "flask", "--app", service, *args], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout.strip()


def run_loadgen(url: str, total: int, concurrency: int, kind: str, timeout: float, prefix: str) -> dict[str, Any]:
    """The async load generator in its own process; returns its JSON report."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "loadgen.py"), "--url", url, "--total", str(total),
         "--concurrency", str(concurrency), "--kind", kind, "--timeout", str(timeout), "--prefix", prefix],
        capture_output=True, text=True, timeout=timeout + 60, cwd=ROOT)
    if result.returncode != 0:
        raise RuntimeError(f"load generator failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


@contextlib.contextmanager
def temp_dir(prefix: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix=f"bench-{prefix}-") as name:
        yield Path(name)


# --- measuring -----------------------------------------------------------------------------

def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (p99 of 2,000 is the 1,980th smallest)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5 - 1e-9)))
    return ordered[rank - 1]


def median(values: list[float]) -> float:
    return statistics.median(values)


class RssSampler:
    """Samples the resident memory of a set of processes every few milliseconds, in a thread."""

    def __init__(self, pids: list[int], interval: float = 0.005) -> None:
        import psutil

        self.processes = [psutil.Process(pid) for pid in pids]
        self.interval = interval
        self.baseline = {p.pid: p.memory_info().rss for p in self.processes}
        self.peak = dict(self.baseline)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for process in self.processes:
                with contextlib.suppress(Exception):
                    rss = process.memory_info().rss
                    if rss > self.peak[process.pid]:
                        self.peak[process.pid] = rss
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def growth_bytes(self) -> int:
        """The largest growth of any one process (one worker serves the request)."""
        return max(self.peak[pid] - self.baseline[pid] for pid in self.baseline)


def machine() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory_kb = 0
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_kb = int(line.split()[1])
    return {"nproc": os.cpu_count(), "memory_gib": round(memory_kb / 1024 / 1024, 1), "cpu": model,
            "python": platform.python_version(), "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")}


def verdict(name: str, ok: bool) -> str:
    return f"{name}: {'met' if ok else 'NOT met'}"


def emit(result: dict[str, Any]) -> None:
    """The last line of every benchmark: one JSON object."""
    print(json.dumps(result, sort_keys=False, default=str), flush=True)


def rounded(value: float, digits: int = 3) -> float:
    return round(value, digits)


def quick_flag() -> bool:
    return "--quick" in sys.argv


# --- profiling -----------------------------------------------------------------------------

def py_spy_path() -> str:
    candidate = Path(sys.executable).parent / "py-spy"
    return str(candidate) if candidate.exists() else "py-spy"


def start_py_spy(server: Gunicorn, output: Path, rate: int = 250) -> tuple[subprocess.Popen[bytes], Path]:
    """py-spy records the gunicorn master and its workers (collapsed stacks) until stop_py_spy."""
    assert server.process is not None
    process = subprocess.Popen(
        [py_spy_path(), "record", "--pid", str(server.process.pid), "--subprocesses", "--format", "raw",
         "--rate", str(rate), "--nonblocking", "--output", str(output)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)  # attach before the load starts
    return process, output


def stop_py_spy(spy: tuple[subprocess.Popen[bytes], Path], top: int = 18) -> list[str]:
    process, output = spy
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if not output.exists():
        return ["(py-spy wrote no profile: is ptrace allowed here?)"]
    return summarise_collapsed(output.read_text(), top)


OWN_PACKAGES = ("suite_common", "registration", "notifications", "certificates", "bench")
OWN_CODE = str(ROOT)


def _frame_name(frame: str) -> str:
    """'roster_csv (roster.py:71)' -> 'roster_csv (roster.py)'."""
    name, _, where = frame.partition(" (")
    return f"{name} ({where.rsplit(':', 1)[0].rsplit('/', 1)[-1]})" if where else name


def summarise_collapsed(text: str, top: int = 18) -> list[str]:
    """Own time per function and time under each of the suite's own functions, in % of samples."""
    own: dict[str, int] = {}
    inclusive: dict[str, int] = {}
    total = 0
    for line in text.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        total += count
        leaf = _frame_name(frames[-1])
        own[leaf] = own.get(leaf, 0) + count
        for name in {_frame_name(f) for f in frames if OWN_CODE in f or any(f"({pkg}/" in f for pkg in OWN_PACKAGES)}:
            inclusive[name] = inclusive.get(name, 0) + count
    if not total:
        return ["(no samples)"]
    lines = [f"{total} samples; own time:"]
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in sorted(own.items(), key=lambda kv: -kv[1])[:top]]
    lines.append("time under the suite's functions:")
    lines += [f"  {100 * n / total:5.1f}%  {name}"
              for name, n in sorted(inclusive.items(), key=lambda kv: -kv[1])[:top]]
    return lines
