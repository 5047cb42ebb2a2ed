"""wecom connector: push outbox, reminders, post withdrawals, contact events, measured outcomes

Seven new tables, all empty at upgrade: wecom_pushes (one row per task and action),
wecom_reminders, post_withdrawals, wecom_contact_events, wecom_task_results, wecom_outcomes
and wecom_staff_days. Downgrading drops them (measured figures fall back to reported ones).

Revision ID: 4b7434eb931e
Revises: d0e04b6e5c45
Create Date: 2026-12-02 11:35:51.287191

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4b7434eb931e'
down_revision = 'd0e04b6e5c45'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('wecom_contact_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_key', sa.String(length=64), nullable=False),
    sa.Column('change_type', sa.String(length=32), nullable=False),
    sa.Column('wecom_userid', sa.String(length=64), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('external_userid', sa.String(length=64), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('detail', sa.String(length=64), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('applied_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['staff_id'], ['users.id'], name=op.f('fk_wecom_contact_events_staff_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wecom_contact_events')),
    sa.UniqueConstraint('event_key', name=op.f('uq_wecom_contact_events_event_key'))
    )
    with op.batch_alter_table('wecom_contact_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wecom_contact_events_external_userid'), ['external_userid'], unique=False)
        batch_op.create_index(batch_op.f('ix_wecom_contact_events_staff_id'), ['staff_id'], unique=False)

    op.create_table('wecom_staff_days',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('stat_date', sa.Date(), nullable=False),
    sa.Column('new_contacts', sa.Integer(), nullable=False),
    sa.Column('chats', sa.Integer(), nullable=False),
    sa.Column('messages', sa.Integer(), nullable=False),
    sa.Column('reply_rate', sa.Float(), nullable=True),
    sa.Column('avg_reply_minutes', sa.Integer(), nullable=True),
    sa.Column('negative_feedback', sa.Integer(), nullable=False),
    sa.CheckConstraint('reply_rate >= 0 AND reply_rate <= 1', name=op.f('ck_wecom_staff_days_reply_rate_fraction')),
    sa.ForeignKeyConstraint(['staff_id'], ['users.id'], name=op.f('fk_wecom_staff_days_staff_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wecom_staff_days')),
    sa.UniqueConstraint('staff_id', 'stat_date', name=op.f('uq_wecom_staff_days_staff_id_stat_date'))
    )
    op.create_table('post_withdrawals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('withdrawn_by_id', sa.Integer(), nullable=False),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_post_withdrawals_post_id_posts')),
    sa.ForeignKeyConstraint(['withdrawn_by_id'], ['users.id'], name=op.f('fk_post_withdrawals_withdrawn_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_post_withdrawals')),
    sa.UniqueConstraint('post_id', name=op.f('uq_post_withdrawals_post_id'))
    )
    op.create_table('wecom_outcomes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('wecom_key', sa.String(length=64), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('external_userid', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.Enum('like', 'comment', 'delete', name='outcomekind', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_wecom_outcomes_task_id_tasks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wecom_outcomes')),
    sa.UniqueConstraint('wecom_key', name=op.f('uq_wecom_outcomes_wecom_key'))
    )
    with op.batch_alter_table('wecom_outcomes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wecom_outcomes_task_id'), ['task_id'], unique=False)

    op.create_table('wecom_pushes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.Enum('mass_message', 'moments_post', 'cancel', name='pushaction', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('state', sa.Enum('pending', 'sent', 'confirmed', 'failed', name='pushstate', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('is_uncertain', sa.Boolean(), nullable=False),
    sa.Column('msgid', sa.String(length=128), nullable=True),
    sa.Column('jobid', sa.String(length=64), nullable=True),
    sa.Column('moment_id', sa.String(length=128), nullable=True),
    sa.Column('failed_customers', sa.Integer(), nullable=False),
    sa.Column('attempted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_wecom_pushes_attempts_not_negative')),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_wecom_pushes_task_id_tasks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wecom_pushes')),
    sa.UniqueConstraint('task_id', 'action', name=op.f('uq_wecom_pushes_task_id_action'))
    )
    with op.batch_alter_table('wecom_pushes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wecom_pushes_jobid'), ['jobid'], unique=False)
        batch_op.create_index(batch_op.f('ix_wecom_pushes_moment_id'), ['moment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_wecom_pushes_msgid'), ['msgid'], unique=False)
        batch_op.create_index('ix_wecom_pushes_state', ['state'], unique=False)

    op.create_table('wecom_task_results',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('delivered', sa.Integer(), nullable=False),
    sa.Column('pulled_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_wecom_task_results_task_id_tasks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wecom_task_results')),
    sa.UniqueConstraint('task_id', name=op.f('uq_wecom_task_results_task_id'))
    )
    op.create_table('wecom_reminders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('push_id', sa.Integer(), nullable=False),
    sa.Column('msgid', sa.String(length=128), nullable=False),
    sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['push_id'], ['wecom_pushes.id'], name=op.f('fk_wecom_reminders_push_id_wecom_pushes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wecom_reminders'))
    )
    with op.batch_alter_table('wecom_reminders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wecom_reminders_msgid'), ['msgid'], unique=False)
        batch_op.create_index(batch_op.f('ix_wecom_reminders_push_id'), ['push_id'], unique=False)



def downgrade():
    with op.batch_alter_table('wecom_reminders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wecom_reminders_push_id'))
        batch_op.drop_index(batch_op.f('ix_wecom_reminders_msgid'))

    op.drop_table('wecom_reminders')
    op.drop_table('wecom_task_results')
    with op.batch_alter_table('wecom_pushes', schema=None) as batch_op:
        batch_op.drop_index('ix_wecom_pushes_state')
        batch_op.drop_index(batch_op.f('ix_wecom_pushes_msgid'))
        batch_op.drop_index(batch_op.f('ix_wecom_pushes_moment_id'))
        batch_op.drop_index(batch_op.f('ix_wecom_pushes_jobid'))

    op.drop_table('wecom_pushes')
    with op.batch_alter_table('wecom_outcomes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wecom_outcomes_task_id'))

    op.drop_table('wecom_outcomes')
    op.drop_table('post_withdrawals')
    op.drop_table('wecom_staff_days')
    with op.batch_alter_table('wecom_contact_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wecom_contact_events_staff_id'))
        batch_op.drop_index(batch_op.f('ix_wecom_contact_events_external_userid'))

    op.drop_table('wecom_contact_events')
