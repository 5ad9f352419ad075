"""Reading the leads of a scoring request: a JSON body, or CSV for bulk import tools."""

from __future__ import annotations

import codecs
from typing import Any, NoReturn, cast

import orjson
from fastapi import HTTPException, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from features.errors import DataError
from features.reading import read_csv_body
from serve.api.schemas import INT64, ScoreRequest

CSV_TYPE = "text/csv"


def is_csv(content_type: str | None) -> bool:
    return (content_type or "").split(";")[0].strip().lower() == CSV_TYPE


def is_json(content_type: str | None) -> bool:
    media = (content_type or "application/json").split(";")[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def read_json_leads(body: bytes) -> list[dict[str, Any]]:
    """A plain check for the common, valid body; pydantic for any other, so that a bad body
    gets its field-level errors (both accept and produce exactly the same leads). A UTF-8
    byte-order mark, which JSON allows a reader to ignore, is ignored; UTF-16 is named."""
    body = body.removeprefix(codecs.BOM_UTF8)
    if body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or body[:2].count(0) == 1:
        _refuse("the JSON body is UTF-16: send it as UTF-8")
    leads = _plain_leads(body)
    if leads is None:
        try:
            leads = ScoreRequest.model_validate_json(body).leads
        except ValidationError as exc:
            errors = _one_per_field(exc.errors(include_url=False, include_context=False))
            raise RequestValidationError([_located_in_body(error) for error in errors]) from None
    if b"\\u0000" in body:  # the one way JSON spells the NUL character
        _refuse_nul_characters(leads)
    return _names_trimmed(leads)


def _names_trimmed(leads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The leads with their field names trimmed, as a CSV body's header is: a name with a stray
    space would be a field the model never sees, and the same lead sent as CSV would score
    differently. The names are checked once per distinct name, so the usual body costs nothing."""
    if all(name == name.strip() for name in set().union(*leads)):
        return leads
    trimmed = []
    for index, lead in enumerate(leads):
        record: dict[str, Any] = {}
        for name, value in lead.items():
            name = name.strip()
            if name in record:
                _refuse(
                    f"lead {index} gives the field '{name}' twice once the spaces around its "
                    "names are trimmed; send it once"
                )
            record[name] = value
        trimmed.append(record)
    return trimmed


_SCALARS = (str, float, bool, type(None))
FIELD_VALUES = "a lead's field holds text, a number, true, false or null"
JSON_KINDS: dict[type, str] = {list: "a list", dict: "an object"}


def _plain_leads(body: bytes) -> list[dict[str, Any]] | None:
    """The leads when the body is a non-empty list of flat objects of scalars, else None. An
    integer beyond 64 bits becomes its digits as text, as the schema has it."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    leads = data.get("leads") if isinstance(data, dict) else None
    if not isinstance(leads, list) or not leads:
        return None
    for lead in leads:
        if not isinstance(lead, dict):
            return None
        for name, value in lead.items():
            if type(value) is int:
                if not -INT64 <= value < INT64:
                    lead[name] = str(value)
            elif type(value) is float and abs(value) >= INT64 and value.is_integer():
                return None  # maybe an integer too long for orjson: the schema keeps its digits
            elif not isinstance(value, _SCALARS):
                return None
    return leads


def _one_per_field(errors: list[ErrorDetails]) -> list[ErrorDetails]:
    """A lead's value that fits none of a field's types (a list, an object) is reported by
    pydantic once per type it tried; one error per field instead, saying what a value may be.
    A number that is not finite keeps its own message."""
    by_field: dict[tuple, list[ErrorDetails]] = {}
    for error in errors:
        loc = error["loc"]
        tried_types = len(loc) == 4 and loc[0] == "leads"
        by_field.setdefault(loc[:3] if tried_types else loc, []).append(error)
    merged: list[ErrorDetails] = []
    for loc, group in by_field.items():
        if len(group) == 1:
            merged.extend(group)
            continue
        own = next((e for e in group if e["type"] == "finite_number"), None)
        if own is not None:
            merged.append({**own, "loc": loc})
            continue
        given = JSON_KINDS.get(type(group[0].get("input")), "such a value")
        message = f"{FIELD_VALUES}, not {given}"
        merged.append({**group[0], "loc": loc, "type": "value_type", "msg": message})
    return merged


def _located_in_body(error: ErrorDetails) -> dict[str, Any]:
    """Under the body; the raw bytes of a body that is not JSON are not echoed back."""
    located = {**error, "loc": ("body", *error["loc"])}
    if isinstance(located.get("input"), bytes):
        del located["input"]
    return located


def read_csv_leads(body: bytes) -> list[dict[str, str | None]]:
    """One lead per line after a header line naming the fields, read as exports are (see
    `features.reading`): every cell as text, empty cells and missing-value spellings missing."""
    try:
        frame = read_csv_body(body, "the CSV body")
    except DataError as exc:
        _refuse(str(exc))
    if frame.empty:
        _refuse("the CSV body has a header but no leads: send one lead per line below it")
    records = frame.astype(object).where(frame.notna(), None).to_dict("records")
    leads = cast(list[dict[str, str | None]], records)
    if b"\x00" in body:
        _refuse_nul_characters(leads)
    return leads


def _refuse_nul_characters(leads: list[dict[str, Any]]) -> None:
    """The NUL character means nothing in a lead, and PostgreSQL cannot keep it in the score
    log: a lead carrying one is refused, naming where."""
    for index, lead in enumerate(leads):
        for name, value in lead.items():
            if "\x00" in name or (isinstance(value, str) and "\x00" in value):
                raise HTTPException(
                    status.HTTP_422_UNPROCESSABLE_CONTENT,
                    [
                        {
                            "loc": ["body", "leads", index, name],
                            "msg": "contains the NUL character (\\u0000); remove it",
                            "type": "value_error",
                        }
                    ],
                )


def _refuse(message: str) -> NoReturn:
    raise HTTPException(
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        [{"loc": ["body"], "msg": message, "type": "value_error"}],
    )
