"""Batch scoring on Spark, for a CRM's whole database: the registered model runs as an MLflow
pyfunc UDF (`mlflow.pyfunc.spark_udf`), so every executor scores with the same encoder, booster
and calibration as the in-process path. Needs the `spark` extra and Java 17 or newer.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import mlflow.pyfunc

from features.errors import DataError, LeadscoreError, SettingError
from features.reading import atomic_output, refuse_repeated_names
from serve.batch.file_scoring import check_fields
from serve.model.deal_value import MAX_DEAL_VALUE, warn_of_unusable_deal_values
from serve.model.lead_model import LeadModel
from serve.model.loading import load_lead_model
from serve.model.pyfunc import input_types
from serve.model.scorer import SCORE_COLUMNS, warn_of_unreadable_values

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

log = logging.getLogger(__name__)

_RESULT = "__leadscore_result"


class SparkUnavailableError(LeadscoreError):
    """pyspark is not installed, or Spark (Java) does not start."""


def score_with_spark(data: Path, out: Path, model_uri: str, master: str = "local[*]") -> int:
    """Read Parquet (a file or a folder of parts), append the score columns to every lead, and
    write Parquet as a folder of parts under `out` (atomically); return the leads."""
    data, out = Path(data), Path(out)
    _check_parquet(data, "input")
    _check_parquet(out, "output")
    loaded = load_lead_model(model_uri)
    if loaded.model.contract.tables:
        joined = ", ".join(table.name for table in loaded.model.contract.tables)
        raise SettingError(
            f"{loaded.uri} learnt from joined tables ({joined}); the spark engine scores one "
            "table: join them onto the leads first, or use --engine pandas, which joins them"
        )
    with spark_session(master) as spark:
        from pyspark.sql import functions

        leads = _named_as_read(spark.read.parquet(str(data)), str(data))
        if leads.isEmpty():
            raise DataError(f"{data} has a header but no rows: export at least one lead")
        check_fields(loaded.model, leads.columns, [], str(data))
        types = input_types(loaded.model)
        read = [*loaded.model.encoder.feature_names, loaded.model.contract.value]
        fields = {n: types[n] for n in read if n is not None and n in leads.columns}
        read_fields = _read_fields(leads, fields, loaded.model)
        results = _result_types(loaded.model.contract.value is not None)
        predict = mlflow.pyfunc.spark_udf(
            spark,
            loaded.uri,
            result_type=", ".join(f"{n} {t}" for n, t in results.items()),
            env_manager="local",
        )
        scored = (
            leads.drop(*SCORE_COLUMNS)
            .withColumn(_RESULT, predict(functions.struct(*read_fields)))
            .select("*", *(f"{_RESULT}.{name}" for name in results))
            .drop(_RESULT)
        )
        with atomic_output(out) as partial:
            scored.write.parquet(str(partial))
        return spark.read.parquet(str(out)).count()


@contextmanager
def spark_session(master: str) -> Iterator[SparkSession]:
    """A Spark session whose Python workers run this interpreter (so they import leadscore),
    unless PYSPARK_PYTHON names another one."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise SparkUnavailableError(
            "the spark engine needs pyspark: install leadscore with the extra, "
            "pip install 'leadscore[spark]'"
        ) from exc
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    # pyspark warns that it is not yet certified with pandas 3; the test suite checks that Spark
    # and the in-process path give the same scores, so the warning would only alarm users.
    warnings.filterwarnings("ignore", "PySpark does not yet fully support pandas", FutureWarning)
    builder = (
        SparkSession.builder.master(master).appName("leadscore").config("spark.ui.enabled", "false")
    )
    try:
        spark = builder.getOrCreate()
    except Exception as exc:
        raise SparkUnavailableError(
            f"Spark did not start with master '{master}' ({type(exc).__name__}); check that "
            "Java 17 or newer is installed (java -version) and JAVA_HOME points at it"
        ) from exc
    spark.sparkContext.setLogLevel("ERROR")
    try:
        yield spark
    finally:
        spark.stop()


def _result_types(with_expected_value: bool) -> dict[str, str]:
    """The score columns the pyfunc returns, with their Spark SQL types."""
    types = {"probability": "double", "score": "long", "tier": "string"}
    return types | ({"expected_value": "double"} if with_expected_value else {})


def _named_as_read(leads: DataFrame, source: str) -> DataFrame:
    """The leads with their column names trimmed, as every other path reads an export (a name
    with a stray space would otherwise be a field the model never sees)."""
    names = [name.strip() for name in leads.columns]
    refuse_repeated_names(names, source)
    return leads.toDF(*names)


def _column(name: str) -> Column:
    from pyspark.sql import functions

    return functions.col(f"`{name.replace('`', '``')}`")


@dataclass(frozen=True)
class _ReadNumber:
    """A numeric field as the model gets it (`value`) and which leads' values were present but
    unusable (`unusable`), as the in-process path reads them: text that is no number (nor a
    missing-value spelling), an infinity, and for the deal value a number below 0 or above a
    trillion."""

    value: Column
    unusable: Column


def _read_number(
    leads: DataFrame, name: str, is_deal_value: bool, na_values: list[str]
) -> _ReadNumber:
    from pyspark.sql import functions
    from pyspark.sql.types import StringType

    raw = _column(name)
    unreadable_text = functions.lit(False)
    if isinstance(leads.schema[name].dataType, StringType):
        number = raw.try_cast("double")
        written = functions.trim(raw)
        missing = (written == "") | written.isin(na_values)
        unreadable_text = raw.isNotNull() & ~missing & number.isNull()
    else:
        number = raw.cast("double")
    bad = number.isin(float("inf"), float("-inf"))
    if is_deal_value:
        bad = bad | (number < 0) | (number > MAX_DEAL_VALUE)
    bad = functions.coalesce(bad, functions.lit(False))
    value = functions.when(bad, functions.lit(None)).otherwise(number).alias(name)
    return _ReadNumber(value, unreadable_text | bad)


def _read_fields(leads: DataFrame, fields: dict[str, str], model: LeadModel) -> list[Column]:
    """The fields the model reads, typed as its signature says (MLflow refuses a long column, or
    text, for a double field; the model refuses an infinity); text stays text, for the model to
    read as the API does. Unusable numbers become missing (a deal value: the default), counted
    in the in-process path's warnings; counting takes one pass over the numeric columns."""
    from pyspark.sql import functions
    from pyspark.sql.types import StringType

    na_values = sorted(model.encoder.na_values)
    columns, unusable = [], {}
    for name, kind in fields.items():
        if kind == "double":
            read = _read_number(leads, name, name == model.contract.value, na_values)
            columns.append(read.value)
            unusable[name] = functions.count_if(read.unusable).alias(name)
        elif isinstance(leads.schema[name].dataType, StringType):
            columns.append(_column(name))
        else:
            columns.append(_column(name).cast(kind).alias(name))
    if unusable:
        counts = leads.agg(*unusable.values()).first()
        _warn_of_unusable({name: int(counts[name]) for name in unusable} if counts else {}, model)
    return columns


def _warn_of_unusable(counts: dict[str, int], model: LeadModel) -> None:
    deal_value = counts.pop(model.contract.value, 0) if model.contract.value else 0
    unreadable = {name: n for name, n in counts.items() if n}
    if unreadable:
        warn_of_unreadable_values(sum(unreadable.values()), unreadable)
    if deal_value:
        warn_of_unusable_deal_values(deal_value, str(model.contract.value))


def _check_parquet(path: Path, role: str) -> None:
    if path.suffix.lower() not in (".parquet", ".pq"):
        raise DataError(
            f"{role} {path} is not Parquet: the spark engine reads and writes Parquet "
            "(a .parquet file or folder); convert the file, or score it with --engine pandas"
        )
    if role == "input" and not path.exists():
        raise DataError(f"{path} does not exist: check the path of the export")
