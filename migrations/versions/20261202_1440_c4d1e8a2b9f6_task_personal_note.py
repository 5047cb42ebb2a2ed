"""task personal note: ``tasks.note``

A front-line user may add a short personal note 附言 to a post (issue 10). The note is
checked by the compliance engine before it is saved; ``tasks.body`` then holds the final
text (approved text, a blank line, the note) and ``body_sha256`` its hash. The CHECK keeps a
note within 1..200 characters and only beside a stored body. Existing tasks have no note.
Downgrading drops the column (the final texts stay in ``body``).

Revision ID: c4d1e8a2b9f6
Revises: c3f9a7d2e815
Create Date: 2026-12-02 14:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4d1e8a2b9f6'
down_revision = 'c3f9a7d2e815'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('note', sa.Text(), nullable=True))
        batch_op.create_check_constraint(
            'note_in_body',
            'note IS NULL OR (body IS NOT NULL AND length(note) BETWEEN 1 AND 200)')


def downgrade():
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_tasks_note_in_body'), type_='check')
        batch_op.drop_column('note')
