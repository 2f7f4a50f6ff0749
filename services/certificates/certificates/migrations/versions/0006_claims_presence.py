"""claims and presence checks: presence codes, confirmations (codes entered, polls answered), wrong
codes per person and day, and the credits participants claim per credit system

Revision ID: 0006_claims_presence
Revises: 0005_credit_systems
"""
from alembic import op
import sqlalchemy as sa
import suite_common.db


revision = '0006_claims_presence'
down_revision = '0005_credit_systems'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('presence_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('event_slug', sa.String(length=64), nullable=False),
    sa.Column('session_code', sa.String(length=40), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('valid_from', suite_common.db.UTCDateTime(), nullable=False),
    sa.Column('valid_until', suite_common.db.UTCDateTime(), nullable=False),
    sa.Column('created_at', suite_common.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_presence_codes')),
    sa.UniqueConstraint('organisation_id', 'event_slug', 'code',
                        name=op.f('uq_presence_codes_organisation_id_event_slug_code'))
    )
    op.create_table('presence_confirmations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('event_slug', sa.String(length=64), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('session_code', sa.String(length=40), nullable=False),
    sa.Column('check_key', sa.String(length=80), nullable=False),
    sa.Column('source', sa.String(length=80), nullable=False),
    sa.Column('confirmed_at', suite_common.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_presence_confirmations')),
    sa.UniqueConstraint('organisation_id', 'event_slug', 'registration_id', 'check_key',
                        name=op.f('uq_presence_confirmations_organisation_id_event_slug_registration_id_check_key'))
    )
    with op.batch_alter_table('presence_confirmations', schema=None) as batch_op:
        batch_op.create_index('ix_presence_confirmations_session', ['organisation_id', 'event_slug', 'session_code'],
                              unique=False)
    op.create_table('presence_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('event_slug', sa.String(length=64), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('wrong', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_presence_attempts')),
    sa.UniqueConstraint('organisation_id', 'event_slug', 'registration_id', 'day',
                        name=op.f('uq_presence_attempts_organisation_id_event_slug_registration_id_day'))
    )
    op.create_table('claims',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('event_slug', sa.String(length=64), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('system_code', sa.String(length=20), nullable=False),
    sa.Column('credits', sa.Numeric(precision=6, scale=2), nullable=False),
    sa.Column('attestation', sa.String(length=300), nullable=False),
    sa.Column('claimed_at', suite_common.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claims')),
    sa.UniqueConstraint('organisation_id', 'event_slug', 'registration_id', 'system_code',
                        name=op.f('uq_claims_organisation_id_event_slug_registration_id_system_code'))
    )


def downgrade() -> None:
    op.drop_table('claims')
    op.drop_table('presence_attempts')
    with op.batch_alter_table('presence_confirmations', schema=None) as batch_op:
        batch_op.drop_index('ix_presence_confirmations_session')
    op.drop_table('presence_confirmations')
    op.drop_table('presence_codes')
