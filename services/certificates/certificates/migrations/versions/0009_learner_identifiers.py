"""learner identifiers with consent (issue 13)

Revision ID: 0009_learner_identifiers
Revises: 0008_signed_credentials
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0009_learner_identifiers'
down_revision = '0008_signed_credentials'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
