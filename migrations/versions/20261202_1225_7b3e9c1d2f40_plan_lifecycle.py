"""plan lifecycle: start and end dates, at most N runs, archived

``sop_plans`` gains ``start_date`` and ``end_date`` (dates in the plan's time zone, both
optional), ``max_runs`` (optional, > 0) and ``archived_at``. Existing plans keep running as
before (all NULL). Downgrading drops the four columns.

Revision ID: 7b3e9c1d2f40
Revises: 4b7434eb931e
Create Date: 2026-12-02 12:25:00.000000

"""
from alembic import op
import sqlalchemy as sa

import app.core.db


# revision identifiers, used by Alembic.
revision = '7b3e9c1d2f40'
down_revision = '4b7434eb931e'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sop_plans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('start_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('end_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('max_runs', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('archived_at', app.core.db.UtcDateTime(timezone=True),
                                      nullable=True))
        batch_op.create_check_constraint('max_runs_positive',
                                         'max_runs IS NULL OR max_runs > 0')
        batch_op.create_check_constraint(
            'end_not_before_start',
            'end_date IS NULL OR start_date IS NULL OR end_date >= start_date')


def downgrade():
    with op.batch_alter_table('sop_plans', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_sop_plans_end_not_before_start'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_sop_plans_max_runs_positive'), type_='check')
        for column in ('archived_at', 'max_runs', 'end_date', 'start_date'):
            batch_op.drop_column(column)
