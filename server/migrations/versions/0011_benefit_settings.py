"""scheduling: the benefits report's rates and targets, one row an administrator edits

Revision ID: 0011_benefit_settings
Revises: 0010_requirement_profession
Create Date: 2026-12-06 09:00:00.000000

Absent until saved: the report uses its documented defaults (the patient travel scheme's standard rate
per km, a CO2 factor, the share targets and the response targets per urgency) until then.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011_benefit_settings'
down_revision: str | None = '0010_requirement_profession'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'sched_benefit_settings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('cost_per_km_nok', sa.Float(), nullable=False),
        sa.Column('escort_cost_counted', sa.Boolean(), nullable=False),
        sa.Column('co2_kg_per_km', sa.Float(), nullable=False),
        sa.Column('video_share_target', sa.Float(), nullable=False),
        sa.Column('home_share_target', sa.Float(), nullable=False),
        sa.Column('target_days_day', sa.Float(), nullable=False),
        sa.Column('target_days_week', sa.Float(), nullable=False),
        sa.Column('target_days_four_weeks', sa.Float(), nullable=False),
        sa.Column('updated_by_user_id', sa.Integer(), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['updated_by_user_id'], ['users.id'],
                                name=op.f('fk_sched_benefit_settings_updated_by_user_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sched_benefit_settings')),
    )


def downgrade() -> None:
    op.drop_table('sched_benefit_settings')
