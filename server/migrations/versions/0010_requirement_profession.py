"""scheduling: a consultation type may require a profession (a physiotherapist, a pharmacist)

Revision ID: 0010_requirement_profession
Revises: 0009_benefits_data
Create Date: 2026-12-06 09:00:00.000000

A requirement of kind ``profession`` is filled by any bookable person of that profession: of the
department it names, or of the patient's municipality when it names none. The kind's check constraint
gets the new value.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010_requirement_profession'
down_revision: str | None = '0009_benefits_data'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CHECK = 'ck_sched_type_requirements_sched_requirement_kind'
_KINDS = ('named_person', 'department_specialist', 'municipality_nurse', 'health_room', 'patient_home')


def _kind_check(kinds: tuple[str, ...]) -> str:
    return "kind IN (" + ", ".join(f"'{k}'" for k in kinds) + ")"


def upgrade() -> None:
    with op.batch_alter_table('sched_type_requirements') as batch:
        batch.add_column(sa.Column('profession', sa.String(length=40), nullable=False, server_default=''))
        batch.drop_constraint(op.f(_CHECK), type_='check')
        batch.create_check_constraint(op.f(_CHECK), _kind_check((*_KINDS, 'profession')))


def downgrade() -> None:
    op.execute("DELETE FROM sched_type_requirements WHERE kind = 'profession'")
    with op.batch_alter_table('sched_type_requirements') as batch:
        batch.drop_constraint(op.f(_CHECK), type_='check')
        batch.create_check_constraint(op.f(_CHECK), _kind_check(_KINDS))
        batch.drop_column('profession')
