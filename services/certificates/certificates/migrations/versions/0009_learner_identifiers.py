"""learner identifiers with consent (issue 13): what each credit system's body needs to credit a learner,
and the identifiers participants give, with the consent they gave

Revision ID: 0009_learner_identifiers
Revises: 0008_signed_credentials
"""
from alembic import op
import sqlalchemy as sa
import suite_common.db


revision = '0009_learner_identifiers'
down_revision = '0008_signed_credentials'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('credit_systems', schema=None) as batch_op:
        batch_op.add_column(sa.Column('identifiers', sa.JSON(), nullable=False, server_default='[]'))
    with op.batch_alter_table('credit_systems', schema=None) as batch_op:
        batch_op.alter_column('identifiers', server_default=None)
    op.create_table('learner_identifiers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('event_slug', sa.String(length=64), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('system_code', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('value', sa.String(length=200), nullable=False),
    sa.Column('board', sa.String(length=20), nullable=True),
    sa.Column('birth_month', sa.Integer(), nullable=True),
    sa.Column('birth_day', sa.Integer(), nullable=True),
    sa.Column('consent_text', sa.Text(), nullable=False),
    sa.Column('consent_version', sa.String(length=16), nullable=False),
    sa.Column('consented_at', suite_common.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_learner_identifiers')),
    sa.UniqueConstraint('organisation_id', 'event_slug', 'registration_id', 'system_code', 'kind',
                        name=op.f('uq_learner_identifiers_organisation_id_event_slug_registration_id_system_code_kind'))
    )
    with op.batch_alter_table('learner_identifiers', schema=None) as batch_op:
        batch_op.create_index('ix_learner_identifiers_email', ['organisation_id', 'email'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('learner_identifiers', schema=None) as batch_op:
        batch_op.drop_index('ix_learner_identifiers_email')
    op.drop_table('learner_identifiers')
    with op.batch_alter_table('credit_systems', schema=None) as batch_op:
        batch_op.drop_column('identifiers')
