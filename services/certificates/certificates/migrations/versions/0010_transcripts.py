"""transcript links (issue 13)

Revision ID: 0010_transcripts
Revises: 0009_learner_identifiers
"""
from alembic import op
import sqlalchemy as sa
import suite_common.db


revision = '0010_transcripts'
down_revision = '0009_learner_identifiers'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('transcript_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('email_key', sa.String(length=254), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', suite_common.db.UTCDateTime(), nullable=False),
    sa.Column('expires_at', suite_common.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transcript_links')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_transcript_links_token_hash'))
    )
    with op.batch_alter_table('transcript_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transcript_links_email_key'), ['email_key'], unique=False)
        batch_op.create_index('ix_transcript_links_expiry', ['expires_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('transcript_links', schema=None) as batch_op:
        batch_op.drop_index('ix_transcript_links_expiry')
        batch_op.drop_index(batch_op.f('ix_transcript_links_email_key'))
    op.drop_table('transcript_links')
