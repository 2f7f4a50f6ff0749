"""Liveness and readiness, the same on every service."""
from __future__ import annotations

from flask import Blueprint, jsonify

from .db import get_db

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    return jsonify(status="ok")


@blueprint.get("/readyz")
def readyz():  # type: ignore[no-untyped-def]
    if get_db().ping():
        return jsonify(status="ok")
    return jsonify(status="unavailable", reason="database does not answer"), 503
