"""Roster CSV of 50,000 registrations, streamed by the real endpoint, against PostgreSQL's COPY.

The event is made through registration's API (gunicorn, production settings, fresh PostgreSQL
schema); the 50,000 registrations go in with one INSERT ... SELECT generate_series (names in
several scripts, some starting with '=' so the CSV-injection guard has work to do). Then:

- service: ``GET /api/v1/events/{slug}/registrations?format=csv`` read to the last byte, while
  psutil samples the resident memory of every gunicorn worker (the growth of the one that serves);
- baseline: ``COPY (SELECT <the same columns> ...) TO STDOUT WITH CSV HEADER`` read with psycopg.

Each is run several times, alternating; medians are compared. Targets: <= 3x COPY's time; the
serving worker's peak RSS grows < 50 MB.

    python bench/roster_csv.py [--quick] [--rows N] [--workers N] [--profile]
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import sys
import time
from pathlib import Path
from typing import Any

sys.path[0] = str(Path(__file__).resolve().parent.parent)  # the repo, not bench/ (bench/notifications.py)

import psycopg  # noqa: E402
import requests  # noqa: E402

from bench import _common as common  # noqa: E402

INSERT_SQL = """
INSERT INTO registrations (
    event_id, rate_id, reference, manage_token, unsubscribe_token, ticket_code, status, email, email_normalised,
    given_name, family_name, answers, amount_paid, amount_due, amount_refunded, currency, consent_at,
    consent_version, created_at, updated_at)
SELECT %(event_id)s, %(rate_id)s, 'B' || lpad(n::text, 9, '0'), md5('m' || n), md5('u' || n), 'T' || md5('t' || n),
       CASE WHEN n %% 10 = 0 THEN 'waitlisted' WHEN n %% 37 = 0 THEN 'cancelled' ELSE 'confirmed' END,
       'Person.' || n || '@Hospital.example', 'person.' || n || '@hospital.example',
       (ARRAY['Zoë', 'Łucja', 'Γιώργος', '王芳', '=Anna', 'José María'])[1 + n %% 6],
       (ARRAY['Łukasiewicz', 'Müller, Hans', 'Παπαδόπουλος', '山田', '+Smith', 'O''Brien "Jr"'])[1 + n %% 6]
           || ' ' || n,
       '{}'::json, 0, 0, 0, 'EUR', %(now)s, 'v1', %(now)s + n * interval '1 second', %(now)s + n * interval '1 second'
FROM generate_series(1, %(rows)s) AS n
"""



def copy_sql(event_id: int) -> str:
    """COPY of exactly the columns the endpoint writes (read from the service, which may add columns)."""
    from registration.services.roster import CSV_COLUMNS

    columns = ", ".join("rt.code AS rate" if name == "rate" else f"r.{name}" for name in CSV_COLUMNS)
    return (f"COPY (SELECT {columns} FROM registrations r JOIN rates rt ON rt.id = r.rate_id "
            f"WHERE r.event_id = {int(event_id)} ORDER BY r.id) TO STDOUT WITH CSV HEADER")


def iso(days: float = 0, hours: float = 0) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(days=days, hours=hours)).replace(microsecond=0).isoformat()


def download(url: str, auth: dict[str, str]) -> tuple[float, int, bytes]:
    """Seconds to the last byte, bytes received, and the first and last 64 kB (for checks)."""
    started = time.perf_counter()
    size = 0
    head = b""
    tail = b""
    with requests.get(url, headers=auth, stream=True, timeout=300) as response:
        response.raise_for_status()
        for chunk in response.iter_content(chunk_size=65536):
            size += len(chunk)
            if len(head) < 65536:
                head += chunk
            tail = (tail + chunk)[-65536:]
    return time.perf_counter() - started, size, head + b"\n...\n" + tail


def copy_out(conninfo: str, event_id: int) -> tuple[float, int]:
    started = time.perf_counter()
    size = 0
    with psycopg.connect(conninfo) as conn, conn.cursor() as cursor, cursor.copy(copy_sql(event_id)) as copy:
        for block in copy:
            size += len(block)
    return time.perf_counter() - started, size


def count_rows(url: str, auth: dict[str, str]) -> int:
    with requests.get(url, headers=auth, timeout=300) as response:
        return sum(1 for _ in csv.reader(io.StringIO(response.text, newline=""))) - 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="5,000 registrations, 2 rounds")
    parser.add_argument("--rows", type=int)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (compose's default: 2)")
    parser.add_argument("--profile", action="store_true", help="py-spy the gunicorn workers during one download")
    args = parser.parse_args()
    rows = args.rows or (5_000 if args.quick else 50_000)
    rounds = 2 if args.quick else 5
    common.check_postgresql()
    common.log(f"roster CSV: {rows} registrations, {rounds} rounds, {args.workers} gunicorn workers x 4 threads")
    with common.temp_dir("roster") as tmp, common.fresh_schema("roster") as (url, conninfo, _schema):
        env = common.service_env(tmp, REGISTRATION_DATABASE_URL=url)
        common.migrate("registration", env)
        token = common.flask_command("registration", env, "tokens", "create", "--org", "bench", "--name", "bench")
        auth = {"Authorization": f"Bearer {token}"}
        server = common.Gunicorn("registration:create_app()", env, args.workers, tmp / "registration.log")
        server.env["REGISTRATION_URL"] = server.url
        with server:
            response = requests.post(f"{server.url}/api/v1/events", headers=auth, timeout=30, json={
                "slug": "roster", "title": "Roster", "kind": "webinar", "starts_at": iso(days=10),
                "ends_at": iso(days=10, hours=2), "timezone": "Europe/Vienna", "capacity": None, "currency": "EUR",
                "join_url": "https://zoom.us/j/123"})
            response.raise_for_status()
            requests.post(f"{server.url}/api/v1/events/roster/rates", headers=auth, timeout=30, json={
                "code": "member", "name": "Member", "amount": 0, "currency": "EUR", "category": "other"}
            ).raise_for_status()
            started = time.perf_counter()
            with psycopg.connect(conninfo) as conn:
                event_id = conn.execute("SELECT id FROM events WHERE slug = 'roster'").fetchone()[0]
                rate_id = conn.execute("SELECT id FROM rates WHERE event_id = %s", (event_id,)).fetchone()[0]
                conn.execute(INSERT_SQL, {"event_id": event_id, "rate_id": rate_id, "rows": rows,
                                          "now": dt.datetime(2027, 1, 1)})
                conn.execute("ANALYZE registrations")
            common.log(f"  inserted {rows} registrations with SQL in {time.perf_counter() - started:.1f} s")

            csv_url = f"{server.url}/api/v1/events/roster/registrations?format=csv"
            # Warm-up: every worker serves the endpoint once (imports, statement caches), and COPY once.
            for _ in range(args.workers * 2):
                requests.get(csv_url + "&status=refunded", headers=auth, timeout=60).raise_for_status()
            copy_out(conninfo, event_id)
            csv_rows = count_rows(csv_url, auth)

            service_times: list[float] = []
            copy_times: list[float] = []
            growths: list[int] = []
            service_bytes = copy_bytes = 0
            sample = b""
            for _ in range(rounds):
                seconds, copy_bytes = copy_out(conninfo, event_id)
                copy_times.append(seconds)
                with common.RssSampler(server.worker_pids()) as sampler:
                    seconds, service_bytes, sample = download(csv_url, auth)
                service_times.append(seconds)
                growths.append(sampler.growth_bytes)
            profile: list[str] = []
            if args.profile:
                spy = common.start_py_spy(server, tmp / "roster-profile.txt")
                download(csv_url, auth)
                profile = common.stop_py_spy(spy)

    service_s, copy_s = common.median(service_times), common.median(copy_times)
    ratio = service_s / copy_s
    peak_growth_mb = max(growths) / 1024 / 1024
    common.log(f"  rows in the CSV: {csv_rows} (expected {rows}); {service_bytes / 1e6:.1f} MB vs COPY "
               f"{copy_bytes / 1e6:.1f} MB")
    common.log(f"  first lines: {sample[:300].decode('utf-8', 'replace')!r}")
    common.log(f"  COPY TO STDOUT     : median {copy_s * 1000:8.1f} ms   ({', '.join(f'{t * 1000:.0f}' for t in copy_times)})")
    common.log(f"  GET ?format=csv    : median {service_s * 1000:8.1f} ms   "
               f"({', '.join(f'{t * 1000:.0f}' for t in service_times)}); {rows / service_s:,.0f} rows/s")
    common.log(f"  ratio {ratio:.2f}x; serving worker RSS growth per download: "
               f"{', '.join(f'{g / 1024 / 1024:.1f}' for g in growths)} MB")
    for line in profile:
        common.log("    " + line)
    targets = {"time_ratio_le_3": ratio <= 3, "rss_growth_lt_50MB": peak_growth_mb < 50,
               "all_rows": csv_rows == rows}
    for name, ok in targets.items():
        common.log("  " + common.verdict(name, ok))
    result: dict[str, Any] = {
        "benchmark": "roster_csv", "quick": args.quick, "rows": rows, "rounds": rounds,
        "gunicorn_workers": args.workers, "service_ms": common.rounded(service_s * 1000, 1),
        "copy_ms": common.rounded(copy_s * 1000, 1), "time_ratio": common.rounded(ratio),
        "service_mb": common.rounded(service_bytes / 1e6, 2), "copy_mb": common.rounded(copy_bytes / 1e6, 2),
        "rss_growth_mb_peak": common.rounded(peak_growth_mb, 1),
        "rss_growth_mb": [common.rounded(g / 1024 / 1024, 1) for g in growths], "csv_rows": csv_rows,
        "targets": targets, "machine": common.machine(),
    }
    common.emit(result)


if __name__ == "__main__":
    main()
