"""Migration 0007 drops the accreditation row's copy of the first credit system's rules on a database that
holds events (SQLite refused to when the table was rebuilt under credit_systems' foreign key), and its
downgrade gives the columns back, filled from the first system."""
from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command

import certificates
from suite_common.db import make_engine
from suite_common.migrations import alembic_config
from tests.support.databases import fresh_database

MIGRATIONS = Path(certificates.__file__).parent / "migrations"


def test_upgrade_and_downgrade_with_rules_and_systems_stored(backend: str, tmp_path: Path) -> None:
    with fresh_database(backend, tmp_path, "certificates") as url:
        config = alembic_config(MIGRATIONS, url)
        command.upgrade(config, "0006_claims_presence")
        engine = make_engine(url)
        try:
            with engine.begin() as connection:
                connection.execute(sa.text(
                    "INSERT INTO accreditations (id, organisation_id, event_slug, body, credit_unit, statement, "
                    "credit_mode, credit_step, min_session_share, daily_caps, evaluation_required, "
                    "evaluation_questions, session_questions, signatory_name, signatory_title, organisation_name, "
                    "updated_at) VALUES (1, 1, 'congress', 'EACCME', 'European CME credits', 'Accredited.', "
                    "'proportional', 0.5, 0.5, '{}', false, '[]', '[]', 'Eva', 'Chair', 'Society', "
                    "'2026-01-01 00:00:00')"))
                connection.execute(sa.text(
                    "INSERT INTO credit_systems (accreditation_id, position, code, name, body, statement, "
                    "credit_mode, credit_step, min_session_share, daily_caps, evaluation_required, claim_required, "
                    "presence_codes_required) VALUES "
                    "(1, 0, 'ECMEC', 'European CME credits', 'EACCME', 'Accredited.', 'proportional', 0.5, 0.5, "
                    "'{}', false, false, 0), "
                    "(1, 1, 'NVVTG', 'NVvTG punten', 'NVvTG', 'Geaccrediteerd.', 'session', 1, 0.5, '{}', true, "
                    "true, 2)"))
            command.upgrade(config, "head")
            columns = {c["name"] for c in sa.inspect(engine).get_columns("accreditations")}
            assert not columns & {"body", "credit_step", "evaluation_required"}
            command.downgrade(config, "0006_claims_presence")
            with engine.connect() as connection:
                restored = connection.execute(sa.text(
                    "SELECT body, credit_unit, credit_mode, evaluation_required FROM accreditations")).one()
            assert (restored[0], restored[1], restored[2], bool(restored[3])) == (
                "EACCME", "European CME credits", "proportional", True)
            command.upgrade(config, "head")
            with engine.connect() as connection:
                assert connection.execute(sa.text("SELECT count(*) FROM credit_systems")).scalar() == 2
        finally:
            engine.dispose()


def test_every_migration_since_0002_runs_on_a_database_with_certificates_and_revisions(
        backend: str, tmp_path: Path) -> None:
    """Batch mode rebuilds tables on SQLite; a table other rows refer to (certificates, by their revisions)
    could not be rebuilt with foreign keys enforced, so the upgrade failed only where there was data."""
    snapshot = ('{"credit_unit": "European CME credits", "credit_body": "EACCME", "statement": "Accredited.", '
                '"credits": "1.5", "sessions": []}')
    with fresh_database(backend, tmp_path, "certificates") as url:
        config = alembic_config(MIGRATIONS, url)
        command.upgrade(config, "0002")
        engine = make_engine(url)
        try:
            with engine.begin() as connection:
                connection.execute(sa.text(
                    "INSERT INTO certificates (id, organisation_id, event_slug, registration_id, email, participant, "
                    "credits, code, download_token, revision, snapshot, explanation, issued_at, updated_at) VALUES "
                    "(1, 1, 'congress', 7, 'zoe@h.example', 'Zoë Ł', 1.5, 'K7M2-Q9XP', 'token', 2, :snapshot, '{}', "
                    "'2026-01-01 00:00:00', '2026-01-01 00:00:00')"), {"snapshot": snapshot})
                connection.execute(sa.text(
                    "INSERT INTO certificate_revisions (certificate_id, revision, participant, credits, reason, "
                    "created_at) VALUES (1, 1, 'Zoe L', 1.5, 'issued', '2026-01-01 00:00:00')"))
            command.upgrade(config, "head")
            with engine.connect() as connection:
                assert connection.execute(sa.text("SELECT count(*) FROM certificate_revisions")).scalar() == 1
                assert connection.execute(sa.text("SELECT code FROM certificates")).scalar() == "K7M2-Q9XP"
                if backend == "sqlite":
                    assert connection.execute(sa.text("PRAGMA foreign_key_check")).all() == []
        finally:
            engine.dispose()
