"""login throttle per username, session version and forced password change, admin audit log

- login_throttles: failed logins per typed username and the lock they caused (issue 6.7)
- users: session_version (revokes sessions on logout / password change), must_change_password,
  password_changed_at, wecom_userid (unique when set)
- admin_audit_events: who changed which user or branch, when, from what to what (issue 6.8)

Existing users keep working: session_version 0 matches their current cookies, and
must_change_password is false for them.

Revision ID: ae713a0fc194
Revises: 65bca8b170dc
Create Date: 2026-12-02 07:30:18.855546

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'ae713a0fc194'
down_revision = '65bca8b170dc'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'login_throttles',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('username', sa.String(length=64), nullable=False),
        sa.Column('failure_count', sa.Integer(), nullable=False),
        sa.Column('window_started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint('failure_count >= 0',
                           name=op.f('ck_login_throttles_failure_count_not_negative')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_login_throttles')),
        sa.UniqueConstraint('username', name=op.f('uq_login_throttles_username')),
    )
    with op.batch_alter_table('login_throttles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_throttles_window_started_at'),
                              ['window_started_at'], unique=False)

    op.create_table(
        'admin_audit_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=False),
        sa.Column('action', sa.String(length=32), nullable=False),
        sa.Column('target_type', sa.String(length=16), nullable=False),
        sa.Column('target_id', sa.Integer(), nullable=False),
        sa.Column('before', sa.JSON(), nullable=True),
        sa.Column('after', sa.JSON(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['actor_id'], ['users.id'],
                                name=op.f('fk_admin_audit_events_actor_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_admin_audit_events')),
    )
    with op.batch_alter_table('admin_audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_admin_audit_events_actor_id'), ['actor_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_admin_audit_events_created_at'), ['created_at'],
                              unique=False)
        batch_op.create_index('ix_admin_audit_events_target', ['target_type', 'target_id'],
                              unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('wecom_userid', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='0',
                                      nullable=False))
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(),
                                      server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('password_changed_at', sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_users_wecom_userid'), ['wecom_userid'])
        batch_op.create_check_constraint(op.f('ck_users_session_version_not_negative'),
                                         'session_version >= 0')


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_users_session_version_not_negative'), type_='check')
        batch_op.drop_constraint(batch_op.f('uq_users_wecom_userid'), type_='unique')
        batch_op.drop_column('password_changed_at')
        batch_op.drop_column('must_change_password')
        batch_op.drop_column('session_version')
        batch_op.drop_column('wecom_userid')

    with op.batch_alter_table('admin_audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_admin_audit_events_target')
        batch_op.drop_index(batch_op.f('ix_admin_audit_events_created_at'))
        batch_op.drop_index(batch_op.f('ix_admin_audit_events_actor_id'))
    op.drop_table('admin_audit_events')

    with op.batch_alter_table('login_throttles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_throttles_window_started_at'))
    op.drop_table('login_throttles')
