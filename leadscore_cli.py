"""The `leadscore` command: parses options and calls the packages; nothing else lives here."""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from features.chunks import DEFAULT_CHUNK_ROWS
from features.errors import LeadscoreError

app = typer.Typer(
    help="Lead conversion scores learnt from your own won and lost leads.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

log = logging.getLogger("leadscore")

QUIET_LOGGERS = ("mlflow", "alembic", "urllib3", "matplotlib", "httpx")
NO_SIGNAL_EXIT_CODE = 3


@contextmanager
def user_errors() -> Iterator[None]:
    """A user-facing failure is one line on stderr and exit code 2 (no traceback)."""
    try:
        yield
    except LeadscoreError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False) -> None:
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "INFO" if verbose else "WARNING")
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


@app.command("demo-data")
def demo_data(
    out: Annotated[Path, typer.Argument(help="CSV or Parquet file to write")],
    rows: Annotated[int, typer.Option(min=1, help="how many leads")] = 5000,
    seed: Annotated[int, typer.Option(help="same seed, same leads")] = 0,
) -> None:
    """Write realistic B2B demo leads and their lead contract (OUT with suffix .toml)."""
    from features.demo import write_demo

    with user_errors():
        contract = write_demo(out, rows, seed)
    typer.echo(f"wrote {rows} leads to {out} and their contract to {contract}")


ContractFile = Annotated[Path | None, typer.Option("--config", help="lead contract (TOML)")]
Repeated = Annotated[list[str] | None, typer.Option()]


@app.command()
def train(
    data: Annotated[Path, typer.Argument(help="the export: CSV or Parquet")],
    config: ContractFile = None,
    id: Annotated[str | None, typer.Option("--id", help="lead id column")] = None,
    target: Annotated[str | None, typer.Option(help="outcome column")] = None,
    positive: Annotated[list[str] | None, typer.Option(help="label meaning won")] = None,
    negative: Annotated[list[str] | None, typer.Option(help="label meaning lost")] = None,
    open: Annotated[list[str] | None, typer.Option("--open", help="label of open leads")] = None,
    time: Annotated[str | None, typer.Option(help="created-at column")] = None,
    value: Annotated[str | None, typer.Option(help="deal value column")] = None,
    loss_reason: Annotated[str | None, typer.Option(help="loss reason column")] = None,
    drop: Annotated[list[str] | None, typer.Option(help="column never used")] = None,
    pii: Annotated[
        list[str] | None, typer.Option(help="personal column: never used or logged")
    ] = None,
    na_values: Annotated[list[str] | None, typer.Option(help="value meaning missing")] = None,
    kind: Annotated[list[str] | None, typer.Option(help="COLUMN=KIND override")] = None,
    keep_column: Annotated[
        list[str] | None, typer.Option(help="column to keep although the audit flags it")
    ] = None,
    tier_cutoffs: Annotated[
        str | None, typer.Option(help="minimum scores of tiers A,B,C, e.g. 70,40,20")
    ] = None,
    capacity: Annotated[
        int | None, typer.Option(help="leads sales can work per week: sets the size of tier A")
    ] = None,
    tune_seconds: Annotated[
        float, typer.Option(min=0, help="search LightGBM settings for up to N seconds")
    ] = 0,
    model_name: Annotated[str, typer.Option(help="registered model name")] = "leadscore",
    experiment: Annotated[str, typer.Option(help="MLflow experiment")] = "leadscore",
    report_json: Annotated[Path | None, typer.Option(help="write what happened as JSON")] = None,
) -> None:
    """Train on won and lost leads, evaluate, and register a new model version in MLflow.

    Exits 3 when the model shows no usable signal: it is registered but never serves.
    """
    from features.contract import load_contract, parse_kind_overrides
    from train.pipeline import TrainingOptions, train_from_file

    with user_errors():
        contract = load_contract(
            config,
            {
                "id": id,
                "target": target,
                "positive": positive,
                "negative": negative,
                "open": open,
                "time": time,
                "value": value,
                "loss_reason": loss_reason,
                "drop": drop,
                "pii": pii,
                "na_values": na_values,
                "keep": keep_column,
                "kinds": parse_kind_overrides(kind or []),
            },
        )
        options = TrainingOptions(
            model_name=model_name,
            experiment=experiment,
            tier_cutoffs=_parse_cutoffs(tier_cutoffs),
            capacity=capacity,
            tune_seconds=tune_seconds,
            report_json=report_json,
        )
        with _progress_bar(total=5) as step:
            result = train_from_file(data, contract, options, progress=step)
    if report_json:
        report_json.parent.mkdir(parents=True, exist_ok=True)
        report_json.write_text(json.dumps(result.to_json(), indent=2), encoding="utf-8")
    _print_training_summary(result)
    if not result.usable_signal:
        reasons = "; and ".join(result.extra["signal"]["reasons"])
        typer.echo(
            f"no usable signal: {reasons}. Version {result.model_version} is registered for the "
            "record but will not serve: this export does not hold what decides whether a lead "
            "converts.",
            err=True,
        )
        raise typer.Exit(NO_SIGNAL_EXIT_CODE)


def _parse_cutoffs(text: str | None) -> tuple[int, int, int] | None:
    from features.errors import SettingError

    if text is None:
        return None
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise SettingError(
            f"--tier-cutoffs {text!r} must be three scores A,B,C from 0 to 100, e.g. 70,40,20"
        )
    return (int(parts[0]), int(parts[1]), int(parts[2]))


class Engine(StrEnum):
    pandas = "pandas"
    spark = "spark"


@app.command()
def score(
    data: Annotated[Path, typer.Argument(help="leads to score: CSV or Parquet")],
    out: Annotated[Path, typer.Option("--out", "-o", help="CSV or Parquet file to write")],
    model: Annotated[str, typer.Option(help="model URI")] = "models:/leadscore@champion",
    engine: Annotated[
        Engine, typer.Option(help="pandas: in this process, chunk by chunk; spark: on Spark")
    ] = Engine.pandas,
    chunk_rows: Annotated[
        int, typer.Option(min=1, help="leads per chunk (pandas engine)")
    ] = DEFAULT_CHUNK_ROWS,
    spark_master: Annotated[str, typer.Option(help="Spark master URL (spark engine)")] = (
        "local[*]"
    ),
) -> None:
    """Add probability, score (0-100) and tier (A-D) to every lead of a file."""
    with user_errors():
        if engine is Engine.spark:
            from train.spark_scoring import score_with_spark

            rows = score_with_spark(data, out, model, spark_master)
        else:
            from train.scoring import score_file

            with _share_bar("scoring") as report:
                rows = score_file(data, out, model, chunk_rows, progress=report)
    typer.echo(f"scored {rows} leads into {out}")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="default 127.0.0.1")] = None,
    port: Annotated[int | None, typer.Option(help="default 8000")] = None,
    model: Annotated[str | None, typer.Option(help="model URI")] = None,
) -> None:
    """Start the scoring API (settings also from LEADSCORE_* variables)."""
    import uvicorn

    from serve.app import create_app
    from serve.settings import load_settings
    from serve.store.database import open_store

    with user_errors():
        settings = load_settings(host=host, port=port, model_uri=model)
        open_store(settings.database_url).dispose()  # a bad store URL: one line, exit 2
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="info",
        access_log=settings.access_log,
    )


db_app = typer.Typer(help="The outcome and score-log store.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the store's migrations to LEADSCORE_DATABASE_URL (the server also does at start)."""
    from serve.settings import load_settings
    from serve.store.database import open_store

    with user_errors():
        open_store(load_settings().database_url).dispose()
    typer.echo("the store is up to date")


@app.command()
def rollback(
    model_name: Annotated[str, typer.Option(help="registered model name")] = "leadscore",
) -> None:
    """Move the `champion` alias back to the `previous` version."""
    from train.registry import rollback as rollback_champion
    from train.tracking import configure_tracking

    with user_errors():
        was, now = rollback_champion(configure_tracking(), model_name)
    typer.echo(f"{model_name}: champion is now version {now} (was {was})")


@contextmanager
def _progress_bar(total: int) -> Iterator:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description:<36}"), BarColumn(), TimeElapsedColumn())
    timer = _StepTimer()
    with Progress(*columns, transient=True) as progress:
        task = progress.add_task("starting", total=total)

        def step(description: str) -> None:
            if progress.tasks[task].description != "starting":
                progress.advance(task)
            progress.update(task, description=description)
            timer.next(description)

        yield step
    timer.next(None)


class _StepTimer:
    """Logs how long each step took (shown with -v), so the slowest step is visible."""

    def __init__(self) -> None:
        self.step: str | None = None
        self.started = time.perf_counter()

    def next(self, step: str | None) -> None:
        now = time.perf_counter()
        if self.step is not None:
            log.info("step '%s' took %.2f s", self.step, now - self.started)
        self.step, self.started = step, now


@contextmanager
def _share_bar(action: str) -> Iterator:
    """A bar over the share of the input read, with the count of leads done."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description:<28}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, transient=True) as progress:
        task = progress.add_task(action, total=1.0)

        def report(rows: int, share: float) -> None:
            progress.update(task, completed=share, description=f"{action}: {rows:,} leads")

        yield report


def _print_training_summary(result) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"model version {result.model_version} "
        f"({'champion' if result.champion else 'not champion'})"
    )
    table.add_column("metric (evaluation slice)")
    table.add_column("model", justify="right")
    table.add_column("95 % interval", justify="right")
    table.add_column("baseline", justify="right")
    intervals = result.extra["intervals"]
    for name, value in result.metrics.items():
        span = intervals.get(name, {}).get("model")
        span_text = f"{span['low']:.4f} - {span['high']:.4f}" if span else ""
        table.add_row(name, f"{value:.4f}", span_text, f"{result.baseline_metrics[name]:.4f}")
    console = Console()
    console.print(table)
    rows = result.rows
    console.print(
        f"trained on {sum(rows['train'].values())} leads, evaluated on "
        f"{sum(rows['evaluate'].values())} held-back ones ({result.split} split), "
        f"{result.trees} trees, {result.calibration} calibration, {result.seconds:.1f} s; "
        f"model URI {result.model_uri}"
    )
    excluded = [f["column"] for f in result.extra["audit"] if f["excluded"] and f["column"]]
    if excluded:
        console.print(f"the audit excluded: {', '.join(excluded)}")
    console.print(f"decision: {result.extra['decision']['reason']}")
    console.print(f"report: {result.extra['report_html']}")


if __name__ == "__main__":
    app()
