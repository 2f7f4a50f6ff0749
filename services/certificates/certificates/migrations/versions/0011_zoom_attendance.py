"""attendance that arrives from Zoom (issue 15)

Revision ID: 0011_zoom_attendance
Revises: 0010_transcripts
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0011_zoom_attendance'
down_revision = '0010_transcripts'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
