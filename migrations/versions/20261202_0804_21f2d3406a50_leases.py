"""leases: one row per named lease (the scheduler's single-instance lease on SQLite)

``flask scheduler run`` on SQLite holds the lease ``scheduler`` instead of a file lock in
the checkout's instance folder, so a second scheduler on the same database is refused
whatever folder it runs from (``app.core.leases``). PostgreSQL keeps its advisory lock.
The table starts empty; downgrading drops it (a running scheduler then loses its lease
at its next heartbeat and stops).

Revision ID: 21f2d3406a50
Revises: ae713a0fc194
Create Date: 2026-12-02 08:04:57.581688

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '21f2d3406a50'
down_revision = 'ae713a0fc194'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('leases',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('holder', sa.String(length=255), nullable=False),
    sa.Column('acquired_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_leases'))
    )


def downgrade():
    op.drop_table('leases')
