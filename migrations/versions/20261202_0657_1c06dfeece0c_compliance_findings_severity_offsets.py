"""compliance findings: severity enum, NULL offsets for render-only hits, CHECK constraints

A finding seen only in the sample rendering used to be stored with start = end = -1; it
now has NULL offsets. Severity keeps its strings ("block"/"warn") under a CHECK constraint.

Revision ID: 1c06dfeece0c
Revises: f1170b4c52a2
Create Date: 2026-12-02 06:57:19.563540

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '1c06dfeece0c'
down_revision = 'f1170b4c52a2'
branch_labels = None
depends_on = None

TABLE = 'compliance_findings'
# name -> condition; names follow the metadata convention ck_<table>_<name> (app/core/db.py)
CHECKS = {
    'ck_compliance_findings_severity': "severity IN ('block', 'warn')",
    'ck_compliance_findings_start_not_negative': 'start >= 0',
    'ck_compliance_findings_end_not_before_start': '"end" >= start',
    'ck_compliance_findings_offsets_both_or_neither': '(start IS NULL) = ("end" IS NULL)',
}
RENDER_ONLY = -1  # the offset that marked a render-only finding before this revision


def upgrade():
    # two steps on SQLite (each a table copy): the -1 rows must be NULL before the checks exist
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.alter_column('start', existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column('end', existing_type=sa.Integer(), nullable=True)

    op.execute(
        f'UPDATE {TABLE} SET start = NULL, "end" = NULL '
        f'WHERE start = {RENDER_ONLY} OR "end" = {RENDER_ONLY}'
    )

    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        for name, condition in CHECKS.items():
            batch_op.create_check_constraint(op.f(name), condition)


def downgrade():
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        for name in reversed(CHECKS):
            batch_op.drop_constraint(op.f(name), type_='check')

    op.execute(
        f'UPDATE {TABLE} SET start = {RENDER_ONLY}, "end" = {RENDER_ONLY} '
        'WHERE start IS NULL OR "end" IS NULL'
    )

    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.alter_column('end', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('start', existing_type=sa.Integer(), nullable=False)
