"""Command line: organisations and tokens, demo data.

``flask --app registration tokens create --org demo --name laptop`` prints a token
once; organiser tokens work on all three services. ``flask --app registration db
upgrade`` comes from the common package.
"""
from __future__ import annotations

from pathlib import Path

import click
from flask import Flask

from suite_common.db import get_db

from .services import organisations


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

    @app.cli.command("seed-demo")
    @click.option("--token-file", type=click.Path(path_type=Path), required=True)
    def seed_demo(token_file: Path) -> None:
        """Create the demo organisation, conference and webinar once; print the demo token."""
        from .demo import seed

        with get_db().session_scope() as session:
            token = seed(session, token_file)
        click.echo(f"Organiser token: {token}")
