"""Turning a message's template and context into subject, text and HTML.

Templates are Jinja, in a sandbox (organisers upload their own wording), with
undefined names as errors: a template that does not render is refused when it is
uploaded, not discovered when the mail is due. HTML is autoescaped.

A mail is rendered in its registration's language (``Message.language``): the shipped wording
says everything through ``_()`` / ``ngettext()`` (Jinja's i18n extension, new style), which each
language's environments resolve from notifications' catalog. The sender renders outside any
request, so the catalogs are installed per language here rather than chosen by Flask-Babel. The
context's dates and amounts arrive formatted in that language by the service that sent them.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from suite_common.branding import Branding
from suite_common.i18n import DEFAULT_LANGUAGE, SHARED_TRANSLATIONS, compiled_translations, format_number, supported
from suite_common.names import full_name, written_family_first
from suite_common.plural import plural_count

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates" / "mail"
TEMPLATES = tuple(sorted(p.name.removesuffix(".subject.txt") for p in TEMPLATE_DIR.glob("*.subject.txt")))
TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"


def _number(value: object, language: str) -> str:
    """A number the sender gave as text ("4.5") as the language writes it ("4,5"); other text as it is."""
    try:
        return format_number(Decimal(str(value)), language)
    except (InvalidOperation, ValueError):
        return str(value)


@functools.cache
def _environment(kind: str, language: str) -> SandboxedEnvironment:
    """The sandbox for text or HTML in one language, with that language's catalog and number format."""
    environment = (SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True,
                                        extensions=["jinja2.ext.i18n"]) if kind == "text" else
                   SandboxedEnvironment(undefined=StrictUndefined, autoescape=True, extensions=["jinja2.ext.i18n"]))
    environment.install_gettext_translations(  # type: ignore[attr-defined]  # added by the i18n extension
        compiled_translations([TRANSLATIONS, SHARED_TRANSLATIONS], language), newstyle=True)
    environment.filters["number"] = functools.partial(_number, language=language)
    environment.globals["plural_count"] = functools.partial(plural_count, language=language)
    environment.globals["language"] = language
    return environment

SAMPLE_CONTEXT: dict[str, Any] = {
    "event": {"title": "Annual Meeting of Imaging Informatics", "kind": "conference", "slug": "annual-meeting",
              "starts": "Mon 01 Mar 2027, 09:00", "ends": "Tue 02 Mar 2027, 17:30", "timezone": "Europe/Vienna",
              "venue": "Congress Centre, Vienna", "join_url": "https://zoom.us/j/1", "url": "https://example.org/e"},
    "attendee": {"given_name": "Zoë", "family_name": "Łukasiewicz"},
    "registration": {"reference": "R23456789", "status": "confirmed", "rate": "Member",
                     "manage_url": "https://example.org/r/token", "waitlist_position": 3},
    "reminder": {"when": "tomorrow"},
    "ticket": {"code": "T23456789ABCDEFGHJKLMNPQR"},
    "payment": {"amount": "EUR 450.00", "receipt_url": "https://example.org/r/token/receipt"},
    "invoice": {"number": "2027-0001", "amount": "EUR 450.00", "due": "2027-02-01", "url": "https://example.org/i"},
    "refund": {"amount": "EUR 405.00"},
    "cancellation": {"reason": "request"},
    "approval": {"reason": "Please send proof of training status."},
    "certificate": {"credits": "4.5", "body": "EACCME", "code": "K7M2-Q9XP", "download_url": "https://example.org/c/t",
                    "verify_url": "https://example.org/verify/K7M2-Q9XP",
                    "credential_url": "https://example.org/c/t/credential.jwt",
                    "transcript_url": "https://example.org/o/1/transcript"},
    "announcement": {"subject": "Programme update", "body": "The keynote moves to room B."},
    "unsubscribe_url": "https://example.org/u/token",
    "organiser": {"name": "Ada Secretary", "organisation": "Sample Society"},
    "sign_in": {"url": "https://example.org/console/sign-in/token", "minutes": 15},
    "faculty": {"name": "Dr Ada Quinn", "role": "speaker", "url": "https://example.org/disclosure/token",
                "sessions": ["S2 Deep learning in chest CT"]},
    "transcript": {"organisation": "Sample Society", "url": "https://example.org/o/sample/transcript/token",
                   "days": 7},
}


class RenderError(ValueError):
    """The template cannot be rendered with this context; the message says where."""


@dataclass(frozen=True)
class Wording:
    subject: str
    text: str
    html: str | None


@dataclass(frozen=True)
class HeaderLogo:
    """The society's logo as the HTML layout shows it: the inline part it points to (``cid:``) and
    the size to draw it at, so the header keeps its height before the image loads."""

    content_id: str  # without the angle brackets
    width: int
    height: int


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


@functools.cache
def file_wording(template: str) -> Wording:
    def read(suffix: str) -> str:
        return (TEMPLATE_DIR / f"{template}{suffix}").read_text(encoding="utf-8")

    return Wording(read(".subject.txt").strip(), read(".txt"), read(".html"))  # a subject is one line


@functools.lru_cache(maxsize=1024)
def _compiled(kind: str, source: str, language: str = DEFAULT_LANGUAGE) -> Template:
    """Compiling is most of the cost of a mail; the same wording is compiled once per process and language."""
    return _environment(kind, language).from_string(source)


_LAYOUT = (TEMPLATE_DIR / "_layout.html").read_text(encoding="utf-8")


# The society's signature under every plain-text mail: its name, footer (address, registered numbers)
# and privacy policy; the HTML layout shows the same.
_TEXT_FOOTER = ("\n-- \n{{ branding.display_name }}\n{% if branding.footer_text %}{{ branding.footer_text }}\n{% endif %}"
                "{% if branding.privacy_url %}{{ _('Privacy policy') }}: {{ branding.privacy_url }}\n{% endif %}")


def render(wording: Wording, context: dict[str, Any], sender_name: str, language: str | None = None,
           branding: Branding | None = None, logo: HeaderLogo | None = None) -> Rendered:
    """The mail in ``language`` (one the suite speaks; anything else, or none, is English), under the
    society's ``branding`` when the message belongs to an organisation (its name, colour and footer,
    and ``logo`` in the HTML header when it has one)."""
    language = supported(language) or DEFAULT_LANGUAGE
    context = _with_full_name(context)
    try:
        subject = " ".join(_compiled("text", wording.subject, language).render(context).split())
        text = _compiled("text", wording.text, language).render(context)
        content = _compiled("html", wording.html, language).render(context) if wording.html else _plain_to_html(text)
        if branding is not None and branding.display_name:
            text = text.rstrip("\n") + "\n" + _compiled("text", _TEXT_FOOTER, language).render(branding=branding)
        html = _compiled("html", _LAYOUT, language).render(subject=subject, content=Markup(content),
                                                           sender_name=sender_name, branding=branding,
                                                           logo=logo)
    except TemplateError as exc:
        location = f" (line {exc.lineno})" if getattr(exc, "lineno", None) else ""
        raise RenderError(f"{type(exc).__name__}: {exc.message}{location}") from exc
    if not subject:
        raise RenderError("The subject is empty.")
    return Rendered(subject, text, html)


def _with_full_name(context: dict[str, Any]) -> dict[str, Any]:
    """The attendee's name as printed, in their order (王 芳, family name first, when they chose it or
    their name is written in Han, kana or Hangul): the wording says ``attendee.full_name``, and a
    message queued before senders sent ``family_name_first`` still renders."""
    attendee = context.get("attendee")
    if not isinstance(attendee, dict) or "full_name" in attendee:
        return context
    given, family = str(attendee.get("given_name", "")), str(attendee.get("family_name", ""))
    first = attendee.get("family_name_first")
    name = full_name(given, family, written_family_first(given, family) if first is None else bool(first))
    return {**context, "attendee": {**attendee, "full_name": name}}


def _plain_to_html(text: str) -> str:
    return str(_compiled("html", "{% for p in paragraphs %}<p>{{ p }}</p>\n{% endfor %}").render(
        paragraphs=[p for p in text.split("\n\n") if p.strip()]))


# What each message type receives beyond event, attendee and registration.
EXTRA_CONTEXT = {
    "registration_confirmed": ("ticket",), "registration_promoted": ("ticket",),
    "registration_cancelled": ("refund", "cancellation"), "payment_received": ("payment",), "invoice_issued": ("invoice",),
    "approval_rejected": ("approval",), "reminder": ("reminder",), "webinar_join_link": ("reminder",), "certificate_ready": ("certificate",),
    "announcement": ("announcement", "unsubscribe_url"),
}
BASE_CONTEXT = ("event", "attendee", "registration")
# Messages to an organiser rather than an attendee: no event, attendee or registration.
ORGANISER_CONTEXT = {"console_sign_in": ("organiser", "sign_in"),
                     # to a speaker about their disclosure; to a learner who asked for their transcript
                     "faculty_disclosure_request": ("event", "faculty"), "transcript_link": ("transcript",)}


def sample_context(template: str) -> dict[str, Any]:
    keys = ORGANISER_CONTEXT.get(template) or BASE_CONTEXT + EXTRA_CONTEXT.get(template, ())
    return {key: SAMPLE_CONTEXT[key] for key in keys}


def check_wording(template: str, wording: Wording) -> None:
    """Raises RenderError unless the wording renders with what this message type is given."""
    render(wording, sample_context(template), "Sample Society")
