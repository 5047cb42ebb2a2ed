"""customers: segments, the customer book with ownership history, WeCom contacts, verifications,
coverage snapshots and targets; branches carry a province

Pseudonymous throughout (opaque customer ids, WeCom external_userids). Provinces are
GB/T 2260 two-digit codes. The four default segments (private 私行, vip 贵宾, payroll 代发,
mass 普通) are inserted here; banks edit the list as configuration. Downgrade drops the
new tables and ``branches.province_code``.

Revision ID: 514fe1b94a4e
Revises: 21f2d3406a50
Create Date: 2026-12-02 11:22:55.544641

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '514fe1b94a4e'
down_revision = '21f2d3406a50'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('segments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_segments')),
    sa.UniqueConstraint('code', name=op.f('uq_segments_code')),
    sa.UniqueConstraint('name', name=op.f('uq_segments_name'))
    )
    op.create_table('verifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('external_userid', sa.String(length=64), nullable=False),
    sa.Column('customer_ref', sa.String(length=64), nullable=False),
    sa.Column('method', sa.Enum('link', 'app', name='verificationmethod', native_enum=False, create_constraint=True, length=8), nullable=False),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ip_province_code', sa.String(length=2), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_verifications')),
    sa.UniqueConstraint('external_userid', 'customer_ref', 'verified_at', name=op.f('uq_verifications_external_userid_customer_ref_verified_at'))
    )
    with op.batch_alter_table('verifications', schema=None) as batch_op:
        batch_op.create_index('ix_verifications_customer_ref', ['customer_ref'], unique=False)

    op.create_table('coverage_targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('segment_id', sa.Integer(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('target_rate', sa.Double(), nullable=False),
    sa.CheckConstraint('end_date >= start_date', name=op.f('ck_coverage_targets_period_ordered')),
    sa.CheckConstraint('target_rate >= 0 AND target_rate <= 1', name=op.f('ck_coverage_targets_rate_is_fraction')),
    sa.ForeignKeyConstraint(['segment_id'], ['segments.id'], name=op.f('fk_coverage_targets_segment_id_segments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coverage_targets')),
    sa.UniqueConstraint('segment_id', 'start_date', name=op.f('uq_coverage_targets_segment_id_start_date'))
    )
    op.create_table('coverage_snapshots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('snapshot_date', sa.Date(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('segment_id', sa.Integer(), nullable=False),
    sa.Column('customers', sa.Integer(), nullable=False),
    sa.Column('covered', sa.Integer(), nullable=False),
    sa.CheckConstraint('covered >= 0 AND covered <= customers', name=op.f('ck_coverage_snapshots_covered_within_customers')),
    sa.ForeignKeyConstraint(['segment_id'], ['segments.id'], name=op.f('fk_coverage_snapshots_segment_id_segments')),
    sa.ForeignKeyConstraint(['staff_id'], ['users.id'], name=op.f('fk_coverage_snapshots_staff_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coverage_snapshots')),
    sa.UniqueConstraint('snapshot_date', 'staff_id', 'segment_id', name=op.f('uq_coverage_snapshots_snapshot_date_staff_id_segment_id'))
    )
    with op.batch_alter_table('coverage_snapshots', schema=None) as batch_op:
        batch_op.create_index('ix_coverage_snapshots_staff_id_snapshot_date', ['staff_id', 'snapshot_date'], unique=False)

    op.create_table('customers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_ref', sa.String(length=64), nullable=False),
    sa.Column('rm_id', sa.Integer(), nullable=False),
    sa.Column('segment_id', sa.Integer(), nullable=False),
    sa.Column('has_account', sa.Boolean(), nullable=False),
    sa.Column('province_code', sa.String(length=2), nullable=True),
    sa.Column('aum_cny', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('aum_cny >= 0', name=op.f('ck_customers_aum_not_negative')),
    sa.ForeignKeyConstraint(['rm_id'], ['users.id'], name=op.f('fk_customers_rm_id_users')),
    sa.ForeignKeyConstraint(['segment_id'], ['segments.id'], name=op.f('fk_customers_segment_id_segments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customers')),
    sa.UniqueConstraint('customer_ref', name=op.f('uq_customers_customer_ref'))
    )
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customers_rm_id'), ['rm_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_customers_segment_id'), ['segment_id'], unique=False)

    op.create_table('wecom_contacts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('external_userid', sa.String(length=64), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('add_way', sa.SmallInteger(), nullable=True),
    sa.Column('contact_type', sa.SmallInteger(), nullable=False),
    sa.Column('corp_name', sa.String(length=128), nullable=True),
    sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('contact_type IN (1, 2)', name=op.f('ck_wecom_contacts_contact_type_known')),
    sa.CheckConstraint('removed_at IS NULL OR removed_at >= added_at', name=op.f('ck_wecom_contacts_removed_after_add')),
    sa.ForeignKeyConstraint(['staff_id'], ['users.id'], name=op.f('fk_wecom_contacts_staff_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wecom_contacts')),
    sa.UniqueConstraint('staff_id', 'external_userid', 'added_at', name=op.f('uq_wecom_contacts_staff_id_external_userid_added_at'))
    )
    with op.batch_alter_table('wecom_contacts', schema=None) as batch_op:
        batch_op.create_index('ix_wecom_contacts_external_userid_added_at', ['external_userid', 'added_at'], unique=False)
        batch_op.create_index('ix_wecom_contacts_staff_id_added_at', ['staff_id', 'added_at'], unique=False)

    op.create_table('customer_ownerships',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('rm_id', sa.Integer(), nullable=False),
    sa.Column('valid_from', sa.DateTime(timezone=True), nullable=True),
    sa.Column('valid_to', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('valid_to IS NULL OR valid_from IS NULL OR valid_to >= valid_from', name=op.f('ck_customer_ownerships_interval_ordered')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_customer_ownerships_customer_id_customers')),
    sa.ForeignKeyConstraint(['rm_id'], ['users.id'], name=op.f('fk_customer_ownerships_rm_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_ownerships'))
    )
    with op.batch_alter_table('customer_ownerships', schema=None) as batch_op:
        batch_op.create_index('ix_customer_ownerships_customer_id_valid_from', ['customer_id', 'valid_from'], unique=False)
        batch_op.create_index('ix_customer_ownerships_rm_id_valid_to', ['rm_id', 'valid_to'], unique=False)
        batch_op.create_index('uq_customer_ownerships_open', ['customer_id'], unique=True, sqlite_where=sa.text('valid_to IS NULL'), postgresql_where=sa.text('valid_to IS NULL'))

    with op.batch_alter_table('branches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('province_code', sa.String(length=2), nullable=True))

    segments = sa.table('segments', sa.column('code', sa.String), sa.column('name', sa.String),
                        sa.column('position', sa.Integer))
    op.bulk_insert(segments, [
        {'code': 'private', 'name': '私行', 'position': 1},
        {'code': 'vip', 'name': '贵宾', 'position': 2},
        {'code': 'payroll', 'name': '代发', 'position': 3},
        {'code': 'mass', 'name': '普通', 'position': 4},
    ])



def downgrade():
    with op.batch_alter_table('branches', schema=None) as batch_op:
        batch_op.drop_column('province_code')

    with op.batch_alter_table('customer_ownerships', schema=None) as batch_op:
        batch_op.drop_index('uq_customer_ownerships_open', sqlite_where=sa.text('valid_to IS NULL'), postgresql_where=sa.text('valid_to IS NULL'))
        batch_op.drop_index('ix_customer_ownerships_rm_id_valid_to')
        batch_op.drop_index('ix_customer_ownerships_customer_id_valid_from')

    op.drop_table('customer_ownerships')
    with op.batch_alter_table('wecom_contacts', schema=None) as batch_op:
        batch_op.drop_index('ix_wecom_contacts_staff_id_added_at')
        batch_op.drop_index('ix_wecom_contacts_external_userid_added_at')

    op.drop_table('wecom_contacts')
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customers_segment_id'))
        batch_op.drop_index(batch_op.f('ix_customers_rm_id'))

    op.drop_table('customers')
    with op.batch_alter_table('coverage_snapshots', schema=None) as batch_op:
        batch_op.drop_index('ix_coverage_snapshots_staff_id_snapshot_date')

    op.drop_table('coverage_snapshots')
    op.drop_table('coverage_targets')
    with op.batch_alter_table('verifications', schema=None) as batch_op:
        batch_op.drop_index('ix_verifications_customer_ref')

    op.drop_table('verifications')
    op.drop_table('segments')
