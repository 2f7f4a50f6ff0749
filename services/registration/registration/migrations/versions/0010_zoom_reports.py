"""Zoom webhooks received and participants reports fetched (issue 15): the processed webhook events, and
the report fetches (durable jobs) that webinar.ended and organisers schedule

Revision ID: 0010
Revises: 0009
"""
from alembic import op
import sqlalchemy as sa
import suite_common.db


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('zoom_webhook_events',
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('event', sa.String(length=100), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('received_at', suite_common.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_zoom_webhook_events_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_zoom_webhook_events'))
    )
    op.create_table('zoom_report_fetches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('webinar_id', sa.String(length=30), nullable=False),
    sa.Column('reason', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('due_at', suite_common.db.UTCDateTime(), nullable=False),
    sa.Column('claimed_until', suite_common.db.UTCDateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('outcome', sa.JSON(), nullable=True),
    sa.Column('created_at', suite_common.db.UTCDateTime(), nullable=False),
    sa.Column('finished_at', suite_common.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_zoom_report_fetches_event_id_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_zoom_report_fetches_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_zoom_report_fetches'))
    )
    with op.batch_alter_table('zoom_report_fetches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_zoom_report_fetches_event_id'), ['event_id'], unique=False)
        batch_op.create_index('ix_zoom_report_fetches_due', ['status', 'due_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('zoom_report_fetches', schema=None) as batch_op:
        batch_op.drop_index('ix_zoom_report_fetches_due')
        batch_op.drop_index(batch_op.f('ix_zoom_report_fetches_event_id'))
    op.drop_table('zoom_report_fetches')
    op.drop_table('zoom_webhook_events')
