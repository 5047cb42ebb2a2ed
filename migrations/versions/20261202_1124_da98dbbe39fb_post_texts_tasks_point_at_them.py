"""post texts: tasks point at their post's text and variant instead of copying it

A post's text is stored once per variant in ``post_texts.segments`` (literal text and staff
field names, ``app.content.substitution``); a task's text is those segments with its staff
member's name and branch. ``tasks.body`` (and ``body_sha256``) become optional: a task keeps
its own text only where it differs (templates rendered per staff member). Existing tasks keep
their bodies. Downgrading writes each task's composed text back into ``body`` first.

Revision ID: da98dbbe39fb
Revises: 514fe1b94a4e
Create Date: 2026-12-02 11:24:37.005995

"""
import hashlib
import json

from alembic import op
import sqlalchemy as sa

import app.core.db


# revision identifiers, used by Alembic.
revision = 'da98dbbe39fb'
down_revision = '514fe1b94a4e'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('post_texts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('variant', sa.Integer(), nullable=False),
    sa.Column('segments', sa.JSON(), nullable=True),
    sa.Column('created_at', app.core.db.UtcDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('variant >= 0', name=op.f('ck_post_texts_variant_non_negative')),
    sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_post_texts_post_id_posts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_post_texts')),
    sa.UniqueConstraint('post_id', 'variant', name=op.f('uq_post_texts_post_id_variant'))
    )
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('post_text_id', sa.Integer(), nullable=True))
        batch_op.alter_column('body',
               existing_type=sa.TEXT(),
               nullable=True)
        batch_op.alter_column('body_sha256',
               existing_type=sa.VARCHAR(length=64),
               nullable=True)
        batch_op.create_foreign_key(batch_op.f('fk_tasks_post_text_id_post_texts'), 'post_texts', ['post_text_id'], ['id'])
        batch_op.create_check_constraint(
            'body_or_post_text', 'body IS NOT NULL OR post_text_id IS NOT NULL')


def _write_back_bodies():
    """Give every task without its own body the composed text of its post text."""
    connection = op.get_bind()
    rows = connection.execute(sa.text(
        "SELECT tasks.id, post_texts.segments, users.display_name, branches.name "
        "FROM tasks JOIN post_texts ON post_texts.id = tasks.post_text_id "
        "JOIN users ON users.id = tasks.staff_id "
        "LEFT JOIN branches ON branches.id = users.branch_id WHERE tasks.body IS NULL")).all()
    updates = []
    for task_id, segments, name, branch in rows:
        if isinstance(segments, str):
            segments = json.loads(segments)
        staff = {"name": name, "branch": branch or ""}
        body = "".join(part if i % 2 == 0 else staff[part] for i, part in enumerate(segments))
        updates.append({"id": task_id, "body": body,
                        "sha": hashlib.sha256(body.encode("utf-8")).hexdigest()})
    if updates:
        connection.execute(sa.text("UPDATE tasks SET body = :body, body_sha256 = :sha "
                                   "WHERE id = :id"), updates)


def downgrade():
    _write_back_bodies()
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_tasks_body_or_post_text'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_tasks_post_text_id_post_texts'), type_='foreignkey')
        batch_op.alter_column('body_sha256',
               existing_type=sa.VARCHAR(length=64),
               nullable=False)
        batch_op.alter_column('body',
               existing_type=sa.TEXT(),
               nullable=False)
        batch_op.drop_column('post_text_id')

    op.drop_table('post_texts')
