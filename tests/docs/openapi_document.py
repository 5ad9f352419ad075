"""docs/openapi.json: the OpenAPI description the server serves at `/openapi.json`, checked in so
that CRM integration tools can import it without a running server. It is the app's own, built
with the default settings (`LEADSCORE_*` variables ignored); after changing a route or a schema,
refresh it with

    .venv/bin/python -m tests.docs.openapi_document --write      # or: make openapi
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any
from unittest import mock

from serve.api.app import create_app
from serve.api.settings import Settings

OPENAPI_DOC = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
REFRESH = ".venv/bin/python -m tests.docs.openapi_document --write"


def served_schema() -> dict[str, Any]:
    """What `GET /openapi.json` answers under the default settings."""
    defaults = {k: v for k, v in os.environ.items() if not k.startswith("LEADSCORE_")}
    with mock.patch.dict(os.environ, defaults, clear=True):
        return create_app(Settings()).openapi()


def document(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    """`--write`: rewrite docs/openapi.json; without it, print the schema."""
    text = document(served_schema())
    if "--write" in argv:
        OPENAPI_DOC.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
