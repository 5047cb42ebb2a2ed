"""adds snapshots: valid adds per staff member, month to date, at the end of each day

``adds_snapshots`` holds, per snapshot date and staff member, the adds of the month to date,
the valid adds and one count per invalid reason; written with ``coverage_snapshots`` by the
nightly job, so the coverage page reads no raw contacts. Downgrading drops the table.

Revision ID: c4a7d2e91b05
Revises: 7b3e9c1d2f40
Create Date: 2026-12-02 14:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4a7d2e91b05'
down_revision = '7b3e9c1d2f40'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'adds_snapshots',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('snapshot_date', sa.Date(), nullable=False),
        sa.Column('staff_id', sa.Integer(), nullable=False),
        sa.Column('adds', sa.Integer(), nullable=False),
        sa.Column('valid_adds', sa.Integer(), nullable=False),
        sa.Column('not_verified', sa.Integer(), nullable=False),
        sa.Column('not_customer', sa.Integer(), nullable=False),
        sa.Column('no_account', sa.Integer(), nullable=False),
        sa.Column('not_own_customer', sa.Integer(), nullable=False),
        sa.Column('not_first_add', sa.Integer(), nullable=False),
        sa.Column('out_of_province', sa.Integer(), nullable=False),
        sa.CheckConstraint('valid_adds >= 0 AND valid_adds <= adds',
                           name=op.f('ck_adds_snapshots_valid_within_adds')),
        sa.CheckConstraint('not_verified >= 0 AND not_customer >= 0 AND no_account >= 0 AND '
                           'not_own_customer >= 0 AND not_first_add >= 0 AND out_of_province >= 0',
                           name=op.f('ck_adds_snapshots_reason_counts_not_negative')),
        sa.ForeignKeyConstraint(['staff_id'], ['users.id'],
                                name=op.f('fk_adds_snapshots_staff_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_adds_snapshots')),
        sa.UniqueConstraint('snapshot_date', 'staff_id',
                            name=op.f('uq_adds_snapshots_snapshot_date_staff_id')),
    )
    op.create_index('ix_adds_snapshots_staff_id_snapshot_date', 'adds_snapshots',
                    ['staff_id', 'snapshot_date'], unique=False)


def downgrade():
    op.drop_index('ix_adds_snapshots_staff_id_snapshot_date', table_name='adds_snapshots')
    op.drop_table('adds_snapshots')
