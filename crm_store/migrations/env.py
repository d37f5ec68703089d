"""Alembic environment: uses the engine the store hands over, or `sqlalchemy.url` from alembic.ini."""

from alembic import context
from sqlalchemy import engine_from_config, pool

from crm_store.models import Base
from crm_store.search import modelled

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        engine = engine_from_config(config.get_section(config.config_ini_section, {}), poolclass=pool.NullPool)
    with engine.connect() as connection:
        is_sqlite = connection.dialect.name == "sqlite"
        if is_sqlite:
            # SQLite alters a table by copying it; with foreign keys enforced, dropping the old copy
            # fails. The pragma only works outside a transaction: set it on the raw connection first.
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=is_sqlite,
            include_object=modelled,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
        if is_sqlite:
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")


run_migrations_online()
