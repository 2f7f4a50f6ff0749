"""languages (issue 14): the registration's language; the organiser's texts in other languages

Revision ID: 0009
Revises: 0008
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Registrations made before languages were English: the only language their pages and mails had.
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=5), nullable=False, server_default='en'))
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('translations', sa.JSON(), nullable=False, server_default='{}'))
    with op.batch_alter_table('rates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('translations', sa.JSON(), nullable=False, server_default='{}'))


def downgrade() -> None:
    with op.batch_alter_table('rates', schema=None) as batch_op:
        batch_op.drop_column('translations')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_column('translations')
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.drop_column('language')
