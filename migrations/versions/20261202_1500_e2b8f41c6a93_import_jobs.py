"""import jobs: web uploads run on the task queue with their progress in the database

``import_jobs`` holds each file uploaded for import in the web UI (kind, file name, storage
key in the ``imports`` area), its status (uploaded, queued, running, done, failed),
progress, counts and per-row errors, so any web node shows any import. Downgrading drops
the table (the stored files stay in storage).

Revision ID: e2b8f41c6a93
Revises: c4a7d2e91b05
Create Date: 2026-12-02 15:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import app.core.db


# revision identifiers, used by Alembic.
revision = 'e2b8f41c6a93'
down_revision = 'c4a7d2e91b05'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'import_jobs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('storage_key', sa.String(length=255), nullable=False),
        sa.Column('status', sa.Enum('uploaded', 'queued', 'running', 'done', 'failed',
                                    name='importstatus', native_enum=False, length=16,
                                    create_constraint=True), nullable=False),
        sa.Column('position', sa.BigInteger(), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('imported', sa.Integer(), nullable=False),
        sa.Column('updated', sa.Integer(), nullable=False),
        sa.Column('unchanged', sa.Integer(), nullable=False),
        sa.Column('error_count', sa.Integer(), nullable=False),
        sa.Column('errors', sa.JSON(), nullable=False),
        sa.Column('message', sa.String(length=500), nullable=True),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', app.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column('started_at', app.core.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column('finished_at', app.core.db.UtcDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('customers', 'contacts', 'verifications')",
                           name=op.f('ck_import_jobs_kind_known')),
        sa.CheckConstraint('position >= 0 AND size >= 1',
                           name=op.f('ck_import_jobs_progress_in_range')),
        sa.CheckConstraint('imported >= 0 AND updated >= 0 AND unchanged >= 0 AND '
                           'error_count >= 0', name=op.f('ck_import_jobs_counts_not_negative')),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'],
                                name=op.f('fk_import_jobs_created_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_import_jobs')),
        sa.UniqueConstraint('storage_key', name=op.f('uq_import_jobs_storage_key')),
    )
    op.create_index('ix_import_jobs_created_by_id', 'import_jobs', ['created_by_id'],
                    unique=False)


def downgrade():
    op.drop_index('ix_import_jobs_created_by_id', table_name='import_jobs')
    op.drop_table('import_jobs')
