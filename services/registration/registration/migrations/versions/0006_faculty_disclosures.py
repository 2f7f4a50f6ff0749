"""faculty and disclosures (issue 13)

Revision ID: 0006
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa
import suite_common.db


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('faculty_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=10), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('email_key', sa.String(length=254), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('mitigation', sa.Text(), nullable=True),
    sa.Column('disclosed_at', suite_common.db.UTCDateTime(), nullable=True),
    sa.Column('disclosed_by', sa.String(length=10), nullable=True),
    sa.Column('attested_at', suite_common.db.UTCDateTime(), nullable=True),
    sa.Column('link_token_hash', sa.String(length=64), nullable=True),
    sa.Column('link_created_at', suite_common.db.UTCDateTime(), nullable=True),
    sa.Column('created_at', suite_common.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', suite_common.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_faculty_members_event_id_events')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_faculty_members')),
    sa.UniqueConstraint('link_token_hash', name=op.f('uq_faculty_members_link_token_hash'))
    )
    with op.batch_alter_table('faculty_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_faculty_members_email_key'), ['email_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_faculty_members_event_id'), ['event_id'], unique=False)

    op.create_table('faculty_sessions',
    sa.Column('faculty_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['faculty_id'], ['faculty_members.id'], name=op.f('fk_faculty_sessions_faculty_id_faculty_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['event_sessions.id'], name=op.f('fk_faculty_sessions_session_id_event_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('faculty_id', 'session_id', name=op.f('pk_faculty_sessions'))
    )
    with op.batch_alter_table('faculty_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_faculty_sessions_session_id'), ['session_id'], unique=False)

    op.create_table('financial_relationships',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('faculty_id', sa.Integer(), nullable=False),
    sa.Column('company', sa.String(length=200), nullable=False),
    sa.Column('nature', sa.String(length=200), nullable=False),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['faculty_id'], ['faculty_members.id'], name=op.f('fk_financial_relationships_faculty_id_faculty_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_financial_relationships'))
    )
    with op.batch_alter_table('financial_relationships', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_financial_relationships_faculty_id'), ['faculty_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('financial_relationships', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_financial_relationships_faculty_id'))
    op.drop_table('financial_relationships')
    with op.batch_alter_table('faculty_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_faculty_sessions_session_id'))
    op.drop_table('faculty_sessions')
    with op.batch_alter_table('faculty_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_faculty_members_event_id'))
        batch_op.drop_index(batch_op.f('ix_faculty_members_email_key'))
    op.drop_table('faculty_members')
