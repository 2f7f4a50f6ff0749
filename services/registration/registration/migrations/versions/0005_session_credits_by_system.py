"""a session's credits per credit system

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('event_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('credits_by_system', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('event_sessions', schema=None) as batch_op:
        batch_op.drop_column('credits_by_system')
