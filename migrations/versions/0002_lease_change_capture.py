"""The change-capture queue `ls_lease_changes`.

Rows are written by triggers on lease4/lease6 when a lease is changed by someone other than
leasesync's own writer (typically kea-dhcp4/kea-dhcp6 sharing the database); leasesync drains
them (app/capture.py). The triggers themselves are installed or removed at start-up according to
`lease-database.capture-changes`, so the queue never grows while nobody drains it.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

from alembic import op

from app.capture import lease_changes, remove_all_triggers

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    lease_changes.create(op.get_bind(), checkfirst=True)


def downgrade() -> None:
    bind = op.get_bind()
    remove_all_triggers(bind)
    lease_changes.drop(bind, checkfirst=True)
