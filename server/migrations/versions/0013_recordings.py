"""recordings: one row per recording of a consultation (files sealed outside the database)

Revision ID: 0013_recordings
Revises: 0012_audit_keyed_chain
Create Date: 2026-12-02 15:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013_recordings'
down_revision: str | None = '0012_audit_keyed_chain'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'recordings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('public_id', sa.String(length=32), nullable=False),
        sa.Column('booking_id', sa.Integer(), nullable=False),
        sa.Column('purpose', sa.String(length=32), nullable=False),
        sa.Column('proposed_by_user_id', sa.Integer(), nullable=True),
        sa.Column('started_by_user_id', sa.Integer(), nullable=True),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('stopped_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('stop_reason', sa.String(length=32), nullable=True),
        sa.Column('delete_after', sa.DateTime(timezone=True), nullable=False),
        sa.Column('storage_name', sa.String(length=64), nullable=False),
        sa.Column('parts', sa.Integer(), nullable=False),
        sa.Column('wrapped_key', sa.LargeBinary(length=64), nullable=True),
        sa.Column('size_bytes', sa.BigInteger(), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('deletion_reason', sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(['booking_id'], ['sched_bookings.id'],
                                name=op.f('fk_recordings_booking_id_sched_bookings'), ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['proposed_by_user_id'], ['users.id'],
                                name=op.f('fk_recordings_proposed_by_user_id_users'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['started_by_user_id'], ['users.id'],
                                name=op.f('fk_recordings_started_by_user_id_users'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_recordings')),
        sa.UniqueConstraint('public_id', name=op.f('uq_recordings_public_id')),
        sa.UniqueConstraint('storage_name', name=op.f('uq_recordings_storage_name')),
    )
    with op.batch_alter_table('recordings', schema=None) as batch_op:
        batch_op.create_index('ix_recordings_delete_after', ['state', 'delete_after'], unique=False)
        batch_op.create_index(batch_op.f('ix_recordings_booking_id'), ['booking_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('recordings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recordings_booking_id'))
        batch_op.drop_index('ix_recordings_delete_after')
    op.drop_table('recordings')
