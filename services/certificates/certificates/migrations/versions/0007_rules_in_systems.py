"""the credit rules live only in the credit systems: the accreditation row's copy of the first system goes

0005 carried each event's rules into its first credit system and kept them on the accreditation row
as a mirror for readers of one system; those readers now read the first system, so the copy (ten
columns that could disagree with it) is dropped. The downgrade restores the columns from the first system.

Revision ID: 0007_rules_in_systems
Revises: 0006_claims_presence
"""
from alembic import op
import sqlalchemy as sa


revision = '0007_rules_in_systems'
down_revision = '0006_claims_presence'
branch_labels = None
depends_on = None

MIRRORED = (
    sa.Column('body', sa.String(length=200), nullable=True),
    sa.Column('credit_unit', sa.String(length=200), nullable=True),
    sa.Column('statement', sa.Text(), nullable=True),
    sa.Column('credit_mode', sa.String(length=20), nullable=True),
    sa.Column('credit_step', sa.Numeric(precision=6, scale=2), nullable=True),
    sa.Column('min_session_share', sa.Numeric(precision=5, scale=4), nullable=True),
    sa.Column('max_credits', sa.Numeric(precision=6, scale=2), nullable=True),
    sa.Column('max_credits_per_day', sa.Numeric(precision=6, scale=2), nullable=True),
    sa.Column('daily_caps', sa.JSON(), nullable=True),
    sa.Column('evaluation_required', sa.Boolean(), nullable=True),
)
# The accreditation column and the first system's column it mirrored.
FROM_FIRST_SYSTEM = {'body': 'body', 'credit_unit': 'name', 'statement': 'statement', 'credit_mode': 'credit_mode',
                     'credit_step': 'credit_step', 'min_session_share': 'min_session_share',
                     'max_credits': 'max_credits', 'max_credits_per_day': 'max_credits_per_day',
                     'daily_caps': 'daily_caps'}


def upgrade() -> None:
    # A plain ALTER TABLE ... DROP COLUMN (SQLite has it since 3.35), not batch mode: batch mode
    # recreates the table, and SQLite refuses to drop a table that credit_systems' rows refer to.
    for column in MIRRORED:
        op.drop_column('accreditations', column.name)


def downgrade() -> None:
    for column in MIRRORED:
        op.add_column('accreditations', column.copy())
    for target, source in FROM_FIRST_SYSTEM.items():
        op.execute(f"UPDATE accreditations SET {target} = (SELECT {source} FROM credit_systems "
                   f"WHERE credit_systems.accreditation_id = accreditations.id AND position = 0)")
    op.execute("UPDATE accreditations SET evaluation_required = EXISTS (SELECT 1 FROM credit_systems "
               "WHERE credit_systems.accreditation_id = accreditations.id AND credit_systems.evaluation_required)")
