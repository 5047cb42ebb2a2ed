"""plan runs are rows; drop the APScheduler job store

Each occurrence of a plan becomes a ``plan_runs`` row (status, reason, attempts, who claimed
it); the scheduler keeps APScheduler only as an in-memory clock, so the pickled job store
``apscheduler_jobs`` (created by APScheduler itself, not by a migration) is dropped.
``scheduler_ticks`` records the last tick. ``sop_plans.schedule`` holds the plan's schedule
expression, filled for existing plans from their calendar and send time:
XSHG → ``trading-days@HH:MM``, XHKG → ``trading-days:XHKG@HH:MM``, weekdays →
``weekly:MON,TUE,WED,THU,FRI@HH:MM``, daily → ``cron:MM HH * * *``. Downgrading drops the
new tables and column; APScheduler recreates its job store table when a scheduler of the
older code starts.

Revision ID: d6a5e5b304ca
Revises: da98dbbe39fb
Create Date: 2026-12-02 11:50:12.087459

"""
from alembic import op
import sqlalchemy as sa

import app.core.db


# revision identifiers, used by Alembic.
revision = 'd6a5e5b304ca'
down_revision = 'da98dbbe39fb'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('scheduler_ticks',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('ticked_at', app.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('holder', sa.String(length=255), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_scheduler_ticks'))
    )
    op.create_table('plan_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sop_plan_id', sa.Integer(), nullable=False),
    sa.Column('scheduled_at', app.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('run_date', sa.Date(), nullable=False),
    sa.Column('due_at', app.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.Enum('pending', 'claimed', 'published', 'skipped', 'failed', 'missed', 'cancelled', name='runstatus', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('reason_code', sa.String(length=32), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('rule_ids', sa.JSON(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('claimed_by', sa.String(length=255), nullable=True),
    sa.Column('claimed_at', app.core.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', app.core.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('post_id', sa.Integer(), nullable=True),
    sa.Column('created_at', app.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_plan_runs_attempts_non_negative')),
    sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_plan_runs_post_id_posts')),
    sa.ForeignKeyConstraint(['sop_plan_id'], ['sop_plans.id'], name=op.f('fk_plan_runs_sop_plan_id_sop_plans')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_runs')),
    sa.UniqueConstraint('sop_plan_id', 'scheduled_at', name=op.f('uq_plan_runs_sop_plan_id_scheduled_at'))
    )
    with op.batch_alter_table('plan_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_runs_run_date'), ['run_date'], unique=False)
        batch_op.create_index('ix_plan_runs_status_due_at', ['status', 'due_at'], unique=False)

    with op.batch_alter_table('sop_plans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('schedule', sa.String(length=120), nullable=True))
    _fill_schedules()
    with op.batch_alter_table('sop_plans', schema=None) as batch_op:
        batch_op.alter_column('schedule', existing_type=sa.String(length=120), nullable=False)
    op.execute("DROP TABLE IF EXISTS apscheduler_jobs")


def _fill_schedules():
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT id, calendar, send_time FROM sop_plans")).all()
    updates = []
    for plan_id, calendar, send_time in rows:
        if isinstance(send_time, str):
            hour, minute = (int(x) for x in send_time.split(":")[:2])
        else:
            hour, minute = send_time.hour, send_time.minute
        at = f"{hour:02d}:{minute:02d}"
        schedule = {"XSHG": f"trading-days@{at}", "XHKG": f"trading-days:XHKG@{at}",
                    "weekdays": f"weekly:MON,TUE,WED,THU,FRI@{at}"}.get(
                        calendar, f"cron:{minute} {hour} * * *")
        updates.append({"id": plan_id, "schedule": schedule})
    if updates:
        connection.execute(sa.text("UPDATE sop_plans SET schedule = :schedule WHERE id = :id"),
                           updates)


def downgrade():
    with op.batch_alter_table('sop_plans', schema=None) as batch_op:
        batch_op.drop_column('schedule')

    with op.batch_alter_table('plan_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_plan_runs_status_due_at')
        batch_op.drop_index(batch_op.f('ix_plan_runs_run_date'))

    op.drop_table('plan_runs')
    op.drop_table('scheduler_ticks')
