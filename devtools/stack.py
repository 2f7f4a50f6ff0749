"""Runs the whole suite as local processes, the topology of docker-compose.yml.

``python -m devtools.stack`` is what ``make run`` calls: migrate every service,
seed the demo organisation once, start each service under gunicorn (plus the
local stand-ins), print the addresses, the demo organiser token and a fresh sign-in link to the
organiser console for the demo owner, and stop
everything on Ctrl-C. The end-to-end tests start the same stack with ``Stack``, some of them
with several replicas of each service (``replicas``), as ``docker compose --scale`` runs them.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import requests

SERVICES = ("registration", "notifications", "certificates")
DEFAULT_PORTS = {"registration": 8001, "notifications": 8002, "certificates": 8003}
# The owner of the demo organisation that registration's seed-demo adds to the console.
DEMO_OWNER = "organiser@demo.example"
# Background loops: `flask --app <service> worker` (the compose file runs the same commands).
WORKERS = ("registration", "notifications", "certificates")


def service_url(env: dict[str, str], name: str) -> str:
    return env.get(f"{name.upper()}_URL") or f"http://127.0.0.1:{DEFAULT_PORTS[name]}"


def _bind(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port}"


def _signal_group(process: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # it ended meanwhile
        os.killpg(process.pid, sig)


def replica_name(name: str, replica: int) -> str:
    """Replica 1 keeps the plain name, so a one-replica stack looks as it always did."""
    return name if replica == 1 else f"{name}-{replica}"


@dataclass
class Stack:
    env: dict[str, str]
    workers: int = 2
    # Copies of each service and of its worker, sharing the service's database. Replica n of a
    # service listens on urls[service][n - 1] and calls replica n of the others; replica 1 is
    # the one of {SERVICE}_URL, so urls is needed only for more than one replica.
    replicas: int = 1
    urls: dict[str, list[str]] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    log_dir: Path | None = None
    _readiness: dict[str, str] = field(default_factory=dict, init=False, repr=False)  # process: its /readyz
    demo_participant: str | None = field(default=None, init=False)  # the page seed_demo printed

    def __post_init__(self) -> None:
        for name in SERVICES:
            urls = self.urls.setdefault(name, [service_url(self.env, name)])
            if urls[0] != service_url(self.env, name) or len(urls) < self.replicas:
                raise ValueError(f"{name}: {self.replicas} replicas need as many URLs, the first being "
                                 f"{name.upper()}_URL")

    def replica_env(self, replica: int) -> dict[str, str]:
        return {**self.env, **{f"{name.upper()}_URL": self.urls[name][replica - 1] for name in SERVICES}}

    @property
    def var_dir(self) -> Path:
        return Path(self.env["VAR_DIR"])

    def _run(self, *args: str) -> str:
        result = subprocess.run([sys.executable, "-m", *args], env=self.env, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed:\n{result.stderr}")
        return result.stdout

    def migrate(self, services: tuple[str, ...] = SERVICES) -> None:
        """All services at once: each owns its database, and their start-ups (imports) overlap."""
        running = {name: subprocess.Popen([sys.executable, "-m", "flask", "--app", name, "db", "upgrade"],
                                          env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                   for name in services}
        failures = []
        for name, process in running.items():
            _, stderr = process.communicate()
            if process.returncode != 0:
                failures.append(f"flask --app {name} db upgrade failed:\n{stderr}")
        if failures:
            raise RuntimeError("\n".join(failures))

    def create_token(self, organisation: str, name: str = "tests") -> str:
        return self._run("flask", "--app", "registration", "tokens", "create", "--org", organisation,
                         "--name", name).strip()

    def seed_demo(self) -> str:
        """Registration's demo (organisation, events, participant), then certificates' (the congress's
        accreditation and presence codes), which needs registration running to know the token. Both
        keep what a first run seeded. Returns the token; the demo participant's page is kept in
        ``demo_participant``."""
        token_file = str(self.var_dir / "demo-token")
        output = self._run("flask", "--app", "registration", "seed-demo", "--token-file", token_file)
        lines = dict(line.split(": ", 1) for line in output.strip().splitlines() if ": " in line)
        self.demo_participant = lines.get("Demo participant")
        self._run("flask", "--app", "certificates", "seed-demo", "--token-file", token_file)
        return output.strip().rsplit(" ", 1)[-1]

    def sign_in_link(self, organisation: str, email: str) -> str:
        """A fresh one-time console sign-in link for a person (the previous one may have been used)."""
        return self._run("flask", "--app", "registration", "organisers", "link", "--org", organisation,
                         "--email", email).strip()

    def _spawn(self, name: str, args: list[str], env: dict[str, str] | None = None) -> None:
        log_dir = self.log_dir or self.var_dir / "log"
        log_dir.mkdir(parents=True, exist_ok=True)
        log = open(log_dir / f"{name}.log", "ab")  # noqa: SIM115 - owned by the child process
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", *args], env=env or self.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    def start_service(self, name: str, replica: int = 1) -> None:
        url = self.urls[name][replica - 1]
        process = replica_name(name, replica)
        self._readiness[process] = url + "/readyz"
        self._spawn(process, ["gunicorn", "-c", "python:suite_common.gunicorn_conf",
                              "--bind", _bind(url), f"{name}:create_app()"],
                    {**self.replica_env(replica), "WEB_CONCURRENCY": str(self.workers)})

    def start_worker(self, name: str, replica: int = 1) -> None:
        self._spawn(replica_name(f"{name}-worker", replica), ["flask", "--app", name, "worker"],
                    self.replica_env(replica))

    def start_smtp_sink(self) -> None:
        smtp = f"{self.env.get('SMTP_HOST') or '127.0.0.1'}:{self.env.get('SMTP_PORT') or 1025}"
        web = self.env.get("SMTP_SINK_WEB") or "127.0.0.1:8025"
        self._spawn("smtp-sink", ["devtools.smtp_sink", "--smtp", smtp, "--web", web,
                                  "--maildir", str(self.var_dir / "mail")])

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        for name, url in self._readiness.items():
            if name not in self.processes:
                continue
            while True:
                if self.processes[name].poll() is not None:
                    raise RuntimeError(f"{name} exited; see its log in {self.log_dir or self.var_dir / 'log'}")
                try:
                    if requests.get(url, timeout=2).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name} did not become ready at {url}")
                time.sleep(0.2)

    def start_stripe_standin(self) -> None:
        listen = self.env.get("STRIPE_STANDIN_LISTEN") or "127.0.0.1:12111"
        self.env.setdefault("STRIPE_API_BASE", f"http://{listen}")
        self._spawn("stripe-standin", ["devtools.stripe_standin", "--listen", listen],
                    {**self.env, "STRIPE_WEBHOOK_URL": service_url(self.env, "registration") + "/webhooks/stripe"})

    def start_zoom_standin(self) -> None:
        """The Zoom stand-in, its webinars kept in var/ (a second make run finds the demo webinar again);
        webinar.ended reaches registration's /webhooks/zoom, and the report is fetched seconds later."""
        listen = self.env.get("ZOOM_STANDIN_LISTEN") or "127.0.0.1:12112"
        self.env.setdefault("ZOOM_API_BASE", f"http://{listen}/v2")
        self.env.setdefault("ZOOM_OAUTH_BASE", f"http://{listen}")
        self.env.setdefault("ZOOM_REPORT_DELAY_SECONDS", "3")
        self._spawn("zoom-standin", ["devtools.zoom_standin", "--listen", listen,
                                     "--state-file", str(self.var_dir / "zoom-standin.json")],
                    {**self.env, "ZOOM_WEBHOOK_URL": service_url(self.env, "registration") + "/webhooks/zoom"})

    def start(self, services: tuple[str, ...] = SERVICES, workers: bool = True, smtp_sink: bool = False,
              stripe_standin: bool = False, zoom_standin: bool = False, migrated: tuple[str, ...] = ()) -> None:
        """``migrated``: services whose databases are already at head (the tests copy a migrated
        SQLite file instead of paying three interpreter start-ups for every stack)."""
        self.var_dir.mkdir(parents=True, exist_ok=True)
        self.migrate(tuple(name for name in services if name not in migrated))
        if smtp_sink:
            self.start_smtp_sink()
        if stripe_standin:
            self.start_stripe_standin()
        if zoom_standin:
            self.start_zoom_standin()
        for name in services:
            for replica in range(1, self.replicas + 1):
                self.start_service(name, replica)
                if workers and name in WORKERS:
                    self.start_worker(name, replica)
        self.wait_ready()

    def stop_service(self, name: str, sig: int = signal.SIGTERM) -> None:
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        _signal_group(process, sig)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def stop(self) -> None:
        """SIGTERM to every process at once, then wait: shutdowns overlap instead of queueing."""
        running = {name: p for name, p in self.processes.items() if p.poll() is None}
        for process in running.values():
            _signal_group(process, signal.SIGTERM)
        for name in list(self.processes):
            self.stop_service(name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--no-seed", action="store_true", help="do not create the demo organisation")
    args = parser.parse_args()
    env = dict(os.environ)
    env.setdefault("VAR_DIR", str(Path.cwd() / "var"))
    stack = Stack(env)
    try:
        stack.start(smtp_sink=not env.get("SMTP_HOST"), stripe_standin=not env.get("STRIPE_API_KEY"),
                    zoom_standin=not env.get("ZOOM_API_BASE"))
        token = None if args.no_seed else stack.seed_demo()
        console_link = None if args.no_seed else stack.sign_in_link("demo", DEMO_OWNER)
    except Exception:
        stack.stop()
        raise
    print("\nThe suite is running:")
    for name in SERVICES:
        url = service_url(env, name)
        print(f"  {name:<14} {url}   (API docs: {url}/docs)")
    registration = service_url(env, 'registration')
    print(f"  sign up        {registration}/events/demo-congress/register   (the demo congress, open)")
    print(f"  past webinar   {registration}/events/demo-webinar   (its Zoom report: demo/zoom-demo-webinar-attendees.csv)")
    if "stripe-standin" in stack.processes:
        print(f"  Stripe         {stack.env['STRIPE_API_BASE']}   (local stand-in: no real payments)")
    if "zoom-standin" in stack.processes:
        print(f"  Zoom webinar   {registration}/events/demo-zoom-webinar/register   (personal links and attendance "
              "through the Zoom stand-in)")
        print(f"  Zoom           {stack.env['ZOOM_OAUTH_BASE']}   (local stand-in: no real Zoom; README, "
              "'Zoom attendance')")
    if "smtp-sink" in stack.processes:
        print(f"  caught mail    http://{env.get('SMTP_SINK_WEB') or '127.0.0.1:8025'}   (SMTP on port "
              f"{env.get('SMTP_PORT') or 1025})")
    print(f"  logs           {stack.var_dir / 'log'}")
    if token:
        print(f"\nOrganiser token: {token}")
    if console_link:
        print(f"Organiser console: {console_link}   (sign-in link for {DEMO_OWNER}: works once, for 15 minutes)")
    if stack.demo_participant:
        print(f"Demo participant: {stack.demo_participant}   (presence codes HEART1, HEART2, FHIR01, FHIR02; "
              "README, 'The demo walk-through')")
    print("\nPress Ctrl-C to stop.", flush=True)
    stopping = False

    def _stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    try:
        while not stopping:
            for name, process in list(stack.processes.items()):
                if process.poll() is not None:
                    print(f"{name} stopped unexpectedly (exit {process.returncode}); see its log.", flush=True)
                    stopping = True
            time.sleep(0.5)
    finally:
        print("\nStopping…", flush=True)
        stack.stop()


if __name__ == "__main__":
    main()
