"""wecom access tokens and media: the WeCom client's shared token cache and uploaded media ids

Both tables start empty; downgrading drops them (the next call fetches a new token and
uploads its images again).

Revision ID: d0e04b6e5c45
Revises: 8e4f2a9c7d13
Create Date: 2026-12-02 11:28:24.611902

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd0e04b6e5c45'
down_revision = '8e4f2a9c7d13'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('wecom_access_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cache_key', sa.String(length=64), nullable=False),
    sa.Column('access_token', sa.Text(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wecom_access_tokens')),
    sa.UniqueConstraint('cache_key', name=op.f('uq_wecom_access_tokens_cache_key'))
    )
    op.create_table('wecom_media',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('content_sha256', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('media_id', sa.String(length=256), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wecom_media')),
    sa.UniqueConstraint('content_sha256', 'kind', name=op.f('uq_wecom_media_content_sha256_kind'))
    )


def downgrade():
    op.drop_table('wecom_media')
    op.drop_table('wecom_access_tokens')
