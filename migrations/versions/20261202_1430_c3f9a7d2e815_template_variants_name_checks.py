"""template variants; findings per variant; names checked on save

``template_variants`` holds the further wordings (variant >= 1) of a template version (the
version's ``body`` stays variant 0); ``compliance_findings.variant`` says which wording a
finding is in (existing findings: 0). ``users.name_check_sha256`` and
``branches.name_check_sha256`` record that a display name or branch name passed the
compliance check when it was saved (NULL for rows saved before: the daily run checks those
names itself). Downgrading drops the variants (their findings first) and the columns.

Revision ID: c3f9a7d2e815
Revises: a3c5e7f9b1d2
Create Date: 2026-12-02 14:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3f9a7d2e815'
down_revision = 'a3c5e7f9b1d2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'template_variants',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('version_id', sa.Integer(), nullable=False),
        sa.Column('variant', sa.Integer(), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('body_sha256', sa.String(length=64), nullable=False),
        sa.CheckConstraint('variant >= 1', name=op.f('ck_template_variants_variant_positive')),
        sa.ForeignKeyConstraint(['version_id'], ['template_versions.id'],
                                name=op.f('fk_template_variants_version_id_template_versions')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_template_variants')),
        sa.UniqueConstraint('version_id', 'variant',
                            name=op.f('uq_template_variants_version_id_variant')),
    )
    with op.batch_alter_table('template_variants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_template_variants_version_id'), ['version_id'],
                              unique=False)
    with op.batch_alter_table('compliance_findings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('variant', sa.Integer(), server_default='0',
                                      nullable=False))
        batch_op.create_check_constraint('variant_non_negative', 'variant >= 0')
    for table in ('users', 'branches'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('name_check_sha256', sa.String(length=64),
                                          nullable=True))


def downgrade():
    for table in ('branches', 'users'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('name_check_sha256')
    op.execute('DELETE FROM compliance_findings WHERE variant > 0')
    with op.batch_alter_table('compliance_findings', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_compliance_findings_variant_non_negative'),
                                 type_='check')
        batch_op.drop_column('variant')
    with op.batch_alter_table('template_variants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_template_variants_version_id'))
    op.drop_table('template_variants')
