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
from pathlib import Path
from typing import TYPE_CHECKING

import mlflow.pyfunc

from features.errors import DataError, LeadscoreError, SettingError
from features.reading import atomic_output
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
        leads = spark.read.parquet(str(data))
        types = input_types(loaded.model)
        read = [*loaded.model.encoder.feature_names, loaded.model.contract.value]
        fields = {n: types[n] for n in read if n is not None and n in leads.columns}
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


def _struct_of(leads: DataFrame, fields: dict[str, str]) -> Column:
    """The fields the model reads, typed as its signature says (MLflow refuses a long column for
    a double field); text stays text, for the model to read or refuse as the API does."""
    from pyspark.sql import functions
    from pyspark.sql.types import StringType

    columns = []
    for name, kind in fields.items():
        column = functions.col(f"`{name.replace('`', '``')}`")
        if not isinstance(leads.schema[name].dataType, StringType):
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
