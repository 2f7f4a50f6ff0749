"""CSRF for the server-rendered forms; JSON APIs carry no cookies and need none."""
from __future__ import annotations

from flask import Blueprint, Flask, current_app, request
from flask_wtf.csrf import CSRFProtect


def init_csrf(app: Flask) -> None:
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False  # checked per blueprint, by protect_forms
    app.config["WTF_CSRF_TIME_LIMIT"] = None  # the token lives as long as the session cookie
    CSRFProtect(app)


def protect_forms(blueprint: Blueprint) -> None:
    """Every POST to this blueprint must carry the session's CSRF token."""

    @blueprint.before_request
    def _check_csrf() -> None:
        if request.method == "POST" and current_app.config.get("WTF_CSRF_ENABLED", True):
            current_app.extensions["csrf"].protect()
