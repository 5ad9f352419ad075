"""Reading scoring bodies: the fast JSON path accepts exactly what the schema accepts."""

import pytest
from fastapi import HTTPException
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from serve.api.leads_input import read_csv_leads, read_json_leads
from serve.api.schemas import ScoreRequest


@pytest.mark.parametrize(
    "body",
    [
        b'{"leads": [{"a": "x", "b": 1, "c": 2.5, "d": true, "e": null}]}',
        b'{"leads": [{}], "other": 1}',
        b'{"leads": [{"big": 123456789012345678901234567890}]}',
        b'{"leads": [{"edge": 9223372036854775807, "low": -9223372036854775808}]}',
        b'{"leads": [{"over": 9223372036854775808}]}',
        b'{"leads": [{"a": 1}, {"a": "1"}, {"a": 1.0}]}',
    ],
)
def test_valid_bodies_read_as_the_schema_reads_them(body):
    expected = ScoreRequest.model_validate_json(body).leads
    leads = read_json_leads(body)
    assert leads == expected
    assert [[type(v) for v in lead.values()] for lead in leads] == [
        [type(v) for v in lead.values()] for lead in expected
    ]


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"[]",
        b'{"leads": []}',
        b'{"leads": {}}',
        b'{"leads": [[1]]}',
        b'{"leads": [{"a": {"b": 1}}]}',
        b'{"leads": [{"a": [1]}]}',
        b'{"leads": [{"a": 1e400}]}',
        b'{"leads": [{"a": NaN}]}',
    ],
)
def test_invalid_bodies_get_the_schema_s_errors(body):
    with pytest.raises(ValidationError):
        ScoreRequest.model_validate_json(body)
    with pytest.raises(RequestValidationError) as caught:
        read_json_leads(body)
    assert all(error["loc"][0] == "body" for error in caught.value.errors())


def test_csv_cells_are_text_and_empty_cells_missing():
    leads = read_csv_leads(b'\xef\xbb\xbfid,n,note\nA,3,"a, b"\nB,,\n\n')
    assert leads == [{"id": "A", "n": "3", "note": "a, b"}, {"id": "B", "n": None, "note": None}]
    with pytest.raises(HTTPException):
        read_csv_leads(b"id\nA,B\n")


@pytest.mark.parametrize(
    ("read", "body", "where"),
    [
        (
            read_json_leads,
            b'{"leads": [{"a": "x"}, {"a": "x\\u0000y"}]}',
            ["body", "leads", 1, "a"],
        ),
        (read_json_leads, b'{"leads": [{"b\\u0000": 1}]}', ["body", "leads", 0, "b\x00"]),
        (read_csv_leads, b"a,b\nx,y\x00\n", ["body", "leads", 0, "b"]),
    ],
)
def test_a_nul_character_is_refused_where_it_is(read, body, where):
    with pytest.raises(HTTPException) as refused:
        read(body)
    assert refused.value.status_code == 422
    [problem] = refused.value.detail
    assert problem["loc"] == where and "NUL character" in problem["msg"]


def test_a_backslash_u_text_is_no_nul_character():
    assert read_json_leads(b'{"leads": [{"a": "C:\\\\u0000"}]}') == [{"a": "C:\\u0000"}]


@pytest.mark.parametrize(
    "body",
    [b"id,n\rA,3\rB,4\r", b"id,n\r\nA,3\r\nB,4\r\n", b"id,n\nA,3\nB,4\n"],
    ids=["CR (classic Mac OS)", "CRLF", "LF"],
)
def test_a_csv_body_reads_alike_whatever_its_line_breaks(body):
    assert read_csv_leads(body) == [{"id": "A", "n": "3"}, {"id": "B", "n": "4"}]


def test_a_carriage_return_in_the_first_line_is_no_server_error():
    """Found by the API fuzz test: the dialect sniffer split the header at LF only, and the CSV
    module refused the lone CR left in it, which answered 500."""
    body = bytes.fromhex(
        "f2bab6afc3bec39cc2b5f3b092ab6dc2b5f1999eb6f2aaa7aec2ba0dc3b4c289c280f2a2b797"
    )
    try:
        read_csv_leads(body)
    except HTTPException as exc:
        assert 400 <= exc.status_code < 500, exc.detail
