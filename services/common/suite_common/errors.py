"""One error format for every JSON API of the suite.

``{"error": {"code": "...", "message": "...", "fields": {...}}}`` with a 4xx status
for anything a client can send; pages get a short HTML error page instead.
"""
from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Flask, Response, jsonify, render_template, request
from flask_babel import LazyString, lazy_gettext
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

JSON_PREFIXES = ("/api/", "/internal/", "/webhooks/")

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
}

# What an HTML error page says in the page's language when nothing more particular was said: Werkzeug's
# own descriptions ("The requested URL was not found on the server...") are English only and written for
# developers. JSON errors keep their English messages (the contract's).
_PAGE_MESSAGES: dict[int, LazyString] = {
    400: lazy_gettext("The request could not be understood. Please go back and try again."),
    403: lazy_gettext("You do not have permission to see this page."),
    404: lazy_gettext("This page does not exist. Please check the address."),
    405: lazy_gettext("This page cannot be used in this way."),
    410: lazy_gettext("This page is no longer available."),
    413: lazy_gettext("What you sent is too large."),
    429: lazy_gettext("Too many requests. Please wait a minute and try again."),
    500: lazy_gettext("Something went wrong on our side; nothing was changed."),
}


class ApiError(Exception):
    """A refusal the client can understand and act on."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        fields: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields
        self.headers = headers or {}


def not_found(what: str = "resource") -> ApiError:
    return ApiError(404, "not_found", f"No such {what}.")


def validation_error(fields: dict[str, Any], message: str = "Some fields are not valid.") -> ApiError:
    return ApiError(422, "validation_error", message, fields)


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if fields:
        error["fields"] = fields
    return {"error": error}


def wants_json() -> bool:
    if request.path.startswith(JSON_PREFIXES) or request.path.endswith(".json"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def _flatten_webargs(messages: Any) -> dict[str, Any]:
    """webargs nests errors by location ({"json": {...}, "query": {...}}); clients want fields."""
    if not isinstance(messages, dict):
        return {"_schema": messages}
    fields: dict[str, Any] = {}
    for location, errors in messages.items():
        if isinstance(errors, dict):
            fields.update(errors)
        else:
            fields[location] = errors
    return fields


def _respond(status: int, code: str, message: str, fields: Any = None, headers: dict[str, str] | None = None,
             page_message: LazyString | None = None) -> Response:
    """The JSON error body, or the HTML error page (saying ``page_message``, translated, when given)."""
    if wants_json():
        response = jsonify(error_body(code, message, fields))
    else:
        response = Response(render_template("suite_common/error.html", status=status,
                                            message=str(page_message or message)), mimetype="text/html")
    response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def handle_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    if status >= 500:
        log.error("server error", exc_info=error)
        return _respond(status, "internal_error", "Something went wrong on our side; nothing was changed.",
                        page_message=_PAGE_MESSAGES[500])
    data = getattr(error, "data", None) or {}
    # A view's own description (abort(404, description=gettext(...))) stays; Werkzeug's default, and the
    # rate limiter's note on Retry-After (written for API clients), become the page's words.
    generic = not data.get("message") and (error.description == type(error).description or status == 429)
    fields = None
    message = data.get("message") or error.description or "Request refused."
    if "messages" in data:
        fields = _flatten_webargs(data["messages"])
        if status == 422:
            message = "Some fields are not valid."
        elif status == 400 and any("Invalid JSON" in str(v) for v in fields.values()):
            message = "The request body is not valid JSON."
            fields = None
    headers = dict(data.get("headers") or {})
    valid_methods = getattr(error, "valid_methods", None)
    if status == 405 and valid_methods:
        headers["Allow"] = ", ".join(valid_methods)
    return _respond(status, _CODES.get(status, "error"), str(message), fields, headers,
                    _PAGE_MESSAGES.get(status) if generic else None)


def register_error_handlers(app: Flask) -> None:
    # The HTML error page lives in this package, not in the service's own templates.
    app.register_blueprint(Blueprint("suite_common_errors", __name__, template_folder="templates"))
    app.register_error_handler(ApiError, lambda e: _respond(e.status, e.code, e.message, e.fields, e.headers))
    app.register_error_handler(
        ValidationError, lambda e: _respond(422, "validation_error", "Some fields are not valid.", _as_fields(e))
    )
    app.register_error_handler(HTTPException, handle_http_exception)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:  # pragma: no cover - exercised only by bugs
        log.exception("unhandled error")
        return _respond(500, "internal_error", "Something went wrong on our side; nothing was changed.",
                        page_message=_PAGE_MESSAGES[500])


def _as_fields(error: ValidationError) -> dict[str, Any]:
    messages = error.messages
    return messages if isinstance(messages, dict) else {"_schema": messages}
