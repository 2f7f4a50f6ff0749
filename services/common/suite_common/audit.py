"""The audit log: every change an organiser makes, and every export of personal data.

Recorded for all organiser API calls in one place (a hook of the request's unit of work), so a new endpoint
is audited without anyone remembering to: who (organisation and token), when, what (method,
route and its parameters), and the outcome. Each service keeps its own log in its own
database and shows it at ``GET /api/v1/audit``.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask, Response, g, request
from marshmallow import Schema, fields, validate
from sqlalchemy import JSON, Index, String, select
from sqlalchemy.orm import Mapped, Session, declared_attr, mapped_column

from .api import ORGANISER, SuiteBlueprint
from .auth import current_organisation, organiser_required
from .db import UTCDateTime, get_session, utcnow
from .logs import current_request_id
from .routing import Id

WRITES = {"POST", "PUT", "PATCH", "DELETE"}
# Reads that hand out personal data in bulk are audited too.
PERSONAL_READS = ("/registrations", "/privacy/export", "/evaluations", "/attendance", "/certificates",
                  "/accreditor-reports/pars", "/accreditor-reports/summary", "/accreditor-reports/learners")


class AuditMixin:
    """Columns of an audit table; a service declares ``class AuditEntry(AuditMixin, Base)``."""

    __tablename__ = "audit_log"

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Index, ...]:  # noqa: N805 - a new Index per service's table
        return (Index("ix_audit_log_organisation", "organisation_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column()
    actor: Mapped[str] = mapped_column(String(200))
    method: Mapped[str] = mapped_column(String(10))
    route: Mapped[str] = mapped_column(String(300))
    target: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[int] = mapped_column()
    request_id: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


def _audited(method: str, rule: str) -> bool:
    if rule.startswith("/console/"):  # the organiser console: every change made in it, and its CSV downloads
        return (method in WRITES and not rule.startswith("/console/sign-")) or rule.endswith(".csv")
    if not rule.startswith("/api/v1/"):
        return False
    return method in WRITES or rule.endswith(PERSONAL_READS)


def audit_entries(session: Session, model: type[AuditMixin], organisation_id: int, before: int | None,
                  limit: int) -> list[Any]:
    """One organisation's entries, newest first, ids below ``before``: the API's page, and the
    console's audit log reads registration's own entries through this same query."""
    rows = select(model).where(model.organisation_id == organisation_id)
    if before:
        rows = rows.where(model.id < before)
    return list(session.scalars(rows.order_by(model.id.desc()).limit(limit)))


def init_audit(app: Flask, model: type[AuditMixin]) -> SuiteBlueprint:
    """Records organiser calls in ``model``'s table; returns the blueprint that lists them."""

    def _record(response: Response) -> None:
        """Adds the entry to the request's own unit of work: it commits with the change it records,
        and a refusal (4xx, its change rolled back) is recorded alone."""
        organisation = g.get("organisation")
        rule = request.url_rule.rule if request.url_rule else ""
        if organisation is None or not _audited(request.method, rule):
            return
        target = {k: v for k, v in (request.view_args or {}).items() if isinstance(v, str | int)}
        get_session().add(model(organisation_id=organisation.id, actor=organisation.actor or "organiser token",
                                method=request.method, route=rule, target=target,
                                status=response.status_code, request_id=current_request_id(), at=utcnow()))

    app.extensions["suite_db"].on_request_end(_record)

    blp = SuiteBlueprint("audit", __name__, url_prefix="/api/v1", description="Audit log")

    class AuditQuery(Schema):
        before = Id(metadata={"description": "next_cursor of the previous page"})
        limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))

    class AuditEntryOutput(Schema):
        id = fields.Integer()
        actor = fields.String()
        method = fields.String()
        route = fields.String()
        target = fields.Dict()
        status = fields.Integer()
        request_id = fields.String(allow_none=True)
        at = fields.AwareDateTime()

    class AuditPage(Schema):
        items = fields.List(fields.Nested(AuditEntryOutput))
        next_cursor = fields.Integer(allow_none=True)

    @blp.route("/audit", methods=["GET"])
    @organiser_required
    @blp.doc(security=ORGANISER)
    @blp.arguments(AuditQuery, location="query")
    @blp.response(200, AuditPage)
    def audit_log(query: dict[str, Any]) -> Any:
        """Who did what and when in this organisation, newest first."""
        items = audit_entries(get_session(), model, current_organisation().id, query.get("before"), query["limit"])
        return {"items": items, "next_cursor": items[-1].id if len(items) == query["limit"] else None}

    return blp
