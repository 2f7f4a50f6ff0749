"""Organiser API: reports to accreditors per event and credit system (services/accreditor_reports.py).

Each is ``organiser_event_required`` (another organisation's event is a 404) and audited as a read of
personal data in bulk (suite_common.audit)."""
from __future__ import annotations

from typing import Any

from flask import Response, request

from suite_common.api import CSV, ORGANISER, SuiteBlueprint
from suite_common.auth import current_organisation
from suite_common.csvexport import csv_chunks, csv_response
from suite_common.db import get_session
from suite_common.events import organiser_event_required

from ..schemas.accreditor_reports import ParsQuery, ReportQuery, SummaryOutput, SummaryQuery
from ..services import accreditor_reports

blp = SuiteBlueprint("accreditor_reports", __name__, url_prefix="/api/v1",
                     description="Reports to accreditors (bearer token)")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REFUSALS = {"404": {"description": "no such event in this organisation"},
            "409": {"description": "no credit rules set for this event"},
            "422": {"description": "no such credit system in this event"}}


def _download(body: bytes, mimetype: str, filename: str) -> Response:
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"',
                                                      "Cache-Control": "private, no-store"})


@blp.route("/events/<slug:slug>/accreditor-reports/pars", methods=["GET"])
@organiser_event_required
@blp.doc(security=ORGANISER, responses={"200": {"content": {XLSX: {"schema": {"type": "string", "format": "binary"}}}},
                                        **REFUSALS})
@blp.arguments(ParsQuery, location="query")
def pars(query: dict[str, Any], slug: str) -> Response:
    """ACCME's PARS learner batch upload as .xlsx: sheet Learners, one row per reportable learner (README,
    "Reports to accreditors"), and sheet Not reportable for those missing a required identifier."""
    report = accreditor_reports.gather(get_session(), current_organisation().id, slug, query["system"])
    return _download(accreditor_reports.pars_workbook(report, query["activity_id"]), XLSX,
                     f"{slug}-{query['system']}-pars-learners.xlsx")


@blp.route("/events/<slug:slug>/accreditor-reports/summary", methods=["GET"])
@organiser_event_required
@blp.doc(security=ORGANISER, responses=REFUSALS)
@blp.alt_response(200, schema={"type": "string", "format": "binary"}, content_type="application/pdf", success=True,
                  description="the PDF with format=pdf or Accept: application/pdf")
@blp.arguments(SummaryQuery, location="query")
@blp.response(200, SummaryOutput)
def summary(query: dict[str, Any], slug: str) -> Any:
    """The event report for the accreditor: participants by country and profession, credits, evaluation
    results, faculty and disclosures."""
    found = accreditor_reports.summary(get_session(), current_organisation().id, slug, query["system"])
    wanted = query.get("format") or ("pdf" if request.accept_mimetypes.best == "application/pdf" else "json")
    if wanted == "pdf":
        return _download(accreditor_reports.summary_pdf(found), "application/pdf",
                         f"{slug}-{query['system']}-accreditor-summary.pdf")
    return found


@blp.route("/events/<slug:slug>/accreditor-reports/learners", methods=["GET"])
@organiser_event_required
@blp.doc(security=ORGANISER, responses=REFUSALS)
@blp.alt_response(200, schema=CSV, content_type="text/csv", success=True,
                  description="one row per learner: identifiers, consent times, credits, reportable")
@blp.arguments(ReportQuery, location="query")
def learners(query: dict[str, Any], slug: str) -> Response:
    """Every learner of the system with every identifier it asks for and the credits, as CSV."""
    report = accreditor_reports.gather(get_session(), current_organisation().id, slug, query["system"])
    return csv_response(csv_chunks(accreditor_reports.learner_header(report.system),
                                   [accreditor_reports.learner_rows(report)]),
                        f"{slug}-{query['system']}-learners.csv")
