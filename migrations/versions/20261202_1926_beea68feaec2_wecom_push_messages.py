"""wecom push messages: one row per add_msg_template call of a 群发 push (chunks)

WeCom takes at most 10,000 ``external_userid`` per ``add_msg_template`` call
(../shared/wecom-api.md §2.1), so a 群发 outbox row whose customer filter lists more is
sent as several mass messages. ``wecom_push_messages`` holds them: per push row a
``seq``, the chunk's range of ids (``first_external_userid`` .. ``last_external_userid``,
``recipients`` 1..10,000; all three NULL for a message to all customers), its ``msgid``
once WeCom accepted it (NULL for the one call in flight: at most one per push, a partial
unique index), ``failed_customers`` and the times. ``wecom_pushes.msgid`` moves there:
each mass-message row with a msgid becomes message 0, to all customers, with the row's
``failed_customers``, sent at the row's ``sent_at`` (or its last attempt, or creation).
A cancel row's copy of its mass message's msgid is dropped (nothing reads it).

Downgrading puts the first accepted message's msgid back on its mass-message row and on
the task's confirmed cancel row, and drops the table: the msgids of later chunks are lost
(the old schema holds one per row; the old code then sees only the first).

Revision ID: beea68feaec2
Revises: c4d1e8a2b9f6
Create Date: 2026-12-02 19:26:01.945318

"""
from alembic import op
import sqlalchemy as sa

import app.core.db


# revision identifiers, used by Alembic.
revision = 'beea68feaec2'
down_revision = 'c4d1e8a2b9f6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'wecom_push_messages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('push_id', sa.Integer(), nullable=False),
        sa.Column('seq', sa.SmallInteger(), nullable=False),
        sa.Column('msgid', sa.String(length=128), nullable=True),
        sa.Column('first_external_userid', sa.String(length=64), nullable=True),
        sa.Column('last_external_userid', sa.String(length=64), nullable=True),
        sa.Column('recipients', sa.Integer(), nullable=True),
        sa.Column('failed_customers', sa.Integer(), nullable=False),
        sa.Column('attempted_at', app.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column('sent_at', app.core.db.UtcDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            '(msgid IS NULL AND sent_at IS NULL AND failed_customers = 0) '
            'OR (msgid IS NOT NULL AND sent_at IS NOT NULL)',
            name=op.f('ck_wecom_push_messages_sent_iff_msgid')),
        sa.CheckConstraint(
            '(recipients IS NULL AND first_external_userid IS NULL '
            'AND last_external_userid IS NULL) OR (recipients IS NOT NULL '
            'AND first_external_userid IS NOT NULL AND last_external_userid IS NOT NULL)',
            name=op.f('ck_wecom_push_messages_range_iff_recipients')),
        sa.CheckConstraint(
            'failed_customers >= 0 AND failed_customers <= '
            'COALESCE(recipients, failed_customers)',
            name=op.f('ck_wecom_push_messages_failed_customers_within_recipients')),
        sa.CheckConstraint('recipients BETWEEN 1 AND 10000',
                           name=op.f('ck_wecom_push_messages_recipients_within_wecom_limit')),
        sa.CheckConstraint('seq >= 0', name=op.f('ck_wecom_push_messages_seq_not_negative')),
        sa.ForeignKeyConstraint(['push_id'], ['wecom_pushes.id'],
                                name=op.f('fk_wecom_push_messages_push_id_wecom_pushes')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_wecom_push_messages')),
        sa.UniqueConstraint('msgid', name=op.f('uq_wecom_push_messages_msgid')),
        sa.UniqueConstraint('push_id', 'seq', name=op.f('uq_wecom_push_messages_push_id_seq')),
    )
    with op.batch_alter_table('wecom_push_messages', schema=None) as batch_op:
        batch_op.create_index('uq_wecom_push_messages_in_flight', ['push_id'], unique=True,
                              sqlite_where=sa.text('msgid IS NULL'),
                              postgresql_where=sa.text('msgid IS NULL'))
    op.execute(
        "INSERT INTO wecom_push_messages (push_id, seq, msgid, failed_customers, "
        "attempted_at, sent_at) "
        "SELECT id, 0, msgid, failed_customers, COALESCE(attempted_at, created_at), "
        "COALESCE(sent_at, attempted_at, created_at) FROM wecom_pushes "
        "WHERE action = 'mass_message' AND msgid IS NOT NULL")

    with op.batch_alter_table('wecom_pushes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wecom_pushes_msgid'))
        batch_op.drop_column('msgid')


def downgrade():
    with op.batch_alter_table('wecom_pushes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('msgid', sa.String(length=128), nullable=True))
        batch_op.create_index(batch_op.f('ix_wecom_pushes_msgid'), ['msgid'], unique=False)
    first = ("SELECT m.msgid FROM wecom_push_messages m JOIN wecom_pushes p "
             "ON p.id = m.push_id WHERE p.task_id = wecom_pushes.task_id "
             "AND p.action = 'mass_message' AND m.msgid IS NOT NULL ORDER BY m.seq LIMIT 1")
    op.execute(f"UPDATE wecom_pushes SET msgid = ({first}) "
               "WHERE action = 'mass_message' OR (action = 'cancel' AND state = 'confirmed')")

    with op.batch_alter_table('wecom_push_messages', schema=None) as batch_op:
        batch_op.drop_index('uq_wecom_push_messages_in_flight',
                            sqlite_where=sa.text('msgid IS NULL'),
                            postgresql_where=sa.text('msgid IS NULL'))
    op.drop_table('wecom_push_messages')
