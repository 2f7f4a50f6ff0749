"""Sign-up burst: 2,000 JSON sign-ups, 200 concurrent, one webinar of capacity 1,000.

Registration runs on PostgreSQL (a fresh schema) under gunicorn with the production settings
(suite_common.gunicorn_conf: gthread reading requests in its main loop, GUNICORN_THREADS=4; WEB_CONCURRENCY workers, default 2 as in
production, BENCH_WEB_CONCURRENCY or --workers to change). The baseline is bench/bare_app.py on the same gunicorn settings,
one INSERT per request into its own table in the same kind of fresh schema. The load generator is
bench/loadgen.py (aiohttp) in its own process. Both get the same warm-up first.

Targets: throughput >= 0.5x the bare app's; p99 < 300 ms; exactly 1,000 confirmed, 1,000 waitlisted
and 0 errors, read back from the roster API.

    python bench/signup_burst.py [--quick] [--workers N] [--profile]
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path[0] = str(Path(__file__).resolve().parent.parent)  # the repo, not bench/ (bench/notifications.py)

import psycopg  # noqa: E402
import requests  # noqa: E402

from bench import _common as common  # noqa: E402
from bench.bare_app import TABLE_SQL  # noqa: E402


def iso(days: float = 0, hours: float = 0) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(days=days, hours=hours)).replace(microsecond=0).isoformat()


def create_event(base: str, auth: dict[str, str], slug: str, capacity: int) -> None:
    response = requests.post(f"{base}/api/v1/events", headers=auth, timeout=30, json={
        "slug": slug, "title": "AI in chest CT", "kind": "webinar", "starts_at": iso(days=10),
        "ends_at": iso(days=10, hours=2), "timezone": "Europe/Vienna", "capacity": capacity, "currency": "EUR",
        "join_url": "https://zoom.us/j/123"})
    response.raise_for_status()
    response = requests.post(f"{base}/api/v1/events/{slug}/rates", headers=auth, timeout=30, json={
        "code": "free", "name": "Free", "amount": 0, "currency": "EUR", "category": "other"})
    response.raise_for_status()


def roster_counts(base: str, auth: dict[str, str], slug: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    cursor = None
    for _ in range(1000):  # bounded: 1,000 pages of 1,000
        params: dict[str, Any] = {"limit": 1000, **({"cursor": cursor} if cursor else {})}
        page = requests.get(f"{base}/api/v1/events/{slug}/registrations", headers=auth, params=params,
                            timeout=60).json()
        for item in page["items"]:
            counts[item["status"]] = counts.get(item["status"], 0) + 1
        cursor = page["next_cursor"]
        if not cursor:
            break
    return counts


def burst(url: str, total: int, concurrency: int, prefix: str) -> dict[str, Any]:
    return common.run_loadgen(url, total, concurrency, "signup", timeout=300, prefix=prefix)


def run_bare(tmp: Path, workers: int, total: int, concurrency: int, warmup: int) -> dict[str, Any]:
    with common.fresh_schema("bare") as (_url, conninfo, _schema):
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(TABLE_SQL)
        env = common.service_env(tmp, BARE_DSN=conninfo)
        with common.Gunicorn("bench.bare_app:create_app()", env, workers, tmp / "bare.log") as server:
            url = f"{server.url}/api/v1/events/bare/registrations"
            burst(url, warmup, concurrency, "warm")
            result = burst(url, total, concurrency, "bench")
        with psycopg.connect(conninfo) as conn:
            result["rows"] = conn.execute("SELECT count(*) FROM bare_signups WHERE email LIKE 'bench%'").fetchone()[0]
    return result


def run_service(tmp: Path, workers: int, total: int, concurrency: int, warmup: int, capacity: int,
                profile: bool) -> dict[str, Any]:
    with common.fresh_schema("registration") as (url, _conninfo, _schema):
        env = common.service_env(tmp, REGISTRATION_DATABASE_URL=url)
        common.migrate("registration", env)
        token = common.flask_command("registration", env, "tokens", "create", "--org", "bench", "--name", "bench")
        auth = {"Authorization": f"Bearer {token}"}
        server = common.Gunicorn("registration:create_app()", env, workers, tmp / "registration.log")
        env["REGISTRATION_URL"] = server.url
        server.env["REGISTRATION_URL"] = server.url
        with server:
            create_event(server.url, auth, "warm-up", capacity=100_000)
            create_event(server.url, auth, "burst", capacity=capacity)
            burst(f"{server.url}/api/v1/events/warm-up/registrations", warmup, concurrency, "warm")
            spy = common.start_py_spy(server, tmp / "signup-profile.txt") if profile else None
            result = burst(f"{server.url}/api/v1/events/burst/registrations", total, concurrency, "bench")
            if spy is not None:
                result["profile"] = common.stop_py_spy(spy)
            result["roster"] = roster_counts(server.url, auth, "burst")
            result["seats_taken"] = requests.get(f"{server.url}/api/v1/events/burst", headers=auth,
                                                 timeout=30).json()["seats_taken"]
    return result


def explain(n: int, profile_path: Path | None) -> dict[str, Any]:
    """Where a sign-up's time goes, without contention: the real app in this process (Flask test client)
    on a fresh schema, one sign-up after another. Counts the SQL statements per sign-up, those run while
    the event row is locked (from SELECT ... FOR UPDATE to COMMIT), and the time the lock is held."""
    from sqlalchemy import event as sa_event

    with common.fresh_schema("explain") as (url, _conninfo, _schema), common.temp_dir("explain") as tmp:
        env = common.service_env(tmp, REGISTRATION_DATABASE_URL=url)
        common.migrate("registration", env)
        saved = dict(os.environ)
        os.environ.update(env)
        try:
            from registration import create_app
            from registration.services import organisations
            app = create_app()
        finally:
            os.environ.clear()
            os.environ.update(saved)
        database = app.extensions["suite_db"]
        with database.session_scope() as session:
            token = organisations.create_token(session, organisations.get_or_create_organisation(session, "x"), "x")
        client = app.test_client()
        auth = {"Authorization": f"Bearer {token}"}
        for slug in ("explain-warm", "explain"):
            assert client.post("/api/v1/events", headers=auth, json={
                "slug": slug, "title": "AI in chest CT", "kind": "webinar", "starts_at": iso(days=10),
                "ends_at": iso(days=10, hours=2), "timezone": "Europe/Vienna", "capacity": n // 2,
                "currency": "EUR", "join_url": "https://zoom.us/j/123"}).status_code == 201
            assert client.post(f"/api/v1/events/{slug}/rates", headers=auth, json={
                "code": "free", "name": "Free", "amount": 0, "currency": "EUR", "category": "other"}).status_code == 201
        statements: list[tuple[float, str]] = []
        commits: list[float] = []
        sa_event.listen(database.engine, "before_cursor_execute",
                        lambda *a, **k: statements.append((time.perf_counter(), a[2])))
        sa_event.listen(database.engine, "commit", lambda *a: commits.append(time.perf_counter()))

        def sign_up(slug: str, i: int) -> float:
            started = time.perf_counter()
            response = client.post(f"/api/v1/events/{slug}/registrations", json={
                "email": f"explain{i}@hospital.example", "given_name": "Zoë", "family_name": f"Łukasiewicz-{i}",
                "rate": "free", "consent": True})
            assert response.status_code == 201, response.get_json()
            return time.perf_counter() - started

        for i in range(20):
            sign_up("explain-warm", i)
        per_request, locked, locked_ms, wall = [], [], [], []
        profiler = None
        if profile_path is not None:
            from pyinstrument import Profiler
            profiler = Profiler(interval=0.0005)
            profiler.start()
        for i in range(n):
            statements.clear()
            commits.clear()
            wall.append(sign_up("explain", i))
            per_request.append(len(statements))
            lock_at = next((t for t, sql in statements if "FOR UPDATE" in sql), None)
            if lock_at is not None and commits:
                locked.append(sum(1 for t, _ in statements if t >= lock_at))
                locked_ms.append((commits[-1] - lock_at) * 1000)
        if profiler is not None:
            profiler.stop()
            profile_path.write_text(profiler.output_text(unicode=False, color=False, show_all=False))
        database.engine.dispose()
    return {"signups": n, "mean_ms": common.rounded(1000 * sum(wall) / n, 2),
            "statements_per_signup": common.rounded(sum(per_request) / n, 1),
            "statements_while_locked": common.rounded(sum(locked) / max(1, len(locked)), 1),
            "lock_held_mean_ms": common.rounded(sum(locked_ms) / max(1, len(locked_ms)), 2),
            "lock_bound_rps": common.rounded(1000 / (sum(locked_ms) / max(1, len(locked_ms))), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="200 sign-ups, 50 concurrent, capacity 100")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("BENCH_WEB_CONCURRENCY", "2")),
                        help="gunicorn workers (production's default, gunicorn_conf and compose: 2)")
    parser.add_argument("--profile", action="store_true", help="py-spy the gunicorn workers during the burst")
    args = parser.parse_args()
    total, concurrency, capacity, warmup = (200, 50, 100, 50) if args.quick else (2000, 200, 1000, 200)
    common.check_postgresql()
    common.log(f"sign-up burst: {total} sign-ups, {concurrency} concurrent, capacity {capacity}, "
               f"{args.workers} gunicorn workers x 4 threads (buffering gthread)")
    with common.temp_dir("signup") as tmp:
        started = time.monotonic()
        bare = run_bare(tmp, args.workers, total, concurrency, warmup)
        common.log(f"  bare Flask + INSERT : {bare['throughput_rps']:8.1f} req/s  p50 {bare['p50_ms']:7.1f} ms  "
                   f"p99 {bare['p99_ms']:7.1f} ms  statuses {bare['statuses']}")
        service = run_service(tmp, args.workers, total, concurrency, warmup, capacity, args.profile)
        common.log(f"  registration        : {service['throughput_rps']:8.1f} req/s  p50 {service['p50_ms']:7.1f} ms  "
                   f"p99 {service['p99_ms']:7.1f} ms  statuses {service['statuses']}")
        if service.get("profile"):
            common.log("  py-spy (registration workers, top frames by own time):")
            for line in service["profile"]:
                common.log("    " + line)
        common.log(f"  roster: {service['roster']}, seats_taken {service['seats_taken']}; "
                   f"responses: {service['outcomes']}; errors: {service['errors'][:2]}")
        anatomy = explain(50 if args.quick else 300, tmp / "explain-profile.txt" if args.profile else None)
        common.log(f"  one sign-up at a time, in process: {anatomy['mean_ms']} ms each, "
                   f"{anatomy['statements_per_signup']} SQL statements, {anatomy['statements_while_locked']} of them "
                   f"while the event row is locked, lock held {anatomy['lock_held_mean_ms']} ms "
                   f"(so at most ~{anatomy['lock_bound_rps']} sign-ups/s per event, whatever the workers)")
        if args.profile:
            common.log("  pyinstrument, one sign-up at a time:")
            for line in (tmp / "explain-profile.txt").read_text().splitlines()[:70]:
                common.log("    " + line)
        common.log(f"  ({time.monotonic() - started:.0f} s in all)")

    ratio = service["throughput_rps"] / bare["throughput_rps"]
    errors = sum(n for status, n in service["statuses"].items() if status != "201")
    exact = (service["roster"].get("confirmed", 0) == capacity
             and service["roster"].get("waitlisted", 0) == total - capacity
             and sum(service["roster"].values()) == total and errors == 0 and service["seats_taken"] == capacity)
    targets = {"throughput_ratio_ge_0.5": ratio >= 0.5, "p99_lt_300ms": service["p99_ms"] < 300,
               "exact_counts_no_errors": exact}
    for name, ok in targets.items():
        common.log("  " + common.verdict(name, ok))
    common.emit({
        "benchmark": "signup_burst", "quick": args.quick, "signups": total, "concurrency": concurrency,
        "capacity": capacity, "gunicorn_workers": args.workers, "gunicorn_threads": 4,
        "service_rps": service["throughput_rps"], "bare_rps": bare["throughput_rps"],
        "throughput_ratio": common.rounded(ratio), "p50_ms": service["p50_ms"], "p99_ms": service["p99_ms"],
        "bare_p50_ms": bare["p50_ms"], "bare_p99_ms": bare["p99_ms"],
        "p99_ratio": common.rounded(service["p99_ms"] / bare["p99_ms"]),
        "confirmed": service["roster"].get("confirmed", 0), "waitlisted": service["roster"].get("waitlisted", 0),
        "errors": errors, "seats_taken": service["seats_taken"], "anatomy": anatomy, "targets": targets, "machine": common.machine(),
    })


if __name__ == "__main__":
    main()
