"""Connecting to the store: the URL from `LEADSCORE_DATABASE_URL`, SQLite tuned for durability
and concurrent writers, and the schema brought up to date by Alembic."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import orjson
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.pool import ConnectionPoolEntry

from features.errors import LeadscoreError
from serve.model.redaction import redact_credentials

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "leadscore_alembic_version"
# How long a SQLite write waits for another writer before it fails (the API answers 503).
SQLITE_BUSY_TIMEOUT_SECONDS = 10.0
DIALECTS = ("sqlite", "postgresql")
LOCK_KEY = 0x6C656164  # the PostgreSQL advisory lock migrations take ('lead')


class StoreError(LeadscoreError):
    """The store's URL is wrong or its database cannot be reached."""


def create_store_engine(
    url: str, busy_timeout_seconds: float = SQLITE_BUSY_TIMEOUT_SECONDS
) -> sa.Engine:
    """An engine for the store: SQLite, or PostgreSQL through psycopg 3. Its errors never
    quote a statement's values (they may be a lead's)."""
    try:
        parsed = make_url(url)
        if parsed.drivername in ("postgresql", "postgres"):
            parsed = parsed.set(drivername="postgresql+psycopg")
        if parsed.get_backend_name() not in DIALECTS:
            raise ValueError(f"the store is {' or '.join(DIALECTS)}, not {parsed.drivername}")
        engine = sa.create_engine(
            parsed, json_serializer=_json_text, pool_pre_ping=True, hide_parameters=True
        )
    except (ArgumentError, NoSuchModuleError, ImportError, ValueError) as exc:
        raise StoreError(
            f"LEADSCORE_DATABASE_URL {redact_credentials(url)!r} cannot be used "
            f"({redact_credentials(str(exc))}); give a URL such as "
            "sqlite:///leadscore.db or postgresql://user:password@host/database"
        ) from exc
    if engine.dialect.name == "sqlite":
        _tune_sqlite(engine, busy_timeout_seconds)
    return engine


def open_store(
    url: str, busy_timeout_seconds: float = SQLITE_BUSY_TIMEOUT_SECONDS, must_exist: bool = False
) -> sa.Engine:
    """An engine on an up-to-date store; raises StoreError with what to fix. `must_exist`:
    for commands that only read it, a SQLite file that is not there is an error (SQLite would
    create it empty, and a mistyped path would read as a store with nothing in it)."""
    engine = create_store_engine(url, busy_timeout_seconds)
    if must_exist and not _sqlite_file_exists(engine):
        engine.dispose()
        raise StoreError(
            f"there is no store at {redact_credentials(url)} (no such file); check "
            "LEADSCORE_DATABASE_URL: the API creates its store when it starts"
        )
    upgrade(engine)
    return engine


def _sqlite_file_exists(engine: sa.Engine) -> bool:
    """False only for a SQLite store whose file is not there (any other store: True)."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or database in (None, "", ":memory:"):
        return True
    return Path(str(database)).is_file()


def upgrade_store(url: str) -> StoreUpgrade:
    """Bring the store at `url` up to date and say what that took."""
    engine = create_store_engine(url)
    try:
        return upgrade(engine)
    finally:
        engine.dispose()


@contextmanager
def store_at(url: str, must_exist: bool = False) -> Iterator[sa.Engine]:
    """An up-to-date store for the length of one job (a CLI command), disposed after."""
    engine = open_store(url, must_exist=must_exist)
    try:
        yield engine
    finally:
        engine.dispose()


@dataclass(frozen=True)
class StoreUpgrade:
    """What `upgrade` did: the schema version before (None: no tables) and after."""

    url: str  # password hidden
    before: str | None
    after: str | None

    def describe(self) -> str:
        if self.before is None:
            return f"created the store's tables at {self.url} (schema version {self.after})"
        if self.before == self.after:
            return f"the store at {self.url} was already up to date (schema version {self.after})"
        return f"upgraded the store at {self.url} from schema version {self.before} to {self.after}"


def upgrade(engine: sa.Engine) -> StoreUpgrade:
    """Apply every migration not yet applied (safe to run at each start, and by several
    processes at once: on PostgreSQL one migrates while the others wait for its lock, then find
    nothing to do; SQLite's BEGIN IMMEDIATE does the same)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    try:
        with engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
            before = _schema_version(connection)
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            after = _schema_version(connection)
    except SQLAlchemyError as exc:
        raise StoreError(
            f"the store at {engine.url.render_as_string(hide_password=True)} cannot be "
            f"migrated: {str(exc).splitlines()[0]}; check LEADSCORE_DATABASE_URL"
        ) from exc
    return StoreUpgrade(engine.url.render_as_string(hide_password=True), before, after)


def _schema_version(connection: sa.Connection) -> str | None:
    options = {"version_table": VERSION_TABLE}
    return MigrationContext.configure(connection, opts=options).get_current_revision()


def _json_text(value: object) -> str:
    return orjson.dumps(value).decode()


def _tune_sqlite(engine: sa.Engine, busy_timeout_seconds: float) -> None:
    """WAL so that readers never block the writer; FULL sync so that an acknowledged write
    survives a crash; BEGIN IMMEDIATE so that read-then-write transactions never deadlock."""

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_seconds * 1000)}")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
