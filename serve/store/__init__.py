"""The outcome and score-log store: SQLAlchemy over SQLite (WAL) by default, PostgreSQL by URL,
its schema managed by Alembic migrations shipped in `migrations/`."""
