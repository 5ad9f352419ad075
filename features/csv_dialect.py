"""How a CSV export is written: its encoding, its delimiter and its column names, told from its
first bytes. Excel's "Unicode text" (UTF-16, tab-separated) and semicolon-separated exports
(Excel in most European locales) read as they look; any other encoding is refused with what to
do, rather than a codec error half-way; repeated column names are refused rather than renamed.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import re
from collections import Counter
from dataclasses import dataclass

from features.errors import DataError

log = logging.getLogger(__name__)

SAMPLE_BYTES = 64 * 1024
# Line breaks as pandas' CSV parser reads them: CRLF, LF, or a lone CR (classic Mac OS).
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
DELIMITERS = (",", ";", "\t", "|")
_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_UTF16_MARKS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
SAVE_AS_UTF8 = "save it as UTF-8 (in Excel: Save As, 'CSV UTF-8')"


@dataclass(frozen=True)
class CsvDialect:
    encoding: str
    delimiter: str
    columns: tuple[str, ...]  # as named in the header, without surrounding spaces


def sniff_csv(head: bytes, source: str) -> CsvDialect:
    """The dialect of a CSV whose first bytes (up to SAMPLE_BYTES) are `head`."""
    encoding = "utf-16" if head.startswith(_UTF16_MARKS) else "utf-8-sig"
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        text = decoder.decode(head, final=len(head) < SAMPLE_BYTES)
    except UnicodeDecodeError as exc:
        raise not_utf8(source, exc) from exc
    header = _LINE_BREAK.split(text, maxsplit=1)[0]
    delimiter = max(DELIMITERS, key=lambda d: (_fields(header, d), d == ","))
    columns = tuple(name.strip() for name in _split(header, delimiter))
    if encoding == "utf-16" or delimiter != ",":
        log.info("reading %s as %s, %s-separated", source, encoding, _NAMES[delimiter])
    repeated = sorted(name for name, n in Counter(columns).items() if n > 1 and name)
    if repeated:
        raise DataError(
            f"{source}: the column name(s) {', '.join(repeated)} are repeated in the header; "
            "name every column once"
        )
    return CsvDialect(encoding, delimiter, columns)


def not_utf8(source: str, exc: UnicodeDecodeError) -> DataError:
    """The one message for a file that is not UTF-8 (Latin-1 or Windows-1252, typically)."""
    byte = exc.object[exc.start : exc.start + 1].hex()
    return DataError(
        f"{source} is not UTF-8 text (byte 0x{byte} at position {exc.start} is not UTF-8, as "
        f"in a Latin-1 or Windows-1252 export); {SAVE_AS_UTF8}"
    )


def _split(line: str, delimiter: str) -> list[str]:
    """The fields of one line (without its line break, which the CSV module refuses unquoted)."""
    return next(csv.reader(io.StringIO(line), delimiter=delimiter), [])


def _fields(line: str, delimiter: str) -> int:
    return len(_split(line, delimiter))
