"""evaluations per session: session_questions on the rules, session_code on evaluations

Revision ID: 0004_session_evaluations
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa


revision = '0004_session_evaluations'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('accreditations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_questions', sa.JSON(), nullable=False, server_default='[]'))
    with op.batch_alter_table('accreditations', schema=None) as batch_op:
        batch_op.alter_column('session_questions', server_default=None)
    with op.batch_alter_table('evaluations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_code', sa.String(length=40), nullable=False, server_default=''))
        batch_op.drop_constraint(batch_op.f('uq_evaluations_organisation_id_event_slug_registration_id'),
                                 type_='unique')
        batch_op.create_unique_constraint(
            batch_op.f('uq_evaluations_organisation_id_event_slug_registration_id_session_code'),
            ['organisation_id', 'event_slug', 'registration_id', 'session_code'])


def downgrade() -> None:
    op.execute("DELETE FROM evaluations WHERE session_code <> ''")
    with op.batch_alter_table('evaluations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_evaluations_organisation_id_event_slug_registration_id_session_code'),
                                 type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_evaluations_organisation_id_event_slug_registration_id'),
                                          ['organisation_id', 'event_slug', 'registration_id'])
        batch_op.drop_column('session_code')
    with op.batch_alter_table('accreditations', schema=None) as batch_op:
        batch_op.drop_column('session_questions')
