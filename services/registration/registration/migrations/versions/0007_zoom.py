"""Zoom connection, webinars and registrants (issue 15)

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa
import suite_common.db


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('zoom_connections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.String(length=100), nullable=False),
    sa.Column('client_id', sa.String(length=200), nullable=False),
    sa.Column('client_secret_encrypted', sa.Text(), nullable=False),
    sa.Column('webhook_secret_token_encrypted', sa.Text(), nullable=False),
    sa.Column('access_token_encrypted', sa.Text(), nullable=True),
    sa.Column('access_token_expires_at', suite_common.db.UTCDateTime(), nullable=True),
    sa.Column('created_at', suite_common.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', suite_common.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_zoom_connections_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_zoom_connections')),
    sa.UniqueConstraint('organisation_id', name=op.f('uq_zoom_connections_organisation_id'))
    )
    with op.batch_alter_table('zoom_connections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_zoom_connections_account_id'), ['account_id'], unique=False)

    op.create_table('zoom_registrants',
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('webinar_id', sa.String(length=30), nullable=False),
    sa.Column('registrant_id', sa.String(length=100), nullable=False),
    sa.Column('join_url', sa.String(length=1000), nullable=False),
    sa.Column('given_name', sa.String(length=200), nullable=False),
    sa.Column('family_name', sa.String(length=200), nullable=False),
    sa.Column('link_version', sa.Integer(), nullable=False),
    sa.Column('cancelled_at', suite_common.db.UTCDateTime(), nullable=True),
    sa.Column('created_at', suite_common.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', suite_common.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['registration_id'], ['registrations.id'], name=op.f('fk_zoom_registrants_registration_id_registrations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('registration_id', name=op.f('pk_zoom_registrants'))
    )
    with op.batch_alter_table('zoom_registrants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_zoom_registrants_registrant_id'), ['registrant_id'], unique=False)

    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('zoom_webinar_id', sa.String(length=30), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_column('zoom_webinar_id')
    with op.batch_alter_table('zoom_registrants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_zoom_registrants_registrant_id'))
    op.drop_table('zoom_registrants')
    with op.batch_alter_table('zoom_connections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_zoom_connections_account_id'))
    op.drop_table('zoom_connections')
