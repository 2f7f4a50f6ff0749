"""Attendance report import: a generated 100,000-row Zoom webinar attendee report.

The file is written as Zoom exports it (UTF-8 with BOM, the metadata block, Host, Panelist and
Attendee Details sections, US 12-hour times, people who rejoined on several rows, some who did not
attend). Timed, each the median of several runs in this process:

- service: ``certificates.services.reports.parse_report(data, "Europe/Vienna")``, then the matching
  that ``attendance.upload_report`` does (rows by email against 50,000 registrations);
- baseline: decoding the same bytes and reading them with the csv module (``list(csv.reader(...))``).

Targets: parse < 5 s; <= 10x the csv read.

    python bench/report_import.py [--quick] [--rows N] [--profile]
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import sys
import time
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)  # the repo, not bench/ (bench/notifications.py)

from bench import _common as common  # noqa: E402

FIRST = ("Hans", "Łucja", "Γιώργος", "芳", "François", "Siobhán", "Anna", "José", "Zeynep", "Jean-Luc")
LAST = ("Müller", "Wiśniewska", "Παπαδόπουλος", "王", "Çelik", "Ó Briain", "Kowalska", "García", "Öztürk", "Dubois")
CITIES = ("Wien", "Kraków", "Αθήνα", "上海", "Istanbul", "Dublin", "Warszawa", "Madrid", "Berlin", "Lyon")


def us_time(moment: dt.datetime) -> str:
    return moment.strftime("%m/%d/%Y %I:%M:%S %p")


def generate(rows: int) -> bytes:
    """A Zoom webinar attendee report with ``rows`` attendee rows (about 3 rows per person)."""
    start = dt.datetime(2026, 3, 5, 8, 52, 11)
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["Attendee Report"])
    writer.writerow(["Report Generated:", "03/05/2026 11:42 AM"])
    writer.writerow(["Topic", "Webinar ID", "Actual Start Time", "Actual Duration (minutes)", "# Registered",
                     "# Cancelled registrations", "Unique Viewers", "Total Users", "Max Concurrent Views"])
    writer.writerow(["Radiomics in Clinical Practice: From Features to Decisions", "812 3456 7890",
                     us_time(start), "139", str(rows), "3", str(rows // 3), str(rows), str(rows // 3)])
    writer.writerow(["Host Details"])
    writer.writerow(["Attended", "User Name (Original Name)", "Email", "Join Time", "Leave Time",
                     "Time in Session (minutes)", "Is Guest", "Country/Region Name"])
    writer.writerow(["Yes", "ESR Webinars", "webinars@imaging-society.example", us_time(start),
                     us_time(start + dt.timedelta(minutes=139)), "139", "No", "Austria"])
    writer.writerow(["Panelist Details"])
    writer.writerow(["Attended", "User Name (Original Name)", "Email", "Join Time", "Leave Time",
                     "Time in Session (minutes)", "Is Guest", "Country/Region Name"])
    writer.writerow(["Yes", "Prof. Anna Kowalska", "a.kowalska@uni-krakow.example", us_time(start),
                     us_time(start + dt.timedelta(minutes=131)), "131", "No", "Poland"])
    writer.writerow(["Attendee Details"])
    writer.writerow(["Attended", "User Name (Original Name)", "First Name", "Last Name", "Email", "City",
                     "Country/Region", "Organization", "Job Title", "Registration Time", "Approval Status",
                     "Join Time", "Leave Time", "Time in Session (minutes)", "Is Guest", "Country/Region Name"])
    for n in range(rows):
        person = n // 3  # each person joined up to three times
        first, last = FIRST[person % 10], f"{LAST[person % 10]} {person}"
        email = f"Person.{person}@Hospital.example"
        registered = us_time(start - dt.timedelta(days=10, minutes=person % 1000))
        if n % 50 == 49:
            writer.writerow(["No", f"{first} {last}", first, last, email, CITIES[person % 10], "Austria",
                             "Klinikum", "Radiologist", registered, "approved", "--", "--", "", "No", ""])
            continue
        join = start + dt.timedelta(minutes=(n % 3) * 45 + person % 7)
        leave = join + dt.timedelta(minutes=40, seconds=person % 60)
        name = f'"{last}, {first}"' if n % 4 == 0 else f"{first} {last}"
        writer.writerow(["Yes", name, first, last, email, CITIES[person % 10], "Austria", "Klinikum Nord",
                         "Radiologist", registered, "approved", us_time(join), us_time(leave),
                         str(int((leave - join).total_seconds() // 60)), "No", "Austria"])
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def csv_read(data: bytes) -> int:
    return len(list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="10,000 rows")
    parser.add_argument("--rows", type=int)
    parser.add_argument("--profile", action="store_true", help="pyinstrument one parse")
    args = parser.parse_args()
    rows = args.rows or (10_000 if args.quick else 100_000)
    runs = 3 if args.quick else 5

    from certificates.services.reports import parse_report

    data = generate(rows)
    common.log(f"report import: a Zoom webinar attendee report of {rows} attendee rows, {len(data) / 1e6:.1f} MB; "
               f"median of {runs} runs")
    registrations = {f"person.{person}@hospital.example": person for person in range(0, rows // 3 + 1, 2)}

    csv_times, parse_times, match_times = [], [], []
    parsed = None
    matched = 0
    for _ in range(runs):
        started = time.perf_counter()
        records = csv_read(data)
        csv_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        parsed = parse_report(data, "Europe/Vienna")
        parse_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        matched = sum(1 for row in parsed.rows if row.email in registrations)  # as upload_report matches
        match_times.append(time.perf_counter() - started)
    assert parsed is not None
    csv_s, parse_s, match_s = (common.median(t) for t in (csv_times, parse_times, match_times))
    ratio = parse_s / csv_s
    common.log(f"  csv.reader              : {csv_s * 1000:8.1f} ms  ({records} records)")
    common.log(f"  parse_report            : {parse_s * 1000:8.1f} ms  ({len(parsed.rows)} rows, "
               f"{len(parsed.skipped)} skipped, format {parsed.format})")
    common.log(f"  + matching by email     : {match_s * 1000:8.1f} ms  ({matched} rows match a registration)")
    common.log(f"  parse / csv read: {ratio:.2f}x; (parse + match) / csv read: {(parse_s + match_s) / csv_s:.2f}x")
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005)
        profiler.start()
        parse_report(data, "Europe/Vienna")
        profiler.stop()
        common.log("  pyinstrument, one parse_report:")
        for line in profiler.output_text(unicode=False, color=False).splitlines()[:50]:
            common.log("    " + line)
    expected_rows = rows - rows // 50
    targets = {"parse_lt_5s": parse_s < 5, "ratio_le_10": ratio <= 10,
               "all_rows_read": len(parsed.rows) == expected_rows and len(parsed.skipped) == rows // 50}
    for name, ok in targets.items():
        common.log("  " + common.verdict(name, ok))
    common.emit({
        "benchmark": "report_import", "quick": args.quick, "rows": rows, "megabytes": common.rounded(len(data) / 1e6, 2),
        "csv_ms": common.rounded(csv_s * 1000, 1), "parse_ms": common.rounded(parse_s * 1000, 1),
        "match_ms": common.rounded(match_s * 1000, 1), "ratio": common.rounded(ratio),
        "ratio_with_matching": common.rounded((parse_s + match_s) / csv_s), "rows_read": len(parsed.rows),
        "skipped": len(parsed.skipped), "targets": targets, "machine": common.machine(),
    })


if __name__ == "__main__":
    main()
