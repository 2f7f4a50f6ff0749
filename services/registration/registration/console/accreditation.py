"""Attendance, check-in, accreditation rules, evaluation questions, certificates (placeholder, being built)."""
from __future__ import annotations

from ..models import Role
from .core import render, route


@route("/events/<slug:slug>/attendance", Role.VIEWER)
def attendance(slug: str) -> tuple[str, int]:
    return render("console/placeholder.html", title="Attendance")


@route("/events/<slug:slug>/check-in", Role.STAFF, methods=("GET", "POST"))
def check_in(slug: str) -> tuple[str, int]:
    return render("console/placeholder.html", title="Check-in")


@route("/events/<slug:slug>/accreditation", Role.VIEWER)
def accreditation(slug: str) -> tuple[str, int]:
    return render("console/placeholder.html", title="Accreditation")


@route("/events/<slug:slug>/certificates", Role.VIEWER)
def certificates(slug: str) -> tuple[str, int]:
    return render("console/placeholder.html", title="Certificates")
