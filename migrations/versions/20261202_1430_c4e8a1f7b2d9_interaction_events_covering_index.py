"""interaction events: covering index on task_id for the scorecard

The scorecard sums each scoped task's events by kind (``app.metrics.queries``). On
PostgreSQL ``ix_interaction_events_task_id`` becomes ``(task_id) INCLUDE (kind, quantity,
amount_cny)``, so those sums are index-only scans once autovacuum has marked the pages
visible. It is built ``CONCURRENTLY`` under a temporary name, outside the migration's
transaction, so writers are not blocked on a big table; then the old index is dropped and
the new one renamed. SQLite keeps the plain index (no INCLUDE): nothing changes there.
Downgrading restores the plain index.

Revision ID: c4e8a1f7b2d9
Revises: e2b8f41c6a93
Create Date: 2026-12-02 14:30:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c4e8a1f7b2d9'
down_revision = 'e2b8f41c6a93'
branch_labels = None
depends_on = None

NAME = 'ix_interaction_events_task_id'
BUILDING = 'ix_interaction_events_task_id_new'


def _rebuild(include: list[str] | None) -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    with op.get_context().autocommit_block():
        op.execute(f'DROP INDEX CONCURRENTLY IF EXISTS {BUILDING}')
        op.create_index(BUILDING, 'interaction_events', ['task_id'],
                        postgresql_include=include or [], postgresql_concurrently=True)
        op.execute(f'DROP INDEX CONCURRENTLY IF EXISTS {NAME}')
        op.execute(f'ALTER INDEX {BUILDING} RENAME TO {NAME}')


def upgrade():
    _rebuild(['kind', 'quantity', 'amount_cny'])


def downgrade():
    _rebuild(None)
