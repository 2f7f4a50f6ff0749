"""Organisations and their organiser tokens."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from suite_common import auth
from suite_common.db import utcnow

from ..models import ApiToken, Organisation
from . import accounts


def get_or_create_organisation(session: Session, slug: str, name: str | None = None) -> Organisation:
    organisation = session.scalar(select(Organisation).where(Organisation.slug == slug))
    if organisation is None:
        organisation = Organisation(slug=slug, name=name or slug)
        session.add(organisation)
        session.flush()
    return organisation


def create_token(session: Session, organisation: Organisation, name: str) -> str:
    """Returns the new token; it is not stored and cannot be shown again."""
    token = auth.new_token()
    session.add(ApiToken(organisation=organisation, name=name, token_hash=auth.hash_token(token)))
    session.flush()
    return token


def revoke_token(session: Session, token: str) -> bool:
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == auth.hash_token(token)))
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = utcnow()
    return True


def resolve_token(session: Session, token: str) -> auth.Organisation | None:
    """Whom a bearer credential speaks for: an API token, or a console session (with its person's role)."""
    if token.startswith(accounts.SESSION_PREFIX):
        person = accounts.signed_in(session, token, utcnow())
        return person.as_organisation() if person else None
    row = session.execute(
        select(Organisation.id, Organisation.slug, Organisation.name, ApiToken.id.label("token_id"),
               ApiToken.name.label("token_name"))
        .join(ApiToken, ApiToken.organisation_id == Organisation.id)
        .where(ApiToken.token_hash == auth.hash_token(token), ApiToken.revoked_at.is_(None))
    ).first()
    if row is None:
        return None
    return auth.Organisation(id=row.id, slug=row.slug, name=row.name, actor=f"token {row.token_id} ({row.token_name})")
