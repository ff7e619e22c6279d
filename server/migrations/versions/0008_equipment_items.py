"""scheduling: an equipment item may be kept in a health room

Revision ID: 0008_equipment_items
Revises: 0007_setup_people
Create Date: 2026-12-04 09:00:00.000000

An equipment resource (a mobile ECG, a spare examination camera) belongs to an organisation and, when
it is kept in a health room, names that room; its kind then counts as the room's equipment.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008_equipment_items'
down_revision: str | None = '0007_setup_people'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('sched_resources') as batch:
        batch.add_column(sa.Column('located_in_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f('fk_sched_resources_located_in_id_sched_resources'), 'sched_resources',
                                 ['located_in_id'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('sched_resources') as batch:
        batch.drop_constraint(op.f('fk_sched_resources_located_in_id_sched_resources'), type_='foreignkey')
        batch.drop_column('located_in_id')
