"""The HA hand-off journal, `ls_ha_handoff`.

A lease change made on this server was committed first and handed to the HA peers afterwards (sent,
or written to the durable backlog when a peer could not take it). A server killed in between kept
the change and no peer ever got it: the partner's sync after the restart only adds or updates what
is newer there. Each change that will be sent now writes a row here in its own transaction; the
row is deleted once the change was handed off, and a restart moves what it finds here into the
backlog (app/ha/service.py).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

from app.store import schema

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    schema.metadata.create_all(op.get_bind(), tables=[schema.ha_handoff])


def downgrade() -> None:
    schema.metadata.drop_all(op.get_bind(), tables=[schema.ha_handoff])
