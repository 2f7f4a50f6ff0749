"""attendance that arrives from Zoom (issue 15): where each attendance report came from (an upload, or Zoom's
participants report fetched for a webinar) and when it was fetched

Revision ID: 0011_zoom_attendance
Revises: 0010_transcripts
"""
from alembic import op
import sqlalchemy as sa
import suite_common.db


revision = '0011_zoom_attendance'
down_revision = '0010_transcripts'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('attendance_reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=20), server_default='upload', nullable=False))
        batch_op.add_column(sa.Column('source_reference', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('fetched_at', suite_common.db.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('attendance_reports', schema=None) as batch_op:
        batch_op.drop_column('fetched_at')
        batch_op.drop_column('source_reference')
        batch_op.drop_column('source')
