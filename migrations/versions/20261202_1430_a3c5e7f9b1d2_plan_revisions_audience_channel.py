"""plan revisions, audience and channel; runs and posts keep their revision; opt-out flag

``sop_plans`` gains ``channel`` (backfilled from its template's channel) and ``revision``
(1). ``sop_plan_revisions`` keeps each revision's planning fields (revision 1 is written
for every existing plan). ``plan_audience`` lists a plan's branches (and 群发 customer
segments); each plan's ``branch_id`` becomes its first audience branch. ``plan_runs`` and
``posts`` gain ``revision`` (1 for existing rows). ``customers`` gains
``marketing_opt_out`` (false). Downgrading drops all of it.

Revision ID: a3c5e7f9b1d2
Revises: e2a7c9d4f1b6
Create Date: 2026-12-02 14:30:00.000000

"""
import datetime as dt

from alembic import op
import sqlalchemy as sa

import app.core.db


# revision identifiers, used by Alembic.
revision = 'a3c5e7f9b1d2'
down_revision = 'e2a7c9d4f1b6'
branch_labels = None
depends_on = None

CHANNELS = ('mass_message', 'moments_post', 'customer_group')


def upgrade():
    with op.batch_alter_table('sop_plans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel', sa.String(16), nullable=True))
        batch_op.add_column(sa.Column('revision', sa.Integer(), server_default='1',
                                      nullable=False))
        batch_op.create_check_constraint('revision_positive', 'revision >= 1')
    op.execute("UPDATE sop_plans SET channel = (SELECT channel FROM content_templates "
               "WHERE content_templates.id = sop_plans.template_id)")
    with op.batch_alter_table('sop_plans', schema=None) as batch_op:
        batch_op.alter_column('channel', existing_type=sa.String(16), nullable=False)
        batch_op.create_check_constraint(
            'channel', "channel IN ({})".format(', '.join(f"'{c}'" for c in CHANNELS)))
    for table in ('plan_runs', 'posts'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('revision', sa.Integer(), server_default='1',
                                          nullable=False))
            batch_op.create_check_constraint('revision_positive', 'revision >= 1')
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('marketing_opt_out', sa.Boolean(),
                                      server_default=sa.false(), nullable=False))
    audience = op.create_table(
        'plan_audience',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('sop_plan_id', sa.Integer(), nullable=False),
        sa.Column('branch_id', sa.Integer(), nullable=True),
        sa.Column('segment_id', sa.Integer(), nullable=True),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.CheckConstraint('(branch_id IS NULL) <> (segment_id IS NULL)',
                           name=op.f('ck_plan_audience_branch_or_segment')),
        sa.CheckConstraint('position >= 0', name=op.f('ck_plan_audience_position_non_negative')),
        sa.ForeignKeyConstraint(['branch_id'], ['branches.id'],
                                name=op.f('fk_plan_audience_branch_id_branches')),
        sa.ForeignKeyConstraint(['segment_id'], ['segments.id'],
                                name=op.f('fk_plan_audience_segment_id_segments')),
        sa.ForeignKeyConstraint(['sop_plan_id'], ['sop_plans.id'],
                                name=op.f('fk_plan_audience_sop_plan_id_sop_plans')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_audience')),
        sa.UniqueConstraint('sop_plan_id', 'branch_id',
                            name=op.f('uq_plan_audience_sop_plan_id_branch_id')),
        sa.UniqueConstraint('sop_plan_id', 'segment_id',
                            name=op.f('uq_plan_audience_sop_plan_id_segment_id')),
    )
    for column in ('sop_plan_id', 'branch_id', 'segment_id'):
        op.create_index(op.f(f'ix_plan_audience_{column}'), 'plan_audience', [column])
    revisions = op.create_table(
        'sop_plan_revisions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('sop_plan_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('fields', sa.JSON(), nullable=False),
        sa.Column('changed', sa.JSON(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', app.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.CheckConstraint('number >= 1', name=op.f('ck_sop_plan_revisions_number_positive')),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'],
                                name=op.f('fk_sop_plan_revisions_created_by_id_users')),
        sa.ForeignKeyConstraint(['sop_plan_id'], ['sop_plans.id'],
                                name=op.f('fk_sop_plan_revisions_sop_plan_id_sop_plans')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sop_plan_revisions')),
        sa.UniqueConstraint('sop_plan_id', 'number',
                            name=op.f('uq_sop_plan_revisions_sop_plan_id_number')),
    )
    for column in ('sop_plan_id', 'created_by_id'):
        op.create_index(op.f(f'ix_sop_plan_revisions_{column}'), 'sop_plan_revisions', [column])
    _backfill(audience, revisions)


def _backfill(audience, revisions):
    """First audience branch and revision 1 of every existing plan."""
    connection = op.get_bind()
    plans = connection.execute(sa.text(
        "SELECT p.id, p.name, p.template_id, t.title, p.schedule, p.timezone, p.start_date,"
        " p.end_date, p.max_runs, p.channel, p.branch_id, b.name, p.created_by_id,"
        " p.created_at FROM sop_plans p JOIN content_templates t ON t.id = p.template_id"
        " JOIN branches b ON b.id = p.branch_id ORDER BY p.id")).all()
    op.bulk_insert(audience, [{'sop_plan_id': p[0], 'branch_id': p[10], 'segment_id': None,
                               'position': 0} for p in plans])
    op.bulk_insert(revisions, [{
        'sop_plan_id': p[0], 'number': 1, 'changed': [], 'created_by_id': p[12],
        'created_at': _instant(p[13]),
        'fields': {'name': p[1], 'template_id': p[2], 'template_title': p[3],
                   'schedule': p[4], 'timezone': p[5], 'start_date': _iso(p[6]),
                   'end_date': _iso(p[7]), 'max_runs': p[8], 'channel': p[9],
                   'branch_ids': [p[10]], 'branch_names': [p[11]], 'segment_codes': []},
    } for p in plans])


def _iso(value):
    if value is None:
        return None
    return value if isinstance(value, str) else value.isoformat()


def _instant(value):
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def downgrade():
    for column in ('created_by_id', 'sop_plan_id'):
        op.drop_index(op.f(f'ix_sop_plan_revisions_{column}'), table_name='sop_plan_revisions')
    op.drop_table('sop_plan_revisions')
    for column in ('segment_id', 'branch_id', 'sop_plan_id'):
        op.drop_index(op.f(f'ix_plan_audience_{column}'), table_name='plan_audience')
    op.drop_table('plan_audience')
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_column('marketing_opt_out')
    for table in ('posts', 'plan_runs'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f'ck_{table}_revision_positive'), type_='check')
            batch_op.drop_column('revision')
    with op.batch_alter_table('sop_plans', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_sop_plans_revision_positive'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_sop_plans_channel'), type_='check')
        batch_op.drop_column('revision')
        batch_op.drop_column('channel')
