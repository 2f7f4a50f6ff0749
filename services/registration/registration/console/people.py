"""People of the organisation and API tokens: owners only (placeholder, being built)."""
from __future__ import annotations

from ..models import Role
from .core import render, route


@route("/people", Role.OWNER)
def people() -> tuple[str, int]:
    return render("console/placeholder.html", title="People")


@route("/tokens", Role.OWNER)
def tokens() -> tuple[str, int]:
    return render("console/placeholder.html", title="API tokens")
