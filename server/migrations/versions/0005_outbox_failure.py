"""outbox: why a message was not sent, as a code people read in their own language

Revision ID: 0005_outbox_failure
Revises: 0004_notes
Create Date: 2026-12-02 04:20:00.000000

Rows written before this revision only have ``last_error``, English text from the dispatcher or the
exception; their code is read from that text so the outbox keeps explaining them.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005_outbox_failure'
down_revision: str | None = '0004_notes'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (pattern of the old English text, code), the first match wins: timeouts before connection errors,
# since aiosmtplib's connect timeout names both.
_OLD_TEXTS = (
    ("no email gateway configured", "no_email_gateway"),
    ("no sms gateway configured", "no_sms_gateway"),
    ("SMTPRecipientsRefused%", "recipient_refused"),
    ("SMTPRecipientRefused%", "recipient_refused"),
    ("SMTPAuthenticationError%", "authentication"),
    ("%Timeout%", "timeout"),
    ("SMTPConnectError%", "unreachable"),
    ("SMTPServerDisconnected%", "unreachable"),
    ("ConnectionRefusedError%", "unreachable"),
    ("ConnectionResetError%", "unreachable"),
    ("OSError%", "unreachable"),
    ("gaierror%", "unreachable"),
    ("SMTP%Error%", "refused"),
)


def upgrade() -> None:
    with op.batch_alter_table('sched_outbox') as batch:
        batch.add_column(sa.Column('failure', sa.String(length=40), nullable=False, server_default=''))
    outbox = sa.table('sched_outbox', sa.column('last_error', sa.String), sa.column('failure', sa.String))
    for pattern, code in _OLD_TEXTS:
        op.execute(outbox.update()
                   .where(outbox.c.failure == '', outbox.c.last_error.like(pattern))
                   .values(failure=code))
    op.execute(outbox.update().where(outbox.c.failure == '', outbox.c.last_error != '')
               .values(failure='delivery_failed'))


def downgrade() -> None:
    with op.batch_alter_table('sched_outbox') as batch:
        batch.drop_column('failure')
