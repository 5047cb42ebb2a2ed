"""one audit log: hash-chained audit_events replace admin_audit_events

Every recorded action (templates, SOP plans, posts, users, branches, imports) goes to
``audit_events``; each entry carries the SHA-256 of the previous one, and
``audit_chain_head`` (one row) names the last entry. The rows of ``admin_audit_events``
are copied in id order (action, actor, target, before/after and time kept), chained, and
the old table is dropped. Downgrade copies the user and branch events back and drops the
new tables (other events are lost: the old table cannot hold them).

The hash below is frozen here on purpose (``app.audit.chain.entry_hash`` computes the same
canonical JSON); a later change to the hashed fields needs its own migration.

Revision ID: 8e4f2a9c7d13
Revises: 5b0c6e1d2a71
Create Date: 2026-12-02 12:30:00

"""
import datetime as dt
import hashlib
import json

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8e4f2a9c7d13'
down_revision = '5b0c6e1d2a71'
branch_labels = None
depends_on = None

GENESIS = '0' * 64


def _hash(row: dict) -> str:
    occurred = row['occurred_at']
    if occurred.tzinfo is None:
        occurred = occurred.replace(tzinfo=dt.UTC)
    payload = {
        'id': row['id'], 'occurred_at': occurred.astimezone(dt.UTC).isoformat(
            timespec='microseconds'),
        'actor_id': row['actor_id'], 'action': row['action'], 'object_type': row['object_type'],
        'object_id': row['object_id'], 'object_version': None, 'content_sha256': None,
        'before': row['before'], 'after': row['after'], 'prev_sha256': row['prev_sha256'],
    }
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(',', ':'))
    return hashlib.sha256(text.encode('utf-8')).hexdigest()


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


def upgrade():
    events = op.create_table(
        'audit_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('action', sa.String(length=48), nullable=False),
        sa.Column('object_type', sa.String(length=24), nullable=False),
        sa.Column('object_id', sa.Integer(), nullable=True),
        sa.Column('object_version', sa.Integer(), nullable=True),
        sa.Column('content_sha256', sa.String(length=64), nullable=True),
        sa.Column('before', sa.JSON(), nullable=True),
        sa.Column('after', sa.JSON(), nullable=True),
        sa.Column('prev_sha256', sa.String(length=64), nullable=False),
        sa.Column('entry_sha256', sa.String(length=64), nullable=False),
        sa.CheckConstraint('length(prev_sha256) = 64',
                           name=op.f('ck_audit_events_prev_sha256_length')),
        sa.ForeignKeyConstraint(['actor_id'], ['users.id'],
                                name=op.f('fk_audit_events_actor_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events')),
        sa.UniqueConstraint('entry_sha256', name=op.f('uq_audit_events_entry_sha256')),
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_actor_id'), ['actor_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_occurred_at'), ['occurred_at'],
                              unique=False)
        batch_op.create_index('ix_audit_events_object', ['object_type', 'object_id'],
                              unique=False)
    head = op.create_table(
        'audit_chain_head',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('last_event_id', sa.Integer(), nullable=True),
        sa.Column('last_sha256', sa.String(length=64), nullable=False),
        sa.CheckConstraint('id = 1', name=op.f('ck_audit_chain_head_single_row')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_chain_head')),
    )
    bind = op.get_bind()
    old = sa.table('admin_audit_events', sa.column('id', sa.Integer),
                   sa.column('actor_id', sa.Integer), sa.column('action', sa.String),
                   sa.column('target_type', sa.String), sa.column('target_id', sa.Integer),
                   sa.column('before', sa.JSON), sa.column('after', sa.JSON),
                   sa.column('created_at', sa.DateTime(timezone=True)))
    previous, last_id = GENESIS, None
    for number, row in enumerate(bind.execute(sa.select(old).order_by(old.c.id)), start=1):
        values = {'id': number, 'occurred_at': row.created_at, 'actor_id': row.actor_id,
                  'action': row.action, 'object_type': row.target_type,
                  'object_id': row.target_id, 'object_version': None, 'content_sha256': None,
                  'before': _json(row.before), 'after': _json(row.after),
                  'prev_sha256': previous}
        if values['occurred_at'].tzinfo is None:
            values['occurred_at'] = values['occurred_at'].replace(tzinfo=dt.UTC)
        values['entry_sha256'] = _hash(values)
        bind.execute(events.insert().values(**values))
        previous, last_id = values['entry_sha256'], number
    bind.execute(head.insert().values(id=1, last_event_id=last_id, last_sha256=previous))
    if bind.dialect.name == 'postgresql' and last_id is not None:
        bind.execute(sa.text("SELECT setval(pg_get_serial_sequence('audit_events', 'id'), "
                             ":last)"), {'last': last_id})
    op.drop_table('admin_audit_events')


def downgrade():
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
    op.execute(
        "INSERT INTO admin_audit_events (actor_id, action, target_type, target_id, before, "
        "after, created_at) SELECT actor_id, action, object_type, object_id, before, after, "
        "occurred_at FROM audit_events WHERE object_type IN ('user', 'branch') "
        "AND actor_id IS NOT NULL AND object_id IS NOT NULL ORDER BY id")
    op.drop_table('audit_chain_head')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_object')
        batch_op.drop_index(batch_op.f('ix_audit_events_occurred_at'))
        batch_op.drop_index(batch_op.f('ix_audit_events_actor_id'))
        batch_op.drop_index(batch_op.f('ix_audit_events_action'))
    op.drop_table('audit_events')
