"""credit systems per event; certificates' credits per system

Every existing event's rules become its one system, code CME (named by its credit unit), and
every existing certificate's credits are that system's: so nothing printed changes and no
certificate is re-issued for the upgrade itself.

Revision ID: 0005_credit_systems
Revises: 0004_session_evaluations
"""
from alembic import op
import sqlalchemy as sa
import suite_common.db


revision = '0005_credit_systems'
down_revision = '0004_session_evaluations'
branch_labels = None
depends_on = None

SYSTEM_RULES = ('credit_step', 'credit_mode', 'min_session_share', 'max_credits', 'max_credits_per_day',
                'daily_caps', 'evaluation_required')


def _plain(value) -> str:
    text = format(value, 'f')
    return text.rstrip('0').rstrip('.') if '.' in text else text


def upgrade() -> None:
    op.create_table('credit_systems',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('accreditation_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('body', sa.String(length=200), nullable=False),
    sa.Column('statement', sa.Text(), nullable=False),
    sa.Column('credit_mode', sa.String(length=20), nullable=False),
    sa.Column('credit_step', sa.Numeric(precision=6, scale=2), nullable=False),
    sa.Column('min_session_share', sa.Numeric(precision=5, scale=4), nullable=False),
    sa.Column('max_credits', sa.Numeric(precision=6, scale=2), nullable=True),
    sa.Column('max_credits_per_day', sa.Numeric(precision=6, scale=2), nullable=True),
    sa.Column('daily_caps', sa.JSON(), nullable=False),
    sa.Column('evaluation_required', sa.Boolean(), nullable=False),
    sa.Column('claim_required', sa.Boolean(), nullable=False),
    sa.Column('presence_codes_required', sa.Integer(), nullable=False),
    sa.Column('claim_closes_at', suite_common.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['accreditation_id'], ['accreditations.id'],
                            name=op.f('fk_credit_systems_accreditation_id_accreditations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_systems')),
    sa.UniqueConstraint('accreditation_id', 'code', name=op.f('uq_credit_systems_accreditation_id_code'))
    )
    with op.batch_alter_table('credit_systems', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credit_systems_accreditation_id'), ['accreditation_id'], unique=False)
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('credits_by_system', sa.JSON(), nullable=False, server_default='{}'))
        batch_op.add_column(sa.Column('supported_by_system', sa.JSON(), nullable=False, server_default='{}'))
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.alter_column('credits_by_system', server_default=None)
        batch_op.alter_column('supported_by_system', server_default=None)

    connection = op.get_bind()
    accreditations = sa.table('accreditations', sa.column('id', sa.Integer()), sa.column('body', sa.String()),
                              sa.column('credit_unit', sa.String()), sa.column('statement', sa.Text()),
                              sa.column('credit_step', sa.Numeric(6, 2)), sa.column('credit_mode', sa.String()),
                              sa.column('min_session_share', sa.Numeric(5, 4)),
                              sa.column('max_credits', sa.Numeric(6, 2)),
                              sa.column('max_credits_per_day', sa.Numeric(6, 2)), sa.column('daily_caps', sa.JSON()),
                              sa.column('evaluation_required', sa.Boolean()))
    systems = sa.table('credit_systems', *(sa.column(name) for name in (
        'accreditation_id', 'position', 'code', 'name', 'body', 'statement', 'claim_required',
        'presence_codes_required', 'claim_closes_at')),
        sa.column('credit_step', sa.Numeric(6, 2)), sa.column('credit_mode', sa.String()),
        sa.column('min_session_share', sa.Numeric(5, 4)), sa.column('max_credits', sa.Numeric(6, 2)),
        sa.column('max_credits_per_day', sa.Numeric(6, 2)), sa.column('daily_caps', sa.JSON()),
        sa.column('evaluation_required', sa.Boolean()))
    rows = [{'accreditation_id': row.id, 'position': 0, 'code': 'CME', 'name': row.credit_unit, 'body': row.body,
             'statement': row.statement, 'claim_required': False, 'presence_codes_required': 0,
             'claim_closes_at': None, **{name: getattr(row, name) for name in SYSTEM_RULES}}
            for row in connection.execute(sa.select(accreditations))]
    if rows:
        op.bulk_insert(systems, rows)

    certificates = sa.table('certificates', sa.column('id', sa.Integer()), sa.column('credits', sa.Numeric(6, 2)),
                            sa.column('snapshot', sa.JSON()), sa.column('credits_by_system', sa.JSON()))
    for row in connection.execute(sa.select(certificates.c.id, certificates.c.credits, certificates.c.snapshot)).all():
        printed = row.snapshot
        system = {'code': 'CME', 'name': printed['credit_unit'], 'body': printed['credit_body'],
                  'statement': printed['statement'], 'credits': printed['credits'], 'sessions': printed['sessions']}
        connection.execute(sa.update(certificates).where(certificates.c.id == row.id).values(
            snapshot={**printed, 'systems': [system]}, credits_by_system={'CME': _plain(row.credits)}))


def downgrade() -> None:
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_column('supported_by_system')
        batch_op.drop_column('credits_by_system')
    with op.batch_alter_table('credit_systems', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credit_systems_accreditation_id'))
    op.drop_table('credit_systems')
