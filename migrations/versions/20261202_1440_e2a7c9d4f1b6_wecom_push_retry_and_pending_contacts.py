"""wecom: retry schedule of failed pushes, contact events kept whole until applied

``wecom_pushes.next_attempt_at``: a push that failed for a passing reason (rate limits,
WeCom busy, no answer) is tried again from then on, also after its run date, within
``WECOM_PUSH_RETRY_DAYS``; NULL for a final failure. ``wecom_contact_events`` gains
``add_way``, ``contact_type`` and ``corp_name`` (what applying an add needs), so an event
of a WeCom member not yet linked to a user can be applied when the link is made; an index
on ``(wecom_userid, applied_at)`` finds those events. Downgrading drops the columns and
the index.

Revision ID: e2a7c9d4f1b6
Revises: c4e8a1f7b2d9
Create Date: 2026-12-02 14:40:00.000000

"""
from alembic import op
import sqlalchemy as sa

import app.core.db


# revision identifiers, used by Alembic.
revision = 'e2a7c9d4f1b6'
down_revision = 'c4e8a1f7b2d9'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('wecom_pushes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_attempt_at', app.core.db.UtcDateTime(timezone=True),
                                      nullable=True))
    with op.batch_alter_table('wecom_contact_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('add_way', sa.SmallInteger(), nullable=True))
        batch_op.add_column(sa.Column('contact_type', sa.SmallInteger(), nullable=True))
        batch_op.add_column(sa.Column('corp_name', sa.String(length=128), nullable=True))
        batch_op.create_index('ix_wecom_contact_events_wecom_userid_applied_at',
                              ['wecom_userid', 'applied_at'], unique=False)


def downgrade():
    with op.batch_alter_table('wecom_contact_events', schema=None) as batch_op:
        batch_op.drop_index('ix_wecom_contact_events_wecom_userid_applied_at')
        batch_op.drop_column('corp_name')
        batch_op.drop_column('contact_type')
        batch_op.drop_column('add_way')
    with op.batch_alter_table('wecom_pushes', schema=None) as batch_op:
        batch_op.drop_column('next_attempt_at')
