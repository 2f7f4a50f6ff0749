"""signed credentials: signing keys and status list entries (issue 13)

Revision ID: 0008_signed_credentials
Revises: 0007_rules_in_systems
"""
from alembic import op
import sqlalchemy as sa
import suite_common.db


revision = '0008_signed_credentials'
down_revision = '0007_rules_in_systems'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('signing_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('key_id', sa.String(length=64), nullable=False),
    sa.Column('algorithm', sa.String(length=10), nullable=False),
    sa.Column('public_jwk', sa.JSON(), nullable=False),
    sa.Column('private_key_encrypted', sa.Text(), nullable=False),
    sa.Column('created_at', suite_common.db.UTCDateTime(), nullable=False),
    sa.Column('retired_at', suite_common.db.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signing_keys')),
    sa.UniqueConstraint('organisation_id', 'key_id', name=op.f('uq_signing_keys_organisation_id_key_id'))
    )
    with op.batch_alter_table('signing_keys', schema=None) as batch_op:
        batch_op.create_index('uq_signing_keys_current', ['organisation_id'], unique=True,
                              sqlite_where=sa.text('retired_at IS NULL'), postgresql_where=sa.text('retired_at IS NULL'))
    op.create_table('status_lists',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('allocated', sa.Integer(), nullable=False),
    sa.Column('multiplier', sa.Integer(), nullable=False),
    sa.Column('offset', sa.Integer(), nullable=False),
    sa.Column('credential', sa.Text(), nullable=True),
    sa.Column('updated_at', suite_common.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_status_lists')),
    sa.UniqueConstraint('organisation_id', 'number', name=op.f('uq_status_lists_organisation_id_number'))
    )
    op.create_table('status_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('status_list_id', sa.Integer(), nullable=False),
    sa.Column('status_index', sa.Integer(), nullable=False),
    sa.Column('certificate_id', sa.Integer(), nullable=True),
    sa.Column('revoked_at', suite_common.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['certificate_id'], ['certificates.id'],
                            name=op.f('fk_status_entries_certificate_id_certificates'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['status_list_id'], ['status_lists.id'],
                            name=op.f('fk_status_entries_status_list_id_status_lists')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_status_entries')),
    sa.UniqueConstraint('certificate_id', name=op.f('uq_status_entries_certificate_id')),
    sa.UniqueConstraint('status_list_id', 'status_index', name=op.f('uq_status_entries_status_list_id_status_index'))
    )


def downgrade() -> None:
    op.drop_table('status_entries')
    op.drop_table('status_lists')
    with op.batch_alter_table('signing_keys', schema=None) as batch_op:
        batch_op.drop_index('uq_signing_keys_current', sqlite_where=sa.text('retired_at IS NULL'),
                            postgresql_where=sa.text('retired_at IS NULL'))
    op.drop_table('signing_keys')
