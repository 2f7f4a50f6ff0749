"""One unit of work per request: the request commits once, with its audit entry, or keeps nothing."""
from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, Response, stream_with_context
from sqlalchemy import func, select

from suite_common.auth import organiser_required
from suite_common.db import get_session
from suite_common.errors import ApiError

ROUTE = "/api/v1/test-unit-of-work/<outcome>"


@pytest.fixture
def app(registration_app: Flask) -> Flask:
    """The registration app with one organiser route that adds a society and ends as told."""
    from registration.models import Organisation

    @organiser_required
    def write_then(outcome: str) -> Any:
        session = get_session()
        session.add(Organisation(slug=f"made-{outcome}", name="Made by the view"))
        if outcome == "duplicate":  # refused by the unique slug only when the request commits
            session.add(Organisation(slug=f"made-{outcome}", name="Made twice"))
        if outcome == "refused":
            raise ApiError(422, "validation_error", "Refused after writing.")
        if outcome == "broken":
            raise RuntimeError("a bug after writing")
        if outcome == "streamed":
            rows = stream_with_context(f"{slug}\n" for slug in session.scalars(select(Organisation.slug)))
            return Response(rows, mimetype="text/csv")
        return {"done": outcome}, 201

    registration_app.add_url_rule(ROUTE, view_func=write_then, methods=["POST"])
    return registration_app


def _kept(app: Flask, outcome: str) -> tuple[int, list[tuple[str, int]]]:
    """How many societies the view's request left, and the audit entries of its route."""
    from registration.models import AuditEntry, Organisation

    with app.extensions["suite_db"].session_scope() as session:
        made = session.scalar(select(func.count()).where(Organisation.slug == f"made-{outcome}"))
        audited = session.execute(select(AuditEntry.method, AuditEntry.status).where(AuditEntry.route == ROUTE)).all()
    return made or 0, [tuple(row) for row in audited]


def test_a_successful_request_commits_its_change_and_its_audit_entry_together(app: Flask, auth: dict[str, str]) -> None:
    response = app.test_client().post("/api/v1/test-unit-of-work/fine", headers=auth)
    assert response.status_code == 201
    assert _kept(app, "fine") == (1, [("POST", 201)])


def test_a_refusal_after_a_write_leaves_nothing_written_but_is_audited(app: Flask, auth: dict[str, str]) -> None:
    response = app.test_client().post("/api/v1/test-unit-of-work/refused", headers=auth)
    assert response.status_code == 422
    assert _kept(app, "refused") == (0, [("POST", 422)])


def test_an_exception_after_a_write_leaves_nothing_written_and_no_audit_entry(app: Flask, auth: dict[str, str]) -> None:
    response = app.test_client().post("/api/v1/test-unit-of-work/broken", headers=auth)
    assert response.status_code == 500 and response.get_json()["error"]["code"] == "internal_error"
    assert _kept(app, "broken") == (0, [])


def test_a_constraint_refusing_the_commit_answers_409_and_keeps_neither_change_nor_audit(
        app: Flask, auth: dict[str, str]) -> None:
    response = app.test_client().post("/api/v1/test-unit-of-work/duplicate", headers=auth)
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "conflict"
    assert response.headers["X-Request-ID"] and response.headers["X-Content-Type-Options"] == "nosniff"
    assert _kept(app, "duplicate") == (0, [])


def test_a_streamed_response_commits_before_its_body_is_read(app: Flask, auth: dict[str, str]) -> None:
    response = app.test_client().post("/api/v1/test-unit-of-work/streamed", headers=auth)
    assert _kept(app, "streamed") == (1, [("POST", 200)])  # committed though the body is not read yet
    assert "made-streamed" in response.get_data(as_text=True).split("\n")
