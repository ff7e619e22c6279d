"""audit: the chain is keyed with HMAC-SHA256 from here on; older rows stay checked with SHA-256

Revision ID: 0012_audit_keyed_chain
Revises: 0011_benefit_settings
Create Date: 2026-12-07 09:00:00.000000

``audit_head.keyed_from`` marks the first row written with the key: every row an upgraded installation
already has keeps its plain SHA-256 hash (rewriting them would only prove that the upgrade trusted them),
and ``samkonsult audit verify`` checks those the old way and all later ones with the key. The marker is
in every signed checkpoint, so moving it later is detected.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012_audit_keyed_chain'
down_revision: str | None = '0011_benefit_settings'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('audit_head') as batch:
        batch.add_column(sa.Column('keyed_from', sa.Integer(), server_default='1', nullable=False))
    op.execute("UPDATE audit_head SET keyed_from = last_seq + 1")


def downgrade() -> None:
    with op.batch_alter_table('audit_head') as batch:
        batch.drop_column('keyed_from')
