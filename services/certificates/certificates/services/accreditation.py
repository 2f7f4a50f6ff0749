"""An event's credit rules and certificate text: storing them, the logo and signature images."""
from __future__ import annotations

import io
from typing import Any

from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from suite_common.errors import ApiError, validation_error

from ..models import Accreditation
from . import credit_systems, registry

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_IMAGE_SIDE = 4000  # pixels; a logo across the A4 page at 300 dpi needs about 2100


def check_png(data: bytes) -> None:
    """A PNG that decodes, of a sensible size: checked at upload, since every certificate PDF draws it later."""
    if not data.startswith(PNG_MAGIC):
        raise validation_error({"file": ["Upload a PNG image."]})
    try:
        with Image.open(io.BytesIO(data), formats=["PNG"]) as image:
            if max(image.size) > MAX_IMAGE_SIDE:
                raise validation_error({"file": [f"The image is {image.width} × {image.height} pixels; "
                                                 f"at most {MAX_IMAGE_SIDE} on each side, please."]})
            image.load()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise validation_error({"file": ["The PNG image cannot be read; it may be damaged."]}) from exc


def get(session: Session, organisation_id: int, slug: str, lock: bool = False) -> Accreditation | None:
    query = select(Accreditation).where(
        Accreditation.organisation_id == organisation_id, Accreditation.event_slug == slug)
    return session.scalar(query.with_for_update() if lock else query)


def require(session: Session, organisation_id: int, slug: str, lock: bool = False) -> Accreditation:
    accreditation = get(session, organisation_id, slug, lock)
    if accreditation is None:
        raise ApiError(409, "no_accreditation",
                       "Set the event's credit rules first (PUT /api/v1/events/{slug}/accreditation).")
    return accreditation


def put(session: Session, organisation_id: int, organisation_name: str, slug: str,
        data: dict[str, Any]) -> Accreditation:
    registry.event(organisation_id, slug)  # 404 unless the event is this organisation's
    accreditation = get(session, organisation_id, slug)
    if accreditation is None:
        accreditation = Accreditation(organisation_id=organisation_id, event_slug=slug)
        session.add(accreditation)
    credit_systems.replace(accreditation, credit_systems.systems_from(data))
    accreditation.evaluation_questions = data["evaluation_questions"]
    accreditation.session_questions = data["session_questions"]
    accreditation.signatory_name = data["signatory"]
    accreditation.signatory_title = data["signatory_title"]
    accreditation.organisation_name = data["organisation_name"] or organisation_name
    session.flush()
    return accreditation

