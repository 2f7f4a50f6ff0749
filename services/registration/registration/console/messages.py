"""Messages and their wording (notifications), and the audit log of all three services.

Notifications keeps the messages and the organisers' template overrides, so these pages read
and write them through its organiser API as the signed-in person (``remote``): its schemas check
the filters and the wording, and a refusal comes back as the form's errors. The audit log merges
registration's own entries (the same query as its API) with the other two services' logs.
"""
from __future__ import annotations

import datetime as dt
import heapq
import itertools
from dataclasses import dataclass
from typing import Any

from flask import flash, request, url_for

from suite_common.audit import audit_entries
from suite_common.auth import current_organisation
from suite_common.db import get_session

from ..blueprints.lookups import organiser_event
from ..models import AuditEntry, Role
from ..services import events as event_service
from . import remote
from .core import render, route, see_other

MESSAGE_STATUSES = ("queued", "sent", "failed", "cancelled")
PAGE_SIZE = 50
AUDIT_SERVICES = ("registration", "notifications", "certificates")
# A service whose audit log has been read to its end, in the ``cursor_<service>`` parameter.
EXHAUSTED = "end"
VERBS = {"POST": "Created or ran", "PUT": "Set", "PATCH": "Changed", "DELETE": "Removed", "GET": "Read"}


def _moment(value: str | None) -> dt.datetime | None:
    """The other services answer times as ISO 8601 text; the templates show datetimes."""
    return dt.datetime.fromisoformat(value) if value else None


def _field_errors(refusal: remote.Refused) -> dict[str, list[str]]:
    """Notifications' per-field errors in the shape the form templates show."""
    return {name: [str(m) for m in (messages if isinstance(messages, list) else [messages])]
            for name, messages in refusal.fields.items()}


@route("/messages", Role.VIEWER)
def messages() -> tuple[str, int]:
    """What notifications sent, queued, failed (with why) or cancelled, newest first."""
    filters = {name: request.args.get(name, "").strip() for name in ("status", "to", "event")}
    params: dict[str, Any] = {name: value for name, value in filters.items() if value}
    if request.args.get("cursor"):
        params["cursor"] = request.args["cursor"]
    params["limit"] = PAGE_SIZE
    events = event_service.list_events(get_session(), current_organisation().id)
    try:
        page = remote.get_json("notifications", "/api/v1/messages", params)
    except remote.Refused as refusal:
        errors = _field_errors(refusal) or {"_schema": [refusal.message]}
        return render("console/messages.html", 422, items=[], next_url=None, filters=filters, events=events,
                      statuses=MESSAGE_STATUSES, errors=errors)
    items = [{**item, "sent_at": _moment(item.get("sent_at")), "send_at": _moment(item.get("send_at"))}
             for item in page["items"]]
    next_url = (url_for("console.messages", **{k: v for k, v in filters.items() if v}, cursor=page["next_cursor"])
                if page.get("next_cursor") else None)
    return render("console/messages.html", items=items, next_url=next_url, filters=filters, events=events,
                  statuses=MESSAGE_STATUSES, errors={})


# --- template overrides ---------------------------------------------------------------------------


def _template_path(slug: str, template: str = "") -> str:
    return f"/api/v1/events/{slug}/templates" + (f"/{template}" if template else "")


def _wording(slug: str, template: str) -> dict[str, Any]:
    wording = remote.get_json("notifications", _template_path(slug, template))
    return {**wording, "updated_at": _moment(wording.get("updated_at"))}


@route("/events/<slug:slug>/templates", Role.VIEWER)
def message_templates(slug: str) -> tuple[str, int]:
    """Every message type of an event, and whether the organisation has its own wording for it."""
    event = organiser_event(slug)
    wordings = remote.get_json("notifications", _template_path(slug))["items"]
    return render("console/templates.html", event=event, wordings=wordings)


@route("/events/<slug:slug>/templates/<template>", Role.VIEWER)
def message_template(slug: str, template: str) -> tuple[str, int]:
    """The wording of one message type for an event; staff may change it."""
    event = organiser_event(slug)
    wording = _wording(slug, template)
    return render("console/templates_edit.html", event=event, wording=wording, values=wording, errors={})


@route("/events/<slug:slug>/templates/<template>", Role.STAFF, methods=("POST",))
def message_template_save(slug: str, template: str) -> Any:
    """PUTs the wording; notifications renders it with sample data and refuses one that fails."""
    event = organiser_event(slug)
    values = {name: request.form.get(name, "") for name in ("subject", "text", "html")}
    body = {"subject": values["subject"], "text": values["text"], "html": values["html"] or None}
    try:
        remote.call("notifications", "PUT", _template_path(slug, template), json=body)
    except remote.Refused as refusal:
        wording = _wording(slug, template)
        errors = _field_errors(refusal) or {"template": [refusal.message]}
        return render("console/templates_edit.html", 422, event=event, wording=wording, values=values,
                      errors=errors)
    flash(f"The wording of “{template}” for this event is saved.")
    return see_other("console.message_template", slug=slug, template=template)


@route("/events/<slug:slug>/templates/<template>/reset", Role.STAFF, methods=("POST",))
def message_template_reset(slug: str, template: str) -> Any:
    """Removes the override: the event's messages of this type use the standard wording again."""
    organiser_event(slug)
    remote.call("notifications", "DELETE", _template_path(slug, template))
    flash(f"“{template}” uses the standard wording again.")
    return see_other("console.message_template", slug=slug, template=template)


# --- audit log ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditLine:
    """One entry of one service's log, as the page shows it."""

    service: str
    id: int
    at: dt.datetime
    actor: str
    method: str
    route: str
    target: dict[str, Any]
    status: int

    @property
    def what(self) -> str:
        """'Changed /api/v1/events/annual-meeting': the verb of the method, the route with its values."""
        path = self.route
        for name, value in self.target.items():
            for placeholder in (f"<{name}>", f"<int:{name}>", f"<slug:{name}>", f"<path:{name}>",
                                f"<string:{name}>"):
                path = path.replace(placeholder, str(value))
        return f"{VERBS.get(self.method, self.method)} {path}"


def _audit_page(service: str, cursor: str | None) -> list[AuditLine]:
    """One page of ``service``'s log below ``cursor`` (an entry id), newest first."""
    if cursor == EXHAUSTED:
        return []
    before = int(cursor) if cursor and cursor.isdigit() else None
    if service == "registration":
        rows = audit_entries(get_session(), AuditEntry, current_organisation().id, before, PAGE_SIZE)
        return [AuditLine(service, r.id, r.at, r.actor, r.method, r.route, r.target or {}, r.status) for r in rows]
    params: dict[str, Any] = {"limit": PAGE_SIZE, **({"before": before} if before else {})}
    items = remote.get_json(service, "/api/v1/audit", params)["items"]
    return [AuditLine(service, i["id"], dt.datetime.fromisoformat(i["at"]), i["actor"], i["method"], i["route"],
                      i.get("target") or {}, i["status"]) for i in items]


@route("/audit", Role.VIEWER)
def audit_log() -> tuple[str, int]:
    """The organisation's audit entries of all three services, newest first.

    Each service pages by its own ids, so the next page carries one cursor per service: the
    last entry of that service shown here, or ``end`` once its log is read through."""
    cursors = {service: request.args.get(f"cursor_{service}") for service in AUDIT_SERVICES}
    pages = {service: _audit_page(service, cursors[service]) for service in AUDIT_SERVICES}
    merged = heapq.merge(*pages.values(), key=lambda line: line.at, reverse=True)
    shown = list(itertools.islice(merged, PAGE_SIZE))
    next_cursors: dict[str, str] = {}
    for service, lines in pages.items():
        last_shown = [line.id for line in shown if line.service == service]
        if cursors[service] == EXHAUSTED or (len(last_shown) == len(lines) and len(lines) < PAGE_SIZE):
            next_cursors[f"cursor_{service}"] = EXHAUSTED
        elif last_shown:
            next_cursors[f"cursor_{service}"] = str(last_shown[-1])
        elif cursors[service]:
            next_cursors[f"cursor_{service}"] = str(cursors[service])
    more = any(value != EXHAUSTED for value in next_cursors.values()) or len(next_cursors) < len(AUDIT_SERVICES)
    next_url = url_for("console.audit_log", **next_cursors) if more and shown else None
    return render("console/audit.html", lines=shown, next_url=next_url)
