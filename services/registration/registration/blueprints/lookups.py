"""How views find what a request names: the organiser's own event or registration (another
organisation's is a 404, like a missing one), or the registration behind an attendee's link."""
from __future__ import annotations

from flask import abort
from flask_babel import gettext

from suite_common.auth import current_organisation
from suite_common.branding import show_branding_of
from suite_common.db import get_session

from ..models import Event, Registration
from ..services import events as event_service
from ..services import signup


def public_event(slug: str) -> Event:
    """The event of a public page, whose society's look the page wears."""
    event = event_service.get_public_event(get_session(), slug)
    show_branding_of(event.organisation_id)
    return event


def organiser_event(slug: str) -> Event:
    return event_service.get_event(get_session(), current_organisation().id, slug)


def organiser_registration(registration_id: int) -> Registration:
    return signup.registration_of_organisation(get_session(), current_organisation().id, registration_id)


def attendee_registration(token: str) -> Registration:
    registration = signup.by_manage_token(get_session(), token)
    if registration is None:
        abort(404, description=gettext("This link does not lead to a registration."))
    show_branding_of(registration.event.organisation_id)
    return registration
