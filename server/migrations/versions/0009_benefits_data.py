"""scheduling: what the benefits report needs: escort and nurse trips spared, and each consultation's outcome

Revision ID: 0009_benefits_data
Revises: 0008_equipment_items
Create Date: 2026-12-05 09:00:00.000000

A referral says whether the patient would have needed an escort and whether the municipal nurse would
have gone along; staff completing a consultation record whether an admission was avoided and who
follows up.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009_benefits_data'
down_revision: str | None = '0008_equipment_items'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('sched_referrals') as batch:
        batch.add_column(sa.Column('escort_needed', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column('nurse_would_travel', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    op.create_table(
        'sched_consultation_outcomes',
        sa.Column('booking_id', sa.Integer(), nullable=False),
        sa.Column('admission_avoided', sa.Enum('yes', 'no', 'uncertain', name='sched_admission_avoided',
                                               native_enum=False, create_constraint=True, length=32),
                  nullable=False),
        sa.Column('follow_up', sa.String(length=200), nullable=False),
        sa.Column('recorded_by_user_id', sa.Integer(), nullable=True),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['booking_id'], ['sched_bookings.id'],
                                name=op.f('fk_sched_consultation_outcomes_booking_id_sched_bookings'),
                                ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['recorded_by_user_id'], ['users.id'],
                                name=op.f('fk_sched_consultation_outcomes_recorded_by_user_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('booking_id', name=op.f('pk_sched_consultation_outcomes')),
    )


def downgrade() -> None:
    op.drop_table('sched_consultation_outcomes')
    with op.batch_alter_table('sched_referrals') as batch:
        batch.drop_column('nurse_would_travel')
        batch.drop_column('escort_needed')
