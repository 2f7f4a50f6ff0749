"""Organiser accounts: the people of an organisation, their one-time sign-in links and console sessions.

Sign-in is by an emailed link (no password is ever stored): the link works once, within
``LINK_LIFETIME``; a session ends at sign-out, after ``SESSION_IDLE`` without use, and in any case
after ``SESSION_LIFETIME``. A console session's secret is also accepted as a bearer credential by
``organisations.resolve_token``, with the person's role, so the console calls the notifications and
certificates APIs exactly as a script with a token does, and those services enforce the same role.
"""
from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from suite_common import auth
from suite_common.emails import email_key, normalise_address
from suite_common.errors import ApiError, not_found
from suite_common.outbox import enqueue

from ..models import ApiToken, ConsoleSession, Organisation, OrganiserAccount, Outbox, Role, SignInLink
from ..models.organiser import ROLE_RANK
from .urls import sign_in_url

LINK_LIFETIME = dt.timedelta(minutes=15)
SESSION_IDLE = dt.timedelta(minutes=30)
SESSION_LIFETIME = dt.timedelta(hours=12)
# Console session secrets are told apart from API tokens (``sto_``) by their prefix.
SESSION_PREFIX = "scs_"
# last_seen_at is written at most this often, not on every page.
TOUCH_EVERY = dt.timedelta(minutes=1)
MESSAGES_PATH = "/internal/v1/messages"
# Unused, unexpired links one person may have at a time; further requests send nothing.
MAX_LIVE_LINKS = 3


@dataclass(frozen=True)
class SignedIn:
    """The person behind a console session."""

    session_id: int
    account_id: int
    organisation_id: int
    organisation_slug: str
    organisation_name: str
    name: str
    email: str
    role: Role
    last_seen_at: dt.datetime

    def may(self, role: Role) -> bool:
        """True when this person's role is ``role`` or above (viewer < staff < owner)."""
        return ROLE_RANK[self.role] >= ROLE_RANK[role]

    def as_organisation(self) -> auth.Organisation:
        return auth.Organisation(id=self.organisation_id, slug=self.organisation_slug, name=self.organisation_name,
                                 actor=f"{self.name} (console, person {self.account_id})", role=self.role.value)


class LinkRefused(Exception):
    """A sign-in link that cannot be used: ``reason`` is ``used``, ``expired`` or ``unknown``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- people -----------------------------------------------------------------------------------


def list_accounts(session: Session, organisation_id: int) -> list[OrganiserAccount]:
    return list(session.scalars(select(OrganiserAccount).where(OrganiserAccount.organisation_id == organisation_id)
                                .order_by(OrganiserAccount.name, OrganiserAccount.id)))


def get_account(session: Session, organisation_id: int, account_id: int) -> OrganiserAccount:
    account = session.get(OrganiserAccount, account_id)
    if account is None or account.organisation_id != organisation_id:
        raise not_found("person")
    return account


def find_account(session: Session, organisation_id: int, email: str) -> OrganiserAccount | None:
    """The person of the organisation with this address, found as the sign-in form finds them (by email key)."""
    return session.scalar(select(OrganiserAccount).where(
        OrganiserAccount.organisation_id == organisation_id, OrganiserAccount.email_key == email_key(email)))


def add_account(session: Session, organisation_id: int, email: str, name: str, role: Role) -> OrganiserAccount:
    """A new person of the organisation; 409 when the address already belongs to one of its people."""
    key = email_key(email)
    existing = session.scalar(select(OrganiserAccount.id).where(
        OrganiserAccount.organisation_id == organisation_id, OrganiserAccount.email_key == key))
    if existing is not None:
        raise ApiError(409, "conflict", "This address already belongs to a person of this organisation.",
                       {"email": ["Already a person of this organisation."]})
    account = OrganiserAccount(organisation_id=organisation_id, email=normalise_address(email), email_key=key,
                               name=name, role=role.value)
    session.add(account)
    session.flush()
    return account


def _owners(session: Session, organisation_id: int) -> int:
    return session.scalar(select(func.count()).select_from(OrganiserAccount).where(
        OrganiserAccount.organisation_id == organisation_id, OrganiserAccount.role == Role.OWNER.value)) or 0


def _keep_an_owner(session: Session, account: OrganiserAccount) -> None:
    if account.role == Role.OWNER.value and _owners(session, account.organisation_id) <= 1:
        raise ApiError(409, "last_owner", "An organisation needs at least one owner: make someone else owner first.")


def change_account(session: Session, account: OrganiserAccount, name: str, role: Role) -> OrganiserAccount:
    """A new name or role; a role change applies to the person's open sessions at once."""
    if role != account.role:
        _keep_an_owner(session, account)
    account.name = name
    account.role = role.value
    return account


def remove_account(session: Session, account: OrganiserAccount) -> None:
    """Removes the person with their links and sessions: they are signed out everywhere."""
    _keep_an_owner(session, account)
    session.delete(account)
    session.flush()


# --- sign-in links ------------------------------------------------------------------------------


def create_sign_in_link(session: Session, account: OrganiserAccount, now: dt.datetime) -> str:
    """A new one-time link's secret (only its hash is stored)."""
    secret = secrets.token_urlsafe(32)
    session.add(SignInLink(account_id=account.id, token_hash=auth.hash_token(secret), created_at=now,
                           expires_at=now + LINK_LIFETIME))
    session.flush()
    return secret


def request_sign_in(session: Session, address: str, now: dt.datetime) -> None:
    """Mails a fresh link to each account of this address (one per organisation it belongs to).

    An unknown address gets nothing, and the caller answers the same either way, so the form
    does not tell who is an organiser."""
    key = email_key(address)
    rows = session.execute(select(OrganiserAccount, Organisation.name).join(
        Organisation, Organisation.id == OrganiserAccount.organisation_id).where(OrganiserAccount.email_key == key))
    for account, organisation_name in rows:
        if _live_links(session, account.id, now) >= MAX_LIVE_LINKS:
            continue  # enough unused links are on their way: no mail-bombing through the form
        secret = create_sign_in_link(session, account, now)
        idempotency_key = f"console-sign-in:{auth.hash_token(secret)[:32]}"
        enqueue(session, Outbox, "notifications", "POST", MESSAGES_PATH, idempotency_key, {
            "idempotency_key": idempotency_key, "template": "console_sign_in", "to": account.email,
            "organisation_id": account.organisation_id,
            "context": {"organiser": {"name": account.name, "organisation": organisation_name},
                        "sign_in": {"url": sign_in_url(secret), "minutes": int(LINK_LIFETIME.total_seconds() // 60)}},
        })


def _live_links(session: Session, account_id: int, now: dt.datetime) -> int:
    return session.scalar(select(func.count()).select_from(SignInLink).where(
        SignInLink.account_id == account_id, SignInLink.used_at.is_(None), SignInLink.expires_at > now)) or 0


def check_link(session: Session, secret: str, now: dt.datetime) -> SignInLink:
    """The link, if it can still be used; LinkRefused says why not."""
    link = session.scalar(select(SignInLink).where(SignInLink.token_hash == auth.hash_token(secret)))
    if link is None:
        raise LinkRefused("unknown")
    if link.used_at is not None:
        raise LinkRefused("used")
    if link.expires_at <= now:
        raise LinkRefused("expired")
    return link


def redeem_link(session: Session, secret: str, now: dt.datetime) -> str:
    """Spends the link and opens a session; returns the session's secret for the cookie.

    The link is spent by a conditional UPDATE, so of two simultaneous uses exactly one signs in."""
    link = check_link(session, secret, now)
    spent = session.execute(update(SignInLink).where(SignInLink.id == link.id, SignInLink.used_at.is_(None))
                            .values(used_at=now).execution_options(synchronize_session=False))
    if spent.rowcount != 1:
        raise LinkRefused("used")
    account = session.get(OrganiserAccount, link.account_id)
    assert account is not None  # the link's foreign key
    account.last_signed_in_at = now
    # Sessions of this person that have run out are cleared as a new one opens.
    session.execute(delete(ConsoleSession).where(
        ConsoleSession.account_id == account.id,
        (ConsoleSession.last_seen_at < now - SESSION_IDLE) | (ConsoleSession.created_at < now - SESSION_LIFETIME)))
    session_secret = SESSION_PREFIX + secrets.token_urlsafe(32)
    session.add(ConsoleSession(account_id=account.id, token_hash=auth.hash_token(session_secret), created_at=now,
                               last_seen_at=now))
    session.flush()
    return session_secret


# --- sessions -----------------------------------------------------------------------------------


def signed_in(session: Session, secret: str, now: dt.datetime) -> SignedIn | None:
    """The person of a live session, or None (unknown, signed out, idle too long or too old)."""
    if not secret.startswith(SESSION_PREFIX) or len(secret) > 100:
        return None
    row = session.execute(
        select(ConsoleSession.id, ConsoleSession.created_at, ConsoleSession.last_seen_at, OrganiserAccount.id,
               OrganiserAccount.name, OrganiserAccount.email, OrganiserAccount.role, Organisation.id,
               Organisation.slug, Organisation.name)
        .join(OrganiserAccount, OrganiserAccount.id == ConsoleSession.account_id)
        .join(Organisation, Organisation.id == OrganiserAccount.organisation_id)
        .where(ConsoleSession.token_hash == auth.hash_token(secret))).first()
    if row is None:
        return None
    session_id, created_at, last_seen_at, account_id, name, email, role, org_id, org_slug, org_name = row
    if last_seen_at <= now - SESSION_IDLE or created_at <= now - SESSION_LIFETIME:
        return None
    return SignedIn(session_id=session_id, account_id=account_id, organisation_id=org_id, organisation_slug=org_slug,
                    organisation_name=org_name, name=name, email=email, role=Role(role), last_seen_at=last_seen_at)


def keep_alive(session: Session, person: SignedIn, now: dt.datetime) -> None:
    """Moves the idle deadline on; written at most once a minute per session."""
    if now - person.last_seen_at >= TOUCH_EVERY:
        session.execute(update(ConsoleSession).where(ConsoleSession.id == person.session_id).values(last_seen_at=now))


def sign_out(session: Session, secret: str) -> None:
    session.execute(delete(ConsoleSession).where(ConsoleSession.token_hash == auth.hash_token(secret)))


def purge_expired(session: Session, now: dt.datetime) -> int:
    """Deletes spent or expired links and run-out sessions (the retention purge calls this)."""
    links = session.execute(delete(SignInLink).where(
        (SignInLink.expires_at < now) | SignInLink.used_at.is_not(None))).rowcount
    sessions = session.execute(delete(ConsoleSession).where(
        (ConsoleSession.last_seen_at < now - SESSION_IDLE)
        | (ConsoleSession.created_at < now - SESSION_LIFETIME))).rowcount
    return (links or 0) + (sessions or 0)


# --- API tokens ----------------------------------------------------------------------------------


def list_tokens(session: Session, organisation_id: int) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).where(ApiToken.organisation_id == organisation_id)
                                .order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc())))


def revoke_token(session: Session, organisation_id: int, token_id: int, now: dt.datetime) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None or token.organisation_id != organisation_id:
        raise not_found("token")
    if token.revoked_at is None:
        token.revoked_at = now
    return token
