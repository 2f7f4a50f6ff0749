"""Certificate issue job: 10,000 certificates with QR, against a bare reportlab loop.

Two parts, both the suite's real code:

1. the issuing job: ``certificates.services.issuing.JobRunner`` claims a queued job and runs it
   against a fresh PostgreSQL schema holding the event's accreditation (with logo and signature)
   and one attendance interval per person; registration's roster is stubbed in process
   (``registry.attendees`` / ``registry.event`` return 10,000 people), so no HTTP is involved. The
   job writes the certificates, their "certificate ready" outbox rows and its progress, in batches.
   It does not draw PDFs: the PDF is drawn when the certificate is downloaded (``GET /c/<token>``).
2. the PDFs: for every certificate the job wrote, ``pdf_data(certificate, accreditation)`` and
   ``render_certificate`` exactly as the download view does, in 2 processes (the machine's 2 cores).

Baseline: a bare loop drawing one A4 page per certificate with the same PDF and QR libraries
(reportlab canvas, standard fonts; the QR matrix from segno, one rectangle per run of dark modules),
also in 2 processes. Targets: job + PDFs < 60 s on 2 cores; PDFs <= 2x the bare loop.

    python bench/certificate_job.py [--quick] [--count N] [--processes N] [--profile] [--job-only]
"""
from __future__ import annotations

import argparse
import datetime as dt
import io
import multiprocessing
import os
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

sys.path[0] = str(Path(__file__).resolve().parent.parent)  # the repo, not bench/ (bench/notifications.py)

from bench import _common as common  # noqa: E402

ORGANISATION_ID = 1
SLUG = "bench-webinar"
STATEMENT = (
    "The “European Congress of Imaging Informatics 2027”, Vienna, Austria, 01/03/2027–02/03/2027 has been "
    "accredited by the European Accreditation Council for Continuing Medical Education (EACCME®) with "
    "3 European CME credits (ECMEC®s). Each medical specialist should claim only those hours of credit "
    "that he/she actually spent in the educational activity.\n\n"
    "Through an agreement between the Union Européenne des Médecins Spécialistes and the American Medical "
    "Association, physicians may convert EACCME® credits to an equivalent number of AMA PRA Category 1 "
    "Credits™."
)
GIVEN = ("Zofia", "María", "Søren", "Νίκος", "Анна", "王", "Çağlar", "Jan", "山田", "Siobhán")
FAMILY = ("Łukasiewicz", "Ñúñez", "Øster", "Παπαδόπουλος", "Иванова", "小明", "Öztürk-Đặng", "Kowalski", "太郎",
          "Ó Briain")


def _png(size: tuple[int, int], colour: tuple[int, int, int, int]) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGBA", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


def stub_registry(count: int) -> None:
    """registration's roster, in process: the event with two credit sessions and ``count`` people."""
    from certificates.services import registry
    from certificates.services.credits import Session as CreditSession

    start = dt.datetime(2027, 3, 1, 8, 0, tzinfo=dt.UTC)
    event = registry.EventInfo(
        slug=SLUG, title="European Congress of Imaging Informatics 2027: Webinar", kind="webinar",
        starts_at=start, ends_at=start + dt.timedelta(hours=3), timezone="Europe/Vienna", venue=None,
        sessions=[CreditSession(code="S1", title="Radiomics in clinical practice", starts_at=start,
                                ends_at=start + dt.timedelta(hours=1, minutes=30), credits=Decimal("1.5")),
                  CreditSession(code="S2", title="AI in chest CT: from features to decisions",
                                starts_at=start + dt.timedelta(hours=1, minutes=30),
                                ends_at=start + dt.timedelta(hours=3), credits=Decimal("1.5"))])
    people = [registry.Person(id=n, email=f"person{n}@hospital.example", given_name=GIVEN[n % 10],
                              family_name=f"{FAMILY[n % 10]} {n}", status="confirmed", ticket_code=f"T{n:024d}")
              for n in range(1, count + 1)]
    registry.attendees = lambda organisation_id, slug: (event, iter(people))  # type: ignore[assignment]
    registry.event = lambda organisation_id, slug: event  # type: ignore[assignment]
    return event


def make_app(url: str, tmp: Path) -> Any:
    env = common.service_env(tmp, CERTIFICATES_DATABASE_URL=url, PUBLIC_BASE_URL="https://certificates.example.org")
    common.migrate("certificates", env)
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        from certificates import create_app
        return create_app()
    finally:
        os.environ.clear()
        os.environ.update(saved)


def seed(app: Any, event: Any, count: int) -> str:
    """Accreditation, one interval per person covering both sessions, and a queued job."""
    from sqlalchemy import insert

    from certificates.models import Accreditation, AttendanceInterval, IssueJob

    database = app.extensions["suite_db"]
    with database.session_scope() as session:
        session.add(Accreditation(
            organisation_id=ORGANISATION_ID, event_slug=SLUG, body="EACCME®",
            credit_unit="European CME credits (ECMEC®s)", statement=STATEMENT, credit_mode="proportional",
            credit_step=Decimal("0.5"), min_session_share=Decimal("0.5"), max_credits=None, max_credits_per_day=None,
            daily_caps={}, evaluation_required=False, evaluation_questions=[], signatory_name="Prof. Dr. Anna Müller",
            signatory_title="President, European Society of Imaging Informatics",
            organisation_name="European Society of Imaging Informatics",
            logo_png=_png((600, 160), (29, 53, 87, 255)), signature_png=_png((400, 120), (20, 20, 20, 200))))
        session.execute(insert(AttendanceInterval), [
            {"organisation_id": ORGANISATION_ID, "event_slug": SLUG, "registration_id": n,
             "email": f"person{n}@hospital.example", "starts_at": event.starts_at - dt.timedelta(minutes=2),
             "ends_at": event.ends_at + dt.timedelta(minutes=n % 5), "source": f"zoom_webinar:1:line {n + 10}"}
            for n in range(1, count + 1)])
        job_id = uuid.uuid4().hex
        session.add(IssueJob(id=job_id, organisation_id=ORGANISATION_ID, event_slug=SLUG, status="queued"))
    return job_id


# --- the PDFs, in worker processes ----------------------------------------------------------

_APP: Any = None


def _render_chunk(items: list[tuple[dict[str, Any], str, int, str]]) -> tuple[int, int, float]:
    """Renders certificates as the download view does; returns (count, bytes, seconds)."""
    from certificates.blueprints.public import pdf_data
    from certificates.services.pdf import render_certificate

    accreditation = _APP.extensions["bench_accreditation"]
    started = time.perf_counter()
    total = 0
    with _APP.app_context():
        for snapshot, code, revision, token in items:
            certificate = SimpleNamespace(snapshot=snapshot, code=code, revision=revision, download_token=token)
            body = render_certificate(pdf_data(certificate, accreditation))
            assert body.startswith(b"%PDF-")
            total += len(body)
    return len(items), total, time.perf_counter() - started


def _bare_page(n: int) -> bytes:
    import segno
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    buffer = io.BytesIO()
    c = Canvas(buffer, pagesize=A4, pageCompression=1)
    width, height = A4
    c.setFont("Helvetica-Bold", 30)
    c.drawCentredString(width / 2, height - 150, "Certificate of Attendance")
    c.setFont("Helvetica", 22)
    c.drawCentredString(width / 2, height - 230, f"Person {n}")
    c.setFont("Helvetica", 12)
    c.drawCentredString(width / 2, height - 280, "European Congress of Imaging Informatics 2027: Webinar")
    c.drawCentredString(width / 2, height - 300, "3 European CME credits (ECMEC)")
    matrix = segno.make(f"https://certificates.example.org/verify/K7M2{n:06d}", error="m", micro=False).matrix
    module = 90.0 / len(matrix)
    path = c.beginPath()
    for row, cells in enumerate(matrix):
        col = 0
        while col < len(cells):
            run = col
            while run < len(cells) and cells[run] == cells[col]:
                run += 1
            if cells[col]:
                path.rect(70 + col * module, 50 + 90 - (row + 1) * module, (run - col) * module, module)
            col = run
    c.drawPath(path, stroke=0, fill=1)
    c.showPage()
    c.save()
    return buffer.getvalue()


def _bare_chunk(numbers: list[int]) -> tuple[int, int, float]:
    started = time.perf_counter()
    total = sum(len(_bare_page(n)) for n in numbers)
    return len(numbers), total, time.perf_counter() - started


def _split(items: list[Any], parts: int) -> list[list[Any]]:
    return [items[i::parts] for i in range(parts)]


def in_processes(function: Any, items: list[Any], processes: int) -> tuple[float, int]:
    """Wall seconds and total bytes, ``items`` split over ``processes`` forked workers."""
    context = multiprocessing.get_context("fork")
    with context.Pool(processes) as pool:
        pool.map(function, [items[:2]] * processes)  # warm each worker: imports, fonts
        started = time.perf_counter()
        results = pool.map(function, _split(items, processes))
        elapsed = time.perf_counter() - started
    assert sum(r[0] for r in results) == len(items)
    return elapsed, sum(r[1] for r in results)


def main() -> None:
    global _APP
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="500 certificates")
    parser.add_argument("--count", type=int)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--job-only", action="store_true", help="the issuing job alone, no PDFs")
    parser.add_argument("--profile", action="store_true",
                        help="pyinstrument the issuing job, and one process rendering 200 PDFs")
    args = parser.parse_args()
    count = args.count or (500 if args.quick else 10_000)
    common.check_postgresql()
    common.log(f"certificate job: {count} certificates, PDFs in {args.processes} processes")
    with common.temp_dir("certificates") as tmp, common.fresh_schema("certificates") as (url, _conninfo, _schema):
        event = stub_registry(count)
        app = make_app(url, tmp)
        job_id = seed(app, event, count)

        from sqlalchemy import select

        from certificates.models import Certificate, IssueJob, Outbox
        from certificates.services import accreditation as accreditation_service
        from certificates.services.issuing import JobRunner

        database = app.extensions["suite_db"]
        runner = JobRunner(app, database)
        job_profiler = None
        if args.profile:
            from pyinstrument import Profiler

            job_profiler = Profiler(interval=0.001)
            job_profiler.start()
        started, started_cpu = time.perf_counter(), time.process_time()
        assert runner.run_once() == 1
        job_s, job_cpu_s = time.perf_counter() - started, time.process_time() - started_cpu
        if job_profiler is not None:
            job_profiler.stop()
            common.log("  pyinstrument, the issuing job:")
            for line in job_profiler.output_text(unicode=False, color=False).splitlines()[:70]:
                common.log("    " + line)
        with database.session_scope() as session:
            job = session.get(IssueJob, job_id)
            job_state = {"status": job.status, "issued": job.issued, "not_eligible": job.not_eligible,
                         "error": job.error}
            items = [(c.snapshot, c.code, c.revision, c.download_token)
                     for c in session.scalars(select(Certificate).order_by(Certificate.registration_id))]
            outbox_rows = len(list(session.scalars(select(Outbox.id))))
            accreditation = accreditation_service.get(session, ORGANISATION_ID, SLUG)
            app.extensions["bench_accreditation"] = SimpleNamespace(
                logo_png=accreditation.logo_png, signature_png=accreditation.signature_png)
        database.engine.dispose()  # the forked workers must not share its connections
        common.log(f"  issuing job (JobRunner, PostgreSQL): {job_s:6.1f} s ({job_cpu_s:.1f} s CPU in this process)  "
                   f"{job_state}, {outbox_rows} outbox rows")
        if args.job_only:
            complete = job_state["issued"] == count and len(items) == count and outbox_rows == count
            common.emit({"benchmark": "certificate_job", "job_only": True, "certificates": count,
                         "job_s": common.rounded(job_s, 2), "job_cpu_s": common.rounded(job_cpu_s, 2),
                         "targets": {"all_issued": complete}, "machine": common.machine()})
            return
        _APP = app

        pdf_s, pdf_bytes = in_processes(_render_chunk, items, args.processes)
        common.log(f"  PDFs as the download draws them   : {pdf_s:6.1f} s  {count / pdf_s:6.1f} PDFs/s  "
                   f"{pdf_bytes / count / 1024:.0f} kB each")
        bare_s, bare_bytes = in_processes(_bare_chunk, list(range(count)), args.processes)
        common.log(f"  bare reportlab + segno QR loop     : {bare_s:6.1f} s  {count / bare_s:6.1f} PDFs/s  "
                   f"{bare_bytes / count / 1024:.0f} kB each")
        if args.profile:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0005)
            profiler.start()
            _render_chunk(items[:200])
            profiler.stop()
            common.log("  pyinstrument, 200 PDFs in one process:")
            for line in profiler.output_text(unicode=False, color=False).splitlines()[:60]:
                common.log("    " + line)

    total_s = job_s + pdf_s
    ratio = pdf_s / bare_s
    complete = job_state["issued"] == count and len(items) == count and outbox_rows == count
    targets = {"total_lt_60s": total_s < 60, "pdf_ratio_le_2": ratio <= 2, "all_issued": complete}
    common.log(f"  job + PDFs: {total_s:.1f} s; PDFs / bare loop: {ratio:.2f}x; (job + PDFs) / bare loop: "
               f"{total_s / bare_s:.2f}x")
    for name, ok in targets.items():
        common.log("  " + common.verdict(name, ok))
    common.emit({
        "benchmark": "certificate_job", "quick": args.quick, "certificates": count, "processes": args.processes,
        "job_s": common.rounded(job_s, 2), "job_cpu_s": common.rounded(job_cpu_s, 2), "pdf_s": common.rounded(pdf_s, 2), "total_s": common.rounded(total_s, 2),
        "bare_s": common.rounded(bare_s, 2), "pdf_ms_per_page_per_process": common.rounded(
            pdf_s * args.processes / count * 1000, 2),
        "bare_ms_per_page_per_process": common.rounded(bare_s * args.processes / count * 1000, 2),
        "pdf_ratio": common.rounded(ratio), "total_ratio": common.rounded(total_s / bare_s),
        "issued": job_state["issued"], "outbox_rows": outbox_rows, "targets": targets, "machine": common.machine(),
    })


if __name__ == "__main__":
    main()
