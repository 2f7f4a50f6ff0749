"""The roster, a registration's page and its actions, the member list (placeholder, being built)."""
from __future__ import annotations

from ..models import Role
from .core import render, route


@route("/members", Role.VIEWER)
def member_list() -> tuple[str, int]:
    return render("console/placeholder.html", title="Members")


@route("/events/<slug:slug>/registrations", Role.VIEWER)
def roster(slug: str) -> tuple[str, int]:
    return render("console/placeholder.html", title="Registrations")
