"""``flask --app certificates keys ...``: the organisations' credential signing keys."""
from __future__ import annotations

from pathlib import Path

import click
from flask import Flask

from suite_common.db import get_db


def register_keys_cli(app: Flask) -> None:
    from .services import signing_keys

    @app.cli.group("keys")
    def keys() -> None:
        """Signing keys of the signed credentials (Open Badges 3.0 VC-JWT)."""

    @keys.command("list")
    @click.option("--organisation", "organisation_id", type=click.IntRange(1, signing_keys.MAX_ORGANISATION_ID),
                  help="one organisation's id (default: every organisation's keys)")
    def list_keys(organisation_id: int | None) -> None:
        """Each key's organisation, kid, creation and retirement (public facts only)."""
        with get_db().session_scope() as session:
            for key in signing_keys.listed(session, organisation_id):
                retired = f"retired {key.retired_at.isoformat()}" if key.retired_at else "current"
                click.echo(f"{key.organisation_id}\t{signing_keys.kid(key)}\t{key.created_at.isoformat()}\t{retired}")

    @keys.command("rotate")
    @click.option("--organisation", "organisation_id", required=True,
                  type=click.IntRange(1, signing_keys.MAX_ORGANISATION_ID),
                  help="the organisation's id (the number in its credentials' issuer and kid URLs)")
    @click.option("--private-key-file", type=click.Path(path_type=Path, exists=True, dir_okay=False),
                  help="the organisation's own P-256 private key (PEM) instead of a new one made here")
    def rotate(organisation_id: int, private_key_file: Path | None) -> None:
        """Makes a new key current; the old one is retired and stays in the JWKS, so earlier credentials
        keep verifying. Prints the new kid."""
        try:
            offered = signing_keys.imported(private_key_file.read_bytes()) if private_key_file else None
            with get_db().session_scope() as session:
                key = signing_keys.rotate(session, organisation_id, offered)
                click.echo(f"New signing key: {signing_keys.kid(key)}")
        except signing_keys.KeyRefused as refused:
            raise click.ClickException(str(refused)) from None
