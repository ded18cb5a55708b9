"""SQLite: the statistics UPDATE triggers run only when a counted column changes.

`lease4_aupd` / `lease6_aupd` (revision 0003) moved a lease between the `leaseX_stat` and
`leaseX_stat_by_client_class` rows on every UPDATE of a lease, and found out only inside their four
statements that nothing had to move. Most updates are renewals, which change the expiry and
nothing the statistics count: on SQLite the trigger was about half of such an UPDATE's cost
(6.3 against 3.2 µs per row, measured in this revision's commit). The triggers now name the
counted columns (`UPDATE OF subnet_id, state, user_context[, lease_type]`, so an UPDATE that sets
only others does not start them) and a `WHEN` clause that compares their values (so an UPDATE
that sets them to what they were does not run the body either). The body is unchanged.

PostgreSQL and MySQL are untouched: their triggers are Kea's (kea-admin's or their equivalent),
which Kea itself relies on.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from __future__ import annotations

import importlib

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# the trigger's body is revision 0003's; one builder keeps the two revisions' triggers alike
_stats = importlib.import_module("migrations.versions.0003_kea_lease_stats")


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    for family in (4, 6):
        trigger = _stats._sqlite_trigger(family, "UPDATE", narrowed=True)
        # inside the migration's transaction (leasesync's SQLite engine begins one explicitly, and
        # SQLite's DDL is transactional): no writer sees the table without its trigger
        bind.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger.name}")
        bind.exec_driver_sql(trigger.ddl)


def downgrade() -> None:
    # Nothing: the narrowed triggers count exactly what revision 0003's did, and as in 0003 the
    # statistics objects stay (an upgrade again replaces them with the same ones).
    pass
