"""Alembic environment: runs leasesync's migrations on the connection it is given.

leasesync calls Alembic programmatically (app/store/migrate.py) with an open connection in
`config.attributes["connection"]`; the `alembic` command line works too, with `-x url=...`.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from app.store.schema import metadata

config = context.config
target_metadata = metadata


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata,
                          version_table="ls_alembic_version")
        with context.begin_transaction():
            context.run_migrations()
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    engine = create_engine(url)
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, version_table="ls_alembic_version")
        with context.begin_transaction():
            context.run_migrations()


run()
