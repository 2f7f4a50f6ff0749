"""Events: the list with counts and revenue, create and edit (placeholder, being built)."""
from __future__ import annotations

from ..models import Role
from .core import render, route


@route("/events", Role.VIEWER)
def events() -> tuple[str, int]:
    return render("console/placeholder.html", title="Events")


@route("/events/<slug:slug>", Role.VIEWER)
def event_overview(slug: str) -> tuple[str, int]:
    return render("console/placeholder.html", title="Event")


@route("/events/<slug:slug>/edit", Role.STAFF, methods=("GET", "POST"))
def event_edit(slug: str) -> tuple[str, int]:
    return render("console/placeholder.html", title="Event settings")
