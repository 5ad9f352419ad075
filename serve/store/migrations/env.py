"""Alembic's entry point: migrations run on the connection `database.upgrade` hands over."""

from alembic import context

from serve.store.database import VERSION_TABLE
from serve.store.tables import metadata

context.configure(
    connection=context.config.attributes["connection"],
    target_metadata=metadata,
    version_table=VERSION_TABLE,
)
with context.begin_transaction():
    context.run_migrations()
