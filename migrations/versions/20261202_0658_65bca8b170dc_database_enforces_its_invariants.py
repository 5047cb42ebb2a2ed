"""database enforces its invariants

CHECK constraints for counts, amounts, prices, task state and enum values; indexes on
the SOP plans' foreign keys; ``ix_branches_path`` rebuilt with ``text_pattern_ops`` on
PostgreSQL so the subtree query ``path LIKE '/1/3/%'`` can use it under any collation
(SQLite ignores the operator class and keeps a plain index).

Existing rows. Every constraint states a rule the application has enforced since its
first release, so no row it wrote can violate one:

- enum columns only ever received members of their ``enum.Enum``;
- ``branches.path`` is always ``/<id>/…/`` (``org.services.set_branch_path``);
- ``template_versions.number`` starts at 1 (``content.services``);
- a task becomes done in one UPDATE that sets ``completed_at`` and ``reach_count``
  together; the reach is checked to be >= 0 and only corrected on done tasks
  (``feed.services``);
- interaction events are validated by ``interactions.schemas``: quantity >= 1, an amount
  > 0 on every conversion and on nothing else (the demo seed follows the same rules);
- ``price_bars.volume`` is never negative in the snapshot or from Yahoo Finance.

One exception: ``price_bars.close`` was only checked for NaN, so a zero or negative close
from a provider could have been stored. Such bars are deleted before the constraint is
added: they are a re-loadable copy of provider data, and the market context divides by
the close, so they could not have been used.

A row that violates any other constraint was written outside the application; the
upgrade then stops with an IntegrityError naming the constraint, and the row must be
fixed by hand.

Revision ID: 65bca8b170dc
Revises: 1c06dfeece0c
Create Date: 2026-12-02 06:58:16.398085

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '65bca8b170dc'
down_revision = '1c06dfeece0c'
branch_labels = None
depends_on = None

#: table → (final constraint name, condition). Enum values are frozen here on purpose:
#: a later change to an enum needs its own migration.
CHECKS = {
    'branches': [
        ('ck_branches_branchlevel', "level IN ('hq', 'branch', 'sub_branch')"),
        ('ck_branches_path_slashes', "path LIKE '/%' AND path LIKE '%/'"),
    ],
    'users': [
        ('ck_users_role', "role IN ('editor', 'reviewer', 'frontline', 'manager', 'admin')"),
    ],
    'content_templates': [
        ('ck_content_templates_productcategory',
         "product IN ('general', 'fund', 'wealth', 'gold', 'fx', 'insurance', 'deposit', "
         "'loan')"),
        ('ck_content_templates_channel',
         "channel IN ('mass_message', 'moments_post', 'customer_group')"),
        ('ck_content_templates_templatestatus',
         "status IN ('draft', 'in_review', 'approved', 'retired')"),
    ],
    'template_versions': [
        ('ck_template_versions_number_positive', 'number >= 1'),
    ],
    'approvals': [
        ('ck_approvals_approvaldecision', "decision IN ('approved', 'rejected')"),
    ],
    'price_bars': [
        ('ck_price_bars_close_positive', 'close > 0'),
        ('ck_price_bars_volume_non_negative', 'volume >= 0'),
    ],
    'posts': [
        ('ck_posts_poststatus', "status IN ('published', 'cancelled')"),
    ],
    'tasks': [
        ('ck_tasks_taskstatus', "status IN ('assigned', 'done')"),
        ('ck_tasks_reach_count_non_negative', 'reach_count >= 0'),
        ('ck_tasks_completed_at_iff_done',
         "(status = 'done' AND completed_at IS NOT NULL)"
         " OR (status <> 'done' AND completed_at IS NULL)"),
        ('ck_tasks_reach_count_only_when_done', "status = 'done' OR reach_count IS NULL"),
    ],
    'interaction_events': [
        ('ck_interaction_events_interactionkind',
         "kind IN ('like', 'comment', 'inquiry', 'reply', 'block', 'delete', 'conversion')"),
        ('ck_interaction_events_quantity_positive', 'quantity >= 1'),
        ('ck_interaction_events_amount_cny_positive', 'amount_cny > 0'),
        ('ck_interaction_events_amount_cny_iff_conversion',
         "(kind = 'conversion' AND amount_cny IS NOT NULL)"
         " OR (kind <> 'conversion' AND amount_cny IS NULL)"),
    ],
}


def upgrade():
    op.execute(sa.text('DELETE FROM price_bars WHERE close <= 0'))

    with op.batch_alter_table('branches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_branches_path'))
        batch_op.create_index(batch_op.f('ix_branches_path'), ['path'], unique=False,
                              postgresql_ops={'path': 'text_pattern_ops'})

    with op.batch_alter_table('sop_plans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sop_plans_branch_id'), ['branch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sop_plans_template_id'), ['template_id'],
                              unique=False)

    for table, checks in CHECKS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, condition in checks:
                batch_op.create_check_constraint(batch_op.f(name), condition)


def downgrade():
    for table, checks in reversed(CHECKS.items()):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, _condition in reversed(checks):
                batch_op.drop_constraint(batch_op.f(name), type_='check')

    with op.batch_alter_table('sop_plans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sop_plans_template_id'))
        batch_op.drop_index(batch_op.f('ix_sop_plans_branch_id'))

    with op.batch_alter_table('branches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_branches_path'))
        batch_op.create_index(batch_op.f('ix_branches_path'), ['path'], unique=False)
