"""Command line: organisations, tokens, the people of the console, demo data.

``flask --app registration tokens create --org demo --name laptop`` prints a token
once; organiser tokens work on all three services. ``flask --app registration organisers add``
adds a person of the organiser console (the first owner of an organisation has no one to add them
in the console), and ``organisers link`` prints a one-time sign-in link for them, for when mail
does not reach them yet. ``flask --app registration db upgrade`` comes from the common package.
"""
from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
from marshmallow import ValidationError, validate
from sqlalchemy import select

from suite_common.db import get_db, utcnow
from suite_common.errors import ApiError

from .models import Organisation, Role
from .services import accounts, organisations
from .services.urls import sign_in_url


def _an_address(_context: click.Context, _parameter: click.Parameter, value: str) -> str:
    """The sign-in link goes to this address: refuse one that cannot receive it."""
    try:
        validate.Email()(value)
    except ValidationError as error:
        raise click.BadParameter(f"{value!r} is not an email address") from error
    return value


def register_cli(app: Flask) -> None:
    @app.cli.group("orgs")
    def orgs() -> None:
        """Organisations."""

    @orgs.command("create")
    @click.option("--slug", required=True)
    @click.option("--name", required=True)
    def orgs_create(slug: str, name: str) -> None:
        with get_db().session_scope() as session:
            organisation = organisations.get_or_create_organisation(session, slug, name)
            click.echo(f"organisation {organisation.slug} (id {organisation.id})")

    @app.cli.group("tokens")
    def tokens() -> None:
        """Organiser tokens (printed once, stored hashed)."""

    @tokens.command("create")
    @click.option("--org", "org_slug", required=True, help="organisation slug (created if missing)")
    @click.option("--name", required=True, help="what the token is for, e.g. 'treasurer laptop'")
    def tokens_create(org_slug: str, name: str) -> None:
        with get_db().session_scope() as session:
            organisation = organisations.get_or_create_organisation(session, org_slug)
            click.echo(organisations.create_token(session, organisation, name))

    @tokens.command("revoke")
    @click.argument("token")
    def tokens_revoke(token: str) -> None:
        with get_db().session_scope() as session:
            if not organisations.revoke_token(session, token):
                raise click.ClickException("no such active token")
        click.echo("revoked")

    @app.cli.group("organisers")
    def organisers() -> None:
        """People of the organiser console (owner, staff, viewer) and their sign-in links."""

    @organisers.command("add")
    @click.option("--org", "org_slug", required=True, help="organisation slug (created if missing)")
    @click.option("--email", required=True, callback=_an_address)
    @click.option("--name", required=True, help="the person's name, as the console shows it")
    @click.option("--role", type=click.Choice([role.value for role in Role]), required=True,
                  help="viewer reads, staff run events, owner also manages people and tokens")
    def organisers_add(org_slug: str, email: str, name: str, role: str) -> None:
        with get_db().session_scope() as session:
            organisation = organisations.get_or_create_organisation(session, org_slug)
            try:
                account = accounts.add_account(session, organisation.id, email, name, Role(role))
            except ApiError as refusal:
                raise click.ClickException(refusal.message) from refusal
            click.echo(f"{account.email} is {account.role} of {organisation.slug} (person {account.id})")

    @organisers.command("link")
    @click.option("--org", "org_slug", required=True, help="organisation slug")
    @click.option("--email", required=True)
    def organisers_link(org_slug: str, email: str) -> None:
        """Print a fresh one-time sign-in link (15 minutes, works once), as the sign-in mail carries."""
        with get_db().session_scope() as session:
            organisation = session.scalar(select(Organisation).where(Organisation.slug == org_slug))
            account = accounts.find_account(session, organisation.id, email) if organisation else None
            if account is None:
                raise click.ClickException(f"{email} is no person of the organisation {org_slug!r}; "
                                           "add them with 'organisers add'")
            secret = accounts.create_sign_in_link(session, account, utcnow())
        click.echo(sign_in_url(secret))

    @app.cli.command("seed-demo")
    @click.option("--token-file", type=click.Path(path_type=Path), required=True)
    def seed_demo(token_file: Path) -> None:
        """Create the demo organisation, conference (with a participant) and webinar once; print the demo
        participant's page and the demo token (last)."""
        from .demo import participant_link, seed

        with get_db().session_scope() as session:
            token = seed(session, token_file)
            link = participant_link(session)
        click.echo(f"Demo participant: {link}")
        click.echo(f"Organiser token: {token}")
