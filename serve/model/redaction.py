"""Credentials in URIs (`http://user:password@host`, `postgresql://user:password@db/x`) are
replaced by `***` wherever a URI can reach a person: error messages, `/ready`, `/v1/model` and
every log line. A tracking or store URI with a password is an ordinary setting, and the
libraries that fail to reach it quote it in full in their exceptions.
"""

from __future__ import annotations

import logging
import re
from typing import Any

_CREDENTIALS = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)[^/\s@:]*(?::[^/\s@]*)?@")
_FORMATTER = logging.Formatter()


def redact_credentials(text: str) -> str:
    """The text with the user and password of every URI in it replaced by `***`."""
    if "@" not in text:
        return text
    return _CREDENTIALS.sub(r"\1***@", text)


def install_log_redaction() -> None:
    """From now on, every log record (its message and its traceback) is created redacted,
    whichever logger made it and whichever handler writes it."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "redacts_credentials", False):
        return

    def redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed call: logging reports it when the record is written
            return record
        redacted = redact_credentials(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact_credentials(_FORMATTER.formatException(record.exc_info))
        return record

    redacting_factory.redacts_credentials = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(redacting_factory)
