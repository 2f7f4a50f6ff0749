"""Messages and template overrides (notifications), the audit log (placeholder, being built)."""
from __future__ import annotations

from ..models import Role
from .core import render, route


@route("/messages", Role.VIEWER)
def messages() -> tuple[str, int]:
    return render("console/placeholder.html", title="Messages")


@route("/audit", Role.VIEWER)
def audit_log() -> tuple[str, int]:
    return render("console/placeholder.html", title="Audit log")
