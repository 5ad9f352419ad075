"""A fresh PostgreSQL schema per test in the database LEADSCORE_TEST_POSTGRES_URL names (`.ci/run`
sets it up), so that tests start empty and leave nothing behind, without rights to create
databases. The URL given out sets the schema as the connection's search path."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

POSTGRES_URL = os.environ.get("LEADSCORE_TEST_POSTGRES_URL")
SKIP_REASON = "LEADSCORE_TEST_POSTGRES_URL is not set (.ci/run sets up PostgreSQL)"


def psycopg_url(url: str) -> sa.URL:
    return make_url(url).set(drivername="postgresql+psycopg")


@contextmanager
def fresh_schema(prefix: str) -> Iterator[str]:
    """A URL (psycopg 3 driver) whose connections work in a new, empty schema; dropped after."""
    if not POSTGRES_URL:
        pytest.skip(SKIP_REASON)
    base = psycopg_url(POSTGRES_URL)
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base)
    with admin.begin() as connection:
        connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
    try:
        url = base.update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
