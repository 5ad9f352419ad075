"""Batch scoring on Spark, for a CRM's whole database: the registered model runs as an MLflow
pyfunc UDF (`mlflow.pyfunc.spark_udf`), so every executor scores with the same encoder, booster
and calibration as the in-process path. Needs the `spark` extra and Java 17 or newer.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import mlflow.pyfunc

from features.errors import DataError, LeadscoreError, SettingError
from features.reading import atomic_output, refuse_repeated_names
from serve.model.loading import load_lead_model
from serve.model.pyfunc import input_types
from serve.model.scorer import SCORE_COLUMNS

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
        leads = _named_as_read(spark.read.parquet(str(data)), str(data))
        types = input_types(loaded.model)
        read = [*loaded.model.encoder.feature_names, loaded.model.contract.value]
        fields = {n: types[n] for n in read if n is not None and n in leads.columns}
        _warn_of_unreadable_numbers(leads, fields, loaded.model.encoder.na_values)
        results = _result_types(loaded.model.contract.value is not None)
        predict = mlflow.pyfunc.spark_udf(
            spark,
            loaded.uri,
            result_type=", ".join(f"{n} {t}" for n, t in results.items()),
            env_manager="local",
        )
        scored = (
            leads.drop(*SCORE_COLUMNS)
            .withColumn(_RESULT, predict(_struct_of(leads, fields)))
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


def _text_numbers(leads: DataFrame, fields: dict[str, str]) -> list[str]:
    """The numeric fields the export holds as text."""
    from pyspark.sql.types import StringType

    return [
        name
        for name, kind in fields.items()
        if kind == "double" and isinstance(leads.schema[name].dataType, StringType)
    ]


def _warn_of_unreadable_numbers(
    leads: DataFrame, fields: dict[str, str], na_values: Collection[str]
) -> None:
    """Numeric fields held as text are read as numbers; a value that is no number (nor a
    missing-value spelling) is scored as missing, with the warning the in-process path gives.
    Counting them takes a pass over those columns, only when there are any."""
    from pyspark.sql import functions

    text_numbers = _text_numbers(leads, fields)
    if not text_numbers:
        return
    counts = leads.agg(
        *(
            functions.count_if(
                _column(name).isNotNull()
                & _column(name).try_cast("double").isNull()
                & ~functions.trim(_column(name)).isin(list(na_values))
            ).alias(name)
            for name in text_numbers
        )
    ).first()
    unreadable = {name: counts[name] for name in text_numbers if counts and counts[name]}
    if unreadable:
        log.warning(
            "%d values could not be read and were scored as missing (fields: %s)",
            sum(unreadable.values()),
            ", ".join(sorted(unreadable)),
        )


def _struct_of(leads: DataFrame, fields: dict[str, str]) -> Column:
    """The fields the model reads, typed as its signature says (MLflow refuses a long column, or
    text, for a double field: text that is no number becomes missing); other text stays text,
    for the model to read as the API does."""
    from pyspark.sql import functions
    from pyspark.sql.types import StringType

    text_numbers = set(_text_numbers(leads, fields))
    columns = []
    for name, kind in fields.items():
        column = _column(name)
        if name in text_numbers:
            column = column.try_cast(kind).alias(name)
        elif not isinstance(leads.schema[name].dataType, StringType):
            column = column.cast(kind).alias(name)
        columns.append(column)
    return functions.struct(*columns)


def _check_parquet(path: Path, role: str) -> None:
    if path.suffix.lower() not in (".parquet", ".pq"):
        raise DataError(
            f"{role} {path} is not Parquet: the spark engine reads and writes Parquet "
            "(a .parquet file or folder); convert the file, or score it with --engine pandas"
        )
    if role == "input" and not path.exists():
        raise DataError(f"{path} does not exist: check the path of the export")
