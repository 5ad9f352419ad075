"""The server's log output: one line per event, as text or as JSON (`LEADSCORE_LOG_FORMAT`).

The server's own messages (model swaps, refusals, registry errors, one line per request) are at
INFO and show by default; other libraries show warnings only. A request's line carries its
facts as fields (`extra={"fields": {...}}`): a JSON line holds them as keys, a text line appends
them as `key=value`.
"""

from __future__ import annotations

import logging
import logging.config
from datetime import UTC, datetime
from typing import Any, Literal

import orjson

LogFormat = Literal["text", "json"]
QUIET = ("mlflow", "alembic", "urllib3", "httpx", "matplotlib")


class JsonFormatter(logging.Formatter):
    """A JSON object per line: time (UTC), level, logger, message, then the record's fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if fields:
            line |= fields
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


class TextFormatter(logging.Formatter):
    """`time LEVEL logger: message key=value ...`."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        fields = getattr(record, "fields", None)
        if not fields:
            return text
        return text + "".join(f" {k}={v}" for k, v in fields.items() if v is not None)


def logging_config(log_format: LogFormat, level: int = logging.WARNING) -> dict[str, Any]:
    """A `logging.config.dictConfig` for the server process (and uvicorn's `log_config`): one
    handler on stderr, the server's and uvicorn's messages at INFO, other libraries at `level`.
    uvicorn's access log is off: the server writes its own line per request."""
    formatter = JsonFormatter if log_format == "json" else TextFormatter
    own = {"level": "INFO", "handlers": [], "propagate": True}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"server": {"()": formatter}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "server",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {
            "serve": own,
            "uvicorn": own,
            "uvicorn.error": own,
            "uvicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
            **{name: {"level": "WARNING"} for name in QUIET},
        },
    }


def ensure_logging(log_format: LogFormat) -> None:
    """Set up the server's logging unless the process already has (`leadscore serve` hands the
    same configuration to uvicorn; a test runner keeps its own): started by hand with uvicorn,
    the server still logs its own messages at INFO, in its format."""
    if logging.getLogger().handlers:
        if logging.getLogger("serve").level == logging.NOTSET:
            logging.getLogger("serve").setLevel(logging.INFO)
        return
    logging.config.dictConfig(logging_config(log_format))
