"""The society's look (name, logo, colour, footer, privacy link, reply-to) on every page, mail and PDF.

Registration owns it (``/api/v1/organisation/branding``); the other services read it from
registration's internal API through ``RemoteBranding``, cached for a minute: a page or a batch of
mails must not ask registration once per render, and a changed colour may take that long to show.

The brand's colour is only ever a background under text whose colour is chosen here for the best
contrast (WCAG 2.1, 1.4.3): with black or white on any colour, one of them reaches at least 4.58:1,
so every colour an organiser may pick keeps the pages AA. The CSP allows no inline style, so the
colour reaches pages as a small stylesheet per organisation (``/brand/<id>/style.css``) and the
logo as ``/brand/<id>/logo``, served by each service from its own source.
"""
from __future__ import annotations

import base64
import hashlib
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol

import requests
from flask import Blueprint, Flask, Response, abort, g

from .client import ServiceClient
from .settings import Settings

log = logging.getLogger(__name__)

COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
DEFAULT_COLOUR = "#0b3d5c"
BLACK, WHITE = "#000000", "#ffffff"
CACHE_SECONDS = 60.0


def _channel(value: int) -> float:
    scaled = value / 255
    return scaled / 12.92 if scaled <= 0.04045 else ((scaled + 0.055) / 1.055) ** 2.4


def relative_luminance(colour: str) -> float:
    """WCAG 2.1's relative luminance of a #RRGGBB colour."""
    red, green, blue = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(red) + 0.7152 * _channel(green) + 0.0722 * _channel(blue)


def contrast_ratio(first: str, second: str) -> float:
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def text_colour_on(background: str) -> str:
    """Black or white, whichever contrasts more with ``background`` (at least 4.58:1 for any colour)."""
    return WHITE if contrast_ratio(background, WHITE) >= contrast_ratio(background, BLACK) else BLACK


@dataclass(frozen=True)
class Logo:
    content_type: str  # image/png or image/jpeg
    data: bytes

    @property
    def version(self) -> str:
        return hashlib.sha256(self.data).hexdigest()[:12]


@dataclass(frozen=True)
class Branding:
    """One organisation's look; ``display_name`` None means the suite's own neutral look."""

    organisation_id: int | None = None
    display_name: str | None = None
    primary_colour: str = DEFAULT_COLOUR
    footer_text: str | None = None
    privacy_url: str | None = None
    reply_to: str | None = None
    logo_version: str | None = None  # None: no logo

    @property
    def text_colour(self) -> str:
        return text_colour_on(self.primary_colour)

    @property
    def has_logo(self) -> bool:
        return self.logo_version is not None

    def as_json(self) -> dict[str, Any]:
        return {"organisation_id": self.organisation_id, "display_name": self.display_name,
                "primary_colour": self.primary_colour, "text_colour": self.text_colour,
                "footer_text": self.footer_text, "privacy_url": self.privacy_url, "reply_to": self.reply_to}


NEUTRAL = Branding()


class BrandingSource(Protocol):
    """Where a service learns an organisation's look: registration's database, or its internal API."""

    def branding(self, organisation_id: int) -> Branding | None: ...

    def logo(self, organisation_id: int) -> Logo | None: ...


def stylesheet(branding: Branding) -> str:
    """The rules that put the brand's colour on a page (loaded after the suite's style.css)."""
    colour, text = branding.primary_colour, branding.text_colour
    return (
        f"header.site {{ background: {colour}; color: {text}; }}\n"
        f"header.site a, header.site .brand-name {{ color: {text}; }}\n"
        f"button, .button {{ background: {colour}; color: {text}; }}\n"
        f"footer.site {{ border-top: 4px solid {colour}; }}\n"
    )


class RemoteBranding:
    """Registration's ``/internal/v1/organisations/<id>/branding``, cached per organisation for a
    minute. When registration cannot answer, the last answer (however old) or None: a page or mail
    without the society's colour is better than none at all."""

    def __init__(self, client: ServiceClient, ttl: float = CACHE_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.ttl = ttl
        self.clock = clock
        self._lock = threading.Lock()
        self._cache: dict[int, tuple[float, Branding | None, Logo | None]] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> RemoteBranding:
        return cls(ServiceClient(settings.registration_url, settings.service, settings.own_signing_key,
                                 timeout=5.0, retries=1))

    def _entry(self, organisation_id: int) -> tuple[Branding | None, Logo | None]:
        now = self.clock()
        with self._lock:
            cached = self._cache.get(organisation_id)
        if cached is not None and cached[0] > now:
            return cached[1], cached[2]
        try:
            response = self.client.get(f"/internal/v1/organisations/{organisation_id}/branding")
        except requests.RequestException:
            response = None
        if response is None or response.status_code not in (200, 404):
            log.warning("branding unavailable", extra={"organisation_id": organisation_id})
            return (cached[1], cached[2]) if cached is not None else (None, None)
        branding, logo = (None, None) if response.status_code == 404 else from_json(response.json())
        with self._lock:
            self._cache[organisation_id] = (now + self.ttl, branding, logo)
        return branding, logo

    def branding(self, organisation_id: int) -> Branding | None:
        return self._entry(organisation_id)[0]

    def logo(self, organisation_id: int) -> Logo | None:
        return self._entry(organisation_id)[1]


def to_json(branding: Branding, logo: Logo | None) -> dict[str, Any]:
    """The internal API's answer: the branding with the logo inline (base64), one call for both."""
    return {**branding.as_json(), "logo": None if logo is None else {
        "content_type": logo.content_type, "base64": base64.b64encode(logo.data).decode("ascii")}}


def from_json(data: dict[str, Any]) -> tuple[Branding, Logo | None]:
    logo = None
    if data.get("logo"):
        logo = Logo(data["logo"]["content_type"], base64.b64decode(data["logo"]["base64"]))
    branding = Branding(
        organisation_id=data["organisation_id"], display_name=data.get("display_name"),
        primary_colour=data.get("primary_colour") or DEFAULT_COLOUR, footer_text=data.get("footer_text"),
        privacy_url=data.get("privacy_url"), reply_to=data.get("reply_to"),
        logo_version=logo.version if logo else None)
    return branding, logo


# --- pages ---------------------------------------------------------------------------------------

def show_branding_of(organisation_id: int) -> None:
    """Says whose page this request renders: its header, colour and footer are that society's."""
    g.suite_branding_organisation = organisation_id


def page_branding() -> Branding:
    """The branding of the organisation whose page this is (see ``show_branding_of``), else neutral."""
    organisation_id = g.get("suite_branding_organisation")
    if organisation_id is None:
        return NEUTRAL
    cached: dict[int, Branding] = g.setdefault("suite_brandings", {})
    if organisation_id not in cached:
        source: BrandingSource = _source()
        cached[organisation_id] = source.branding(organisation_id) or replace(NEUTRAL, organisation_id=None)
    return cached[organisation_id]


def _source() -> BrandingSource:
    from flask import current_app

    source: BrandingSource = current_app.extensions["suite_branding"]
    return source


def branding_source() -> BrandingSource:
    """This service's source of branding (for mails and PDFs)."""
    return _source()


def init_branding(app: Flask, source: BrandingSource) -> None:
    """Every page's template gets ``branding``; ``/brand/<id>/style.css`` and ``/brand/<id>/logo``
    serve the colour and the logo from ``source``."""
    app.extensions["suite_branding"] = source
    blueprint = Blueprint("branding", __name__)

    @blueprint.get("/brand/<int(max=2147483647):organisation_id>/style.css")
    def brand_stylesheet(organisation_id: int) -> Response:
        branding = source.branding(organisation_id)
        if branding is None:
            abort(404)
        return Response(stylesheet(branding), mimetype="text/css", headers={"Cache-Control": "public, max-age=300"})

    @blueprint.get("/brand/<int(max=2147483647):organisation_id>/logo")
    def brand_logo(organisation_id: int) -> Response:
        logo = source.logo(organisation_id)
        if logo is None:
            abort(404)
        return Response(logo.data, mimetype=logo.content_type, headers={"Cache-Control": "public, max-age=300"})

    app.register_blueprint(blueprint)
    app.context_processor(lambda: {"branding": page_branding()})
