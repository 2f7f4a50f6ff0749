"""signed credentials: signing keys and status list entries (issue 13)

Revision ID: 0008_signed_credentials
Revises: 0007_rules_in_systems
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0008_signed_credentials'
down_revision = '0007_rules_in_systems'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
