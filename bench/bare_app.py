"""The baseline of the sign-up burst: a bare Flask app doing one INSERT per request into PostgreSQL.

Run by gunicorn with the same settings as the services (``suite_common.gunicorn_conf``):
``gunicorn -c python:suite_common.gunicorn_conf "bench.bare_app:create_app()"`` with BARE_DSN (a
libpq connection string whose options set the search_path) and the table made by the benchmark.
One connection per gunicorn thread, autocommit: nothing between the request and the INSERT.
"""
from __future__ import annotations

import os
import threading
from typing import Any

import psycopg
from flask import Flask, jsonify, request

TABLE_SQL = """
CREATE TABLE IF NOT EXISTS bare_signups (
    id BIGSERIAL PRIMARY KEY,
    email TEXT NOT NULL,
    given_name TEXT NOT NULL,
    family_name TEXT NOT NULL,
    rate TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
)
"""


def create_app() -> Flask:
    dsn = os.environ["BARE_DSN"]
    local = threading.local()
    app = Flask(__name__)

    def connection() -> psycopg.Connection[Any]:
        conn = getattr(local, "conn", None)
        if conn is None or conn.closed:
            conn = local.conn = psycopg.connect(dsn, autocommit=True)
        return conn

    @app.get("/readyz")
    def ready() -> Any:
        return {"ok": True}

    @app.post("/api/v1/events/<slug>/registrations")
    def register(slug: str) -> Any:
        data = request.get_json()
        row = connection().execute(
            "INSERT INTO bare_signups (email, given_name, family_name, rate) VALUES (%s, %s, %s, %s) RETURNING id",
            (data["email"], data["given_name"], data["family_name"], data["rate"])).fetchone()
        return jsonify(id=row[0], status="confirmed"), 201

    return app
