"""Security headers on every response.

A strict Content-Security-Policy (no inline script or style, nothing from other origins,
no framing), nosniff, a referrer policy that keeps tokens in URLs from leaking to other
sites, and HSTS when the service is served over HTTPS (its public URL is https, or the request
came over HTTPS, directly or through a trusted proxy). The API docs page needs Swagger
UI's inline start-up script, so /docs alone allows inline scripts.
"""
from __future__ import annotations

from collections.abc import Iterable

from flask import Flask, Response, request

STRICT = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
          "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'{targets}")
DOCS = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self' 'unsafe-inline'; object-src 'none'; frame-ancestors 'none'")


def init_security_headers(app: Flask, https: bool, form_targets: Iterable[str] = ()) -> None:
    """``form_targets``: other origins a form may lead to (Chrome applies form-action to redirects)."""
    strict = STRICT.format(targets="".join(f" {origin}" for origin in form_targets))

    @app.after_request
    def _headers(response: Response) -> Response:
        policy = DOCS if request.path.startswith("/docs") else strict
        response.headers.setdefault("Content-Security-Policy", policy)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if https or request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response
