"""branding and name order (issue 14)

Revision ID: 0008
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


BRANDING_COLUMNS = ('brand_display_name', 'brand_colour', 'brand_footer', 'brand_privacy_url', 'brand_reply_to',
                    'logo', 'logo_content_type', 'logo_sha256')


def upgrade() -> None:
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('brand_display_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('brand_colour', sa.String(length=7), nullable=True))
        batch_op.add_column(sa.Column('brand_footer', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('brand_privacy_url', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('brand_reply_to', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('logo', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('logo_content_type', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('logo_sha256', sa.String(length=64), nullable=True))
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('family_name_first', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.drop_column('family_name_first')
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        for column in reversed(BRANDING_COLUMNS):
            batch_op.drop_column(column)
