"""people: organisations' address and centre, travel from municipalities to hospitals, professions as codes,
and a temporary password that must be changed

Revision ID: 0007_setup_people
Revises: 0006_note_drafts
Create Date: 2026-12-05 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from server.people.professions import profession_from_text

revision: str = '0007_setup_people'
down_revision: str | None = '0006_note_drafts'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _professions_to_codes(table: str) -> None:
    """Free-text professions ("Lege", "sykepleier") become codes; text that names none of the PSHT
    professions ("teamleder") is cleared, since pages can only word the codes."""
    conn = op.get_bind()
    rows_table = sa.table(table, sa.column("id", sa.Integer()), sa.column("profession", sa.String()))
    rows = conn.execute(sa.select(rows_table.c.id, rows_table.c.profession)
                        .where(rows_table.c.profession != "")).all()
    for row_id, text in rows:
        found = profession_from_text(text)
        conn.execute(sa.update(rows_table).where(rows_table.c.id == row_id)
                     .values(profession=found.value if found else ""))


def upgrade() -> None:
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('address', sa.String(length=300), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('centre_name', sa.String(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('centre_latitude', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('centre_longitude', sa.Float(), nullable=True))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    op.create_table('municipality_travel',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('municipality_id', sa.Integer(), nullable=False),
    sa.Column('hospital_id', sa.Integer(), nullable=False),
    sa.Column('distance_km', sa.Float(), nullable=False),
    sa.Column('travel_minutes', sa.Integer(), nullable=False),
    sa.Column('transport', sa.String(length=32), nullable=False),
    sa.Column('ferry', sa.Boolean(), nullable=False),
    sa.Column('ferry_minutes', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['hospital_id'], ['organisations.id'], name=op.f('fk_municipality_travel_hospital_id_organisations'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['municipality_id'], ['organisations.id'], name=op.f('fk_municipality_travel_municipality_id_organisations'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_municipality_travel')),
    sa.UniqueConstraint('municipality_id', 'hospital_id', name='uq_municipality_travel_pair')
    )
    _professions_to_codes('users')
    _professions_to_codes('sched_resources')


def downgrade() -> None:
    op.drop_table('municipality_travel')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('must_change_password')
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_column('centre_longitude')
        batch_op.drop_column('centre_latitude')
        batch_op.drop_column('centre_name')
        batch_op.drop_column('address')
