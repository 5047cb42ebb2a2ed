"""content kind and validity window of content templates; justified warnings

``content_kind`` decides which compliance rules a template gets (market commentary, product
promotion, service notice, greeting). Existing templates become market commentary when
their product is ``general`` and product promotions otherwise (most cautious). The optional
``valid_from_date``/``valid_until_date`` bound the run dates a template is published on.
A warning finding can carry the editor's written justification (who, when); existing
findings have none.

Revision ID: 5b0c6e1d2a71
Revises: d6a5e5b304ca
Create Date: 2026-12-02 12:15:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5b0c6e1d2a71'
down_revision = 'd6a5e5b304ca'
branch_labels = None
depends_on = None

def upgrade():
    with op.batch_alter_table('content_templates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content_kind', sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column('valid_from_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('valid_until_date', sa.Date(), nullable=True))
    op.execute("UPDATE content_templates SET content_kind = CASE WHEN product = 'general' "
               "THEN 'market_commentary' ELSE 'product_promotion' END")
    with op.batch_alter_table('content_templates', schema=None) as batch_op:
        batch_op.alter_column('content_kind', existing_type=sa.String(length=24),
                              nullable=False)
        batch_op.create_check_constraint(
            batch_op.f('ck_content_templates_contentkind'),
            "content_kind IN ('market_commentary', 'product_promotion', 'service_notice', "
            "'greeting')")
        batch_op.create_check_constraint(
            batch_op.f('ck_content_templates_promotion_has_product'),
            "content_kind <> 'product_promotion' OR product <> 'general'")
        batch_op.create_check_constraint(
            batch_op.f('ck_content_templates_validity_ordered'),
            "valid_until_date IS NULL OR valid_from_date IS NULL"
            " OR valid_until_date >= valid_from_date")


    with op.batch_alter_table('compliance_findings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('justification', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('justified_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('justified_at', sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_compliance_findings_justified_by_id_users'), 'users',
            ['justified_by_id'], ['id'])
        batch_op.create_check_constraint(
            batch_op.f('ck_compliance_findings_only_warnings_justified'),
            "justification IS NULL OR severity = 'warn'")


def downgrade():
    with op.batch_alter_table('compliance_findings', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_compliance_findings_only_warnings_justified'),
                                 type_='check')
        batch_op.drop_constraint(batch_op.f('fk_compliance_findings_justified_by_id_users'),
                                 type_='foreignkey')
        batch_op.drop_column('justified_at')
        batch_op.drop_column('justified_by_id')
        batch_op.drop_column('justification')
    with op.batch_alter_table('content_templates', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_content_templates_validity_ordered'),
                                 type_='check')
        batch_op.drop_constraint(batch_op.f('ck_content_templates_promotion_has_product'),
                                 type_='check')
        batch_op.drop_constraint(batch_op.f('ck_content_templates_contentkind'), type_='check')
        batch_op.drop_column('valid_until_date')
        batch_op.drop_column('valid_from_date')
        batch_op.drop_column('content_kind')
