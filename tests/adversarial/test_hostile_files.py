"""Files that used to be accepted but read wrong, or crashed: each is now read as it looks
(UTF-16 from Excel, semicolon-separated, a header with a trailing comma, ids beyond 64 bits) or
refused in one line naming the file and what to do (repeated columns, nested Parquet columns,
Latin-1, an unclosed quote). The CLI and the API's CSV body read CSV with one reader, so they
agree on every one of them."""

import csv
import io

import httpx
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from features.demo import generate_leads
from leadscore_cli import app
from serve.model.tracking import tracking_uri

FLAGS = ("--target", "outcome", "--positive", "won", "--negative", "lost", "--open", "open")
CSV = {"Content-Type": "text/csv"}


def run(*args) -> object:
    return CliRunner().invoke(app, [str(a) for a in args])


def assert_refused(result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    message = result.stderr.strip()
    assert message.startswith("error: ") and "\n" not in message, message
    for fragment in fragments:
        assert fragment in message, message
    assert "Traceback" not in result.output


def leads(rows: int = 300) -> pd.DataFrame:
    return generate_leads(rows, seed=4)


def test_repeated_column_names_are_refused_naming_them(tmp_path):
    frame = leads()
    text = frame.to_csv(index=False).replace("company_size", "industry", 1)
    path = tmp_path / "twice.csv"
    path.write_text(text)
    assert_refused(run("train", path, *FLAGS), "twice.csv", "industry", "repeated")
    assert MlflowClient(tracking_uri(), tracking_uri()).search_registered_models() == []


def test_nested_parquet_columns_are_refused_naming_them(tmp_path, use_trained_store):
    table = pa.Table.from_pandas(leads(), preserve_index=False)
    address = pa.array([{"city": "Lyon", "zip": "69001"}] * table.num_rows)
    table = table.append_column("address", address).append_column(
        "tags", pa.array([["a", "b"]] * table.num_rows)
    )
    path = tmp_path / "nested.parquet"
    pq.write_table(table, path)
    assert_refused(run("train", path, *FLAGS), "nested.parquet", "address, tags", "nested")
    assert_refused(run("score", path, "-o", tmp_path / "out.csv"), "address, tags")
    assert not (tmp_path / "out.csv").exists()


def scored(path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"lead_id": str})


def test_utf16_and_semicolon_exports_score_as_the_utf8_one(tmp_path, use_trained_store):
    frame = leads(200)
    plain, excel_unicode, semicolon = (
        tmp_path / "plain.csv",
        tmp_path / "unicode.csv",
        tmp_path / "semicolon.csv",
    )
    frame.to_csv(plain, index=False)
    frame.to_csv(excel_unicode, index=False, sep="\t", encoding="utf-16")
    frame.to_csv(semicolon, index=False, sep=";")
    outputs = []
    for path in (plain, excel_unicode, semicolon):
        out = path.with_name(f"scored-{path.name}")
        result = run("score", path, "-o", out)
        assert result.exit_code == 0, result.output
        outputs.append(scored(out))
    for other in outputs[1:]:
        assert other["lead_id"].tolist() == outputs[0]["lead_id"].tolist()
        assert other["probability"].tolist() == outputs[0]["probability"].tolist()


def test_a_latin1_export_is_refused_with_save_as_utf8(tmp_path, use_trained_store):
    frame = leads(50)
    frame.loc[10, "industry"] = "Télécoms"
    path = tmp_path / "latin1.csv"
    frame.to_csv(path, index=False, encoding="latin-1")
    assert_refused(run("train", path, *FLAGS), "latin1.csv", "not UTF-8", "save it as UTF-8")
    assert_refused(run("score", path, "-o", tmp_path / "out.csv"), "latin1.csv", "UTF-8")


def test_an_unclosed_quote_is_refused_naming_its_line(tmp_path, use_trained_store):
    path = tmp_path / "quote.csv"
    path.write_text('lead_id,industry,web_visits\nQ1,Software,3\nQ2,"Retail,4\nQ3,Software,5\n')
    assert_refused(run("score", path, "-o", tmp_path / "out.csv"), "quote.csv", "line 3")
    assert_refused(run("train", path, *FLAGS), "quote.csv", "line 3", "never closed")


def test_ids_beyond_64_bits_stay_as_written_in_a_scored_file(tmp_path, use_trained_store):
    frame = leads(20)
    frame["lead_id"] = [str(10**19 + i) for i in range(20)]
    frame.loc[1, "lead_id"] = None
    frame.loc[2, "lead_id"] = "00042"
    path, out = tmp_path / "ids.csv", tmp_path / "out.csv"
    frame.to_csv(path, index=False)
    result = run("score", path, "-o", out)
    assert result.exit_code == 0, result.output
    ids = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [row["lead_id"] for row in ids[:4]] == [str(10**19), "", "00042", str(10**19 + 3)]


def post_csv(base: str, text: str | bytes) -> httpx.Response:
    body = text.encode() if isinstance(text, str) else text
    return httpx.post(f"{base}/v1/score", content=body, headers=CSV, timeout=30)


def post_json(base: str, leads: list[dict]) -> httpx.Response:
    return httpx.post(f"{base}/v1/score", json={"leads": leads}, timeout=30)


LINES = "lead_id,lead_source,web_visits\nA1,Referral,9\nA2,Cold Outbound,1\nA3,Webinar,4\n"


def test_the_api_reads_csv_bodies_as_the_cli_reads_files(running_server):
    expected = list(csv.DictReader(io.StringIO(post_csv(running_server, LINES).text)))
    assert [row["lead_id"] for row in expected] == ["A1", "A2", "A3"]
    variants = {
        "semicolon": LINES.replace(",", ";"),
        "utf-16 tab": LINES.replace(",", "\t").encode("utf-16"),
        "trailing comma": LINES.replace("\n", ",\n"),
    }
    for name, body in variants.items():
        answer = post_csv(running_server, body)
        assert answer.status_code == 200, (name, answer.text)
        assert list(csv.DictReader(io.StringIO(answer.text))) == expected, name


@pytest.mark.parametrize(
    ("body", "fragments"),
    [
        (LINES.replace("A2,Cold", 'A2,"Cold'), ["line 3", "never closed"]),
        ("lead_id,web_visits\nL1,Télécoms\n".encode("latin-1"), ["not UTF-8", "save it as"]),
        ("lead_id,web_visits,lead_id\nL1,3,L2\n", ["lead_id", "repeated"]),
    ],
)
def test_the_api_refuses_what_the_cli_refuses(running_server, body, fragments):
    answer = post_csv(running_server, body)
    assert answer.status_code == 422, answer.text
    message = answer.json()["detail"][0]["msg"]
    assert all(fragment in message for fragment in fragments), message


def test_ids_beyond_64_bits_come_back_as_sent(running_server):
    big = 12345678901234567890
    huge = 123456789012345678901234567890
    answer = post_json(running_server, [{"lead_id": big}, {"lead_id": huge}])
    assert answer.status_code == 200, answer.text
    ids = [score["lead_id"] for score in answer.json()["scores"]]
    assert ids == [str(big), str(huge)]
    answer = post_csv(running_server, f"lead_id,web_visits\n{big},3\n")
    assert next(csv.DictReader(io.StringIO(answer.text)))["lead_id"] == str(big)
