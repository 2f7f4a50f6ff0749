"""transcript links (issue 13)

Revision ID: 0010_transcripts
Revises: 0009_learner_identifiers
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0010_transcripts'
down_revision = '0009_learner_identifiers'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
