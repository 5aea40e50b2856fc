"""Alembic environment: run programmatically by :func:`mmicd.store.migrate` on a live connection."""

from alembic import context

from mmicd.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
