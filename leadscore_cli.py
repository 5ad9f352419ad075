"""The `leadscore` command: parses options and calls the packages; nothing else lives here."""

from __future__ import annotations

import functools
import inspect
import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import fields
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, get_type_hints

import typer

from features.chunks import DEFAULT_CHUNK_ROWS, MAX_CHUNK_ROWS
from features.errors import LeadscoreError, SettingError
from serve.store.bounds import (
    DEFAULT_STALL_FACTOR,
    DEFAULT_STALLED_LIMIT,
    DEFAULT_WINDOW_DAYS,
    MAX_STALL_FACTOR,
    MAX_STALLED_DAYS,
    MAX_STALLED_LIMIT,
    MAX_WINDOW_DAYS,
)
from train.job_options import JobOptions

if TYPE_CHECKING:
    from rich.console import Console

    from serve.store.performance import LivePerformance
    from train.results import RetrainOutcome, TrainingResult

app = typer.Typer(
    help="Lead conversion scores learnt from your own won and lost leads.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

log = logging.getLogger("leadscore")

QUIET_LOGGERS = ("mlflow", "alembic", "urllib3", "matplotlib", "httpx")
REGISTRY_RETRIES = 3
NO_SIGNAL_EXIT_CODE = 3
PIPED_WIDTH = 200


@contextmanager
def user_errors() -> Iterator[None]:
    """A user-facing failure is one line on stderr and exit code 2 (no traceback)."""
    try:
        yield
    except LeadscoreError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None
    except Exception as exc:
        from mlflow.exceptions import MlflowException

        from serve.model.loading import is_unreachable, unreachable_error

        if not (isinstance(exc, MlflowException) and is_unreachable(exc)):
            raise
        problem = unreachable_error(exc)  # wherever a job first asked the registry
        typer.echo(f"error: {problem}", err=True)
        raise typer.Exit(problem.exit_code) from None


@app.callback()
def main(
    context: typer.Context, verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False
) -> None:
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "INFO" if verbose else "WARNING")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    if context.invoked_subcommand != "serve":  # the API bounds its own registry requests
        # MLflow retries a tracking server 7 times with growing waits, about four minutes
        # before a command can say the registry is unreachable; three retries ride out a
        # restart of the server.
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", str(REGISTRY_RETRIES))
    # LightGBM's OpenMP threads spin while they wait for each other: on cores busy with other
    # work, a two-thread fit of a million leads ran 12x slower than one thread. Waiting
    # passively costs little on idle cores. OpenMP reads this once, when a command first
    # imports LightGBM (after this).
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
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


@app.command("demo-traffic")
def demo_traffic(
    weeks: Annotated[int, typer.Option(min=1, max=52, help="weeks of traffic, ending now")] = 6,
    leads_per_day: Annotated[int, typer.Option(min=1, max=5000, help="leads scored a day")] = 150,
    seed: Annotated[int, typer.Option(help="same seed, same leads")] = 7,
    model: Annotated[str, typer.Option(help="model URI")] = "models:/leadscore@champion",
) -> None:
    """Fill an empty store (LEADSCORE_DATABASE_URL) with weeks of demo leads scored by the model
    and the outcomes sales would have reported since: a full board at once."""
    from serve.api.settings import load_settings
    from serve.model.loading import load_lead_model
    from serve.store.database import store_at
    from serve.store.demo_traffic import replay_demo_traffic

    with user_errors():
        loaded = load_lead_model(model)
        with store_at(load_settings().database_url) as engine:
            found = replay_demo_traffic(
                engine, loaded.model, loaded.version, weeks, leads_per_day, seed
            )
    if found.note:
        typer.echo(f"no demo traffic added: {found.note}")
        return
    typer.echo(
        f"scored {found.leads:,} demo leads from {found.first:%Y-%m-%d} to {found.last:%Y-%m-%d} "
        f"with version {loaded.version} and reported {found.outcomes:,} outcomes"
    )


JOB_OPTIONS = {
    "config": typer.Option("--config", help="lead contract (TOML)"),
    "id": typer.Option("--id", help="lead id column"),
    "target": typer.Option(help="outcome column"),
    "positive": typer.Option(help="label meaning won"),
    "negative": typer.Option(help="label meaning lost"),
    "open": typer.Option("--open", help="label of open leads"),
    "time": typer.Option(help="created-at column"),
    "value": typer.Option(help="deal value column"),
    "loss_reason": typer.Option(help="loss reason column"),
    "drop": typer.Option(help="column never used"),
    "pii": typer.Option(help="personal column: never used or logged"),
    "na_values": typer.Option(help="value meaning missing"),
    "kind": typer.Option(help="COLUMN=KIND override"),
    "keep_column": typer.Option(help="column to keep although the audit flags it"),
    "tier_cutoffs": typer.Option(help="minimum scores of tiers A,B,C, e.g. 70,40,20"),
    "capacity": typer.Option(help="leads sales can work per week: sets the size of tier A"),
    "tune_seconds": typer.Option(min=0, help="search LightGBM settings for up to N seconds"),
    "model_name": typer.Option(help="registered model name"),
    "experiment": typer.Option(help="MLflow experiment"),
    "report_json": typer.Option(help="write what happened as JSON"),
}


def with_job_options(command: Callable[..., None]) -> Callable[..., None]:
    """Offer one option per field of `JobOptions` (the options `train` and `retrain` share)
    where `command` has its `options: JobOptions` parameter; it receives them as one value."""
    types = get_type_hints(JobOptions)
    shared = [
        inspect.Parameter(
            field.name,
            inspect.Parameter.KEYWORD_ONLY,
            default=field.default,
            annotation=Annotated[types[field.name], JOB_OPTIONS[field.name]],
        )
        for field in fields(JobOptions)
    ]
    signature = inspect.signature(command, eval_str=True)
    parameters = [
        offered
        for parameter in signature.parameters.values()
        for offered in (shared if parameter.name == "options" else [parameter])
    ]

    @functools.wraps(command)
    def run(**values: Any) -> None:
        options = JobOptions(**{parameter.name: values.pop(parameter.name) for parameter in shared})
        command(options=options, **values)

    run.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    return run


@app.command()
@with_job_options
def train(
    data: Annotated[Path, typer.Argument(help="the export: CSV or Parquet")],
    *,
    options: JobOptions,
) -> None:
    """Train on won and lost leads, evaluate, and register a new model version in MLflow.

    Exits 3 when the model shows no usable signal: it is registered but never serves.
    """
    from train.pipeline import train_job

    with user_errors(), _progress_bar(total=5) as step:
        result = train_job(data, options, progress=step)
    _write_json(options.report_json, result.to_json())
    _print_training_summary(result)
    if not result.usable_signal:
        signal = result.summary.evaluation.signal
        cause = (
            "too few of its closed leads were left to evaluate the model on"
            if signal.too_few_leads
            else "this export does not hold what decides whether a lead converts"
        )
        typer.echo(
            f"no usable signal: {'; and '.join(signal.reasons)}. Version "
            f"{result.model_version} is registered for the record but will not serve: {cause}.",
            err=True,
        )
        raise typer.Exit(NO_SIGNAL_EXIT_CODE)


@app.command()
@with_job_options
def retrain(
    data: Annotated[
        Path | None, typer.Argument(help="the export: CSV or Parquet (optional with --from-store)")
    ] = None,
    from_store: Annotated[
        bool,
        typer.Option(help="add the score log joined with the outcomes (LEADSCORE_DATABASE_URL)"),
    ] = False,
    *,
    options: JobOptions,
    auc_tolerance: Annotated[
        float, typer.Option(min=0, help="how much lower ROC AUC may be than the champion's")
    ] = 0.01,
    log_loss_tolerance: Annotated[
        float, typer.Option(min=0, help="how much higher log loss may be than the champion's")
    ] = 0.005,
    min_roc_auc: Annotated[
        float | None, typer.Option(help="floor: never promote below this ROC AUC")
    ] = None,
    max_log_loss: Annotated[
        float | None, typer.Option(help="ceiling: never promote above this log loss")
    ] = None,
    lock_wait: Annotated[
        float, typer.Option(min=0, help="wait up to N seconds for another retrain to finish")
    ] = 0,
) -> None:
    """Train a challenger and promote it to champion only if it beats the serving one.

    Exit codes: 0 promoted or kept (the output and --report-json say which), 2 bad input or
    another retrain holds the lock, 3 no usable signal, 1 anything else.
    """
    from serve.api.settings import load_settings
    from train.evaluate.gate import PromotionRule
    from train.retrain import retrain_job

    rule = PromotionRule(auc_tolerance, log_loss_tolerance, min_roc_auc, max_log_loss)
    with user_errors():
        database_url = load_settings().database_url if from_store else None
        with _progress_bar(total=6) as step:
            outcome = retrain_job(data, database_url, options, rule, lock_wait, progress=step)
    _write_json(options.report_json, outcome.to_json())
    _print_retrain_summary(outcome)
    if not outcome.usable_signal:
        raise typer.Exit(NO_SIGNAL_EXIT_CODE)


def _write_json(path: Path | None, content: dict) -> None:
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(content, indent=2), encoding="utf-8")


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
        int, typer.Option(min=1, max=MAX_CHUNK_ROWS, help="leads per chunk (pandas engine)")
    ] = DEFAULT_CHUNK_ROWS,
    spark_master: Annotated[str, typer.Option(help="Spark master URL (spark engine)")] = (
        "local[*]"
    ),
    config: Annotated[
        Path | None,
        typer.Option(
            help="lead contract whose \\[tables.*] are joined (pandas engine); default: the "
            "tables the model was trained with"
        ),
    ] = None,
) -> None:
    """Add probability, score (0-100) and tier (A-D) to every lead of a file."""
    with user_errors():
        if engine is Engine.spark:
            from serve.batch.spark_scoring import score_with_spark

            rows = score_with_spark(data, out, model, spark_master)
        else:
            from features.contract import load_contract
            from serve.batch.file_scoring import score_file

            tables = load_contract(config).tables if config else None
            with _share_bar("scoring") as report:
                rows = score_file(data, out, model, chunk_rows, report, tables)
    typer.echo(f"scored {rows} leads into {out}")


class LogFormat(StrEnum):
    text = "text"
    json = "json"


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="default 127.0.0.1")] = None,
    port: Annotated[int | None, typer.Option(help="default 8000")] = None,
    model: Annotated[str | None, typer.Option(help="model URI")] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1, help="worker processes, each with its own model; /metrics adds them up"
        ),
    ] = 1,
    log_format: Annotated[
        LogFormat | None, typer.Option(help="log lines as text or JSON; default text")
    ] = None,
) -> None:
    """Start the scoring API (settings also from LEADSCORE_* variables)."""
    from serve.api.launch import serve_api

    with user_errors():
        serve_api(workers, host=host, port=port, model_uri=model, log_format=log_format)


db_app = typer.Typer(help="The outcome and score-log store.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the store's migrations to LEADSCORE_DATABASE_URL (the server also does at start)."""
    from serve.api.settings import load_settings
    from serve.store.database import upgrade_store

    with user_errors():
        done = upgrade_store(load_settings().database_url)
    typer.echo(done.describe())


@app.command()
def rollback(
    model_name: Annotated[str, typer.Option(help="registered model name")] = "leadscore",
) -> None:
    """Move the `champion` alias back to the `previous` version."""
    from serve.model.tracking import configure_tracking
    from train.registry.versions import rollback as rollback_champion

    with user_errors():
        was, now = rollback_champion(configure_tracking(), model_name)
    typer.echo(f"{model_name}: champion is now version {now} (was {was})")


DRIFT_EXIT_CODE = 4
ServingModelUri = Annotated[str, typer.Option("--model", help="model URI")]


@app.command()
def performance(
    since: Annotated[
        float, typer.Option(min=0.001, max=MAX_WINDOW_DAYS, help="window: the last N days")
    ] = DEFAULT_WINDOW_DAYS,
    model: ServingModelUri = "models:/leadscore@champion",
    as_json: Annotated[bool, typer.Option("--json", help="print JSON, as the API answers")] = False,
    fail_on_drift: Annotated[
        bool, typer.Option(help=f"exit {DRIFT_EXIT_CODE} when a field or the score drifted")
    ] = False,
) -> None:
    """How the serving model does live: conversion per tier and segment against the predicted,
    ROC AUC and log loss on closed leads, drift, revenue (store: LEADSCORE_DATABASE_URL)."""
    from pydantic import TypeAdapter

    from serve.api.settings import load_settings
    from serve.model.loading import load_lead_model
    from serve.store.database import store_at
    from serve.store.performance import LivePerformance, live_performance

    with user_errors():
        loaded = load_lead_model(model)
        with store_at(load_settings().database_url, must_exist=True) as engine:
            found = live_performance(engine, loaded.model, loaded.version, since)
    if as_json:
        typer.echo(TypeAdapter(LivePerformance).dump_json(found, indent=2).decode())
    else:
        _print_performance(found)
    if fail_on_drift and found.drift and found.drift.drifted:
        raise typer.Exit(DRIFT_EXIT_CODE)


@app.command()
def stalled(
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="write them as CSV for marketing")
    ] = None,
    factor: Annotated[
        float,
        typer.Option(
            min=0.001, max=MAX_STALL_FACTOR, help="stalled after N times the typical days to close"
        ),
    ] = DEFAULT_STALL_FACTOR,
    after_days: Annotated[
        float | None,
        typer.Option(
            min=0.0, max=MAX_STALLED_DAYS, help="stalled after N days (instead of --factor)"
        ),
    ] = None,
    limit: Annotated[
        int,
        typer.Option(min=1, max=MAX_STALLED_LIMIT, help="at most N leads, most promising first"),
    ] = DEFAULT_STALLED_LIMIT,
    model: ServingModelUri = "models:/leadscore@champion",
) -> None:
    """Scored leads with no outcome for too long: back to marketing to nurture, most promising
    first, rescored by the serving model with its reasons."""
    from features.reading import atomic_output
    from insights.stalled import stalled_leads
    from serve.api.settings import load_settings
    from serve.model.loading import load_lead_model
    from serve.store.database import store_at

    with user_errors():
        if out is not None and out.suffix.lower() != ".csv":
            raise SettingError(f"--out {out}: stalled leads are written as CSV; name it .csv")
        loaded = load_lead_model(model)
        with store_at(load_settings().database_url, must_exist=True) as engine:
            found = stalled_leads(engine, loaded.model, factor, after_days, limit)
        if out is not None:
            with atomic_output(out) as partial:
                partial.write_text(found.csv(), encoding="utf-8")
    if found.note:
        typer.echo(found.note, err=True)
    rule = (
        ""
        if found.threshold_days is None
        else f" (no outcome after {found.threshold_days:.1f} days)"
    )
    typer.echo(f"{found.total} stalled leads{rule}; {len(found.leads)} listed")
    if out is not None:
        typer.echo(f"wrote {len(found.leads)} leads to {out}")
    else:
        for lead in found.leads:
            typer.echo(
                f"{lead.lead_id}\t{lead.tier}\t{lead.probability:.3f}\t{lead.age_days:.0f} days"
                f"\t{'; '.join(lead.reasons)}"
            )


@contextmanager
def _progress_bar(total: int) -> Iterator[Callable[[str], None]]:
    """A bar over the steps of a job, shown from its first step: an option refused before
    that prints its error alone."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description:<36}"), BarColumn(), TimeElapsedColumn())
    timer = _StepTimer()
    with ExitStack() as shown:
        bar: Progress | None = None
        task = None

        def step(description: str) -> None:
            nonlocal bar, task
            if bar is None or task is None:
                bar = shown.enter_context(Progress(*columns, transient=True))
                task = bar.add_task(description, total=total)
            else:
                bar.advance(task)
                bar.update(task, description=description)
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


def _console() -> Console:
    """A terminal console that prints names from the user's data as they are: without Rich
    markup, a column called "notes [/]" is text, not a closing tag. Into a file or another
    program, lines may be PIPED_WIDTH wide instead of 80, so tables keep every digit."""
    from rich.console import Console

    console = Console(markup=False)
    if not console.is_terminal:
        console.width = PIPED_WIDTH
    return console


def _print_training_summary(result: TrainingResult) -> None:
    from rich.table import Table

    table = Table(
        title=f"model version {result.model_version} "
        f"({'champion' if result.champion else 'not champion'})"
    )
    table.add_column("metric (evaluation slice)")
    table.add_column("model", justify="right")
    table.add_column("95 % interval", justify="right")
    table.add_column("baseline", justify="right")
    summary, evaluation = result.summary, result.summary.evaluation
    for name, value in evaluation.metrics.items():
        spans = evaluation.intervals.get(name)
        span_text = f"{spans.model.low:.4f} - {spans.model.high:.4f}" if spans else ""
        table.add_row(name, f"{value:.4f}", span_text, f"{evaluation.baseline_metrics[name]:.4f}")
    console = _console()
    console.print(table)
    console.print(
        f"trained on {summary.rows.train.total} leads, evaluated on "
        f"{summary.rows.evaluate.total} held-back ones ({summary.split} split), "
        f"{result.calibration} calibration, {result.seconds:.1f} s; model URI {result.model_uri}"
    )
    console.print(f"registered: {summary.learner}, refitted on every labeled lead")
    if summary.audit.excluded:
        console.print(f"the audit excluded: {', '.join(summary.audit.excluded)}")
    console.print(f"decision: {result.decision.reason}")
    console.print(f"report: {result.report.html}")


def _print_retrain_summary(outcome: RetrainOutcome) -> None:
    from rich.table import Table

    from serve.model.drift import PSI_WARNING

    console = _console()
    data = outcome.data
    sources = ", ".join(f"{n} rows from the {name}" for name, n in data.sources.items())
    classes = f"{data.classes.won} won, {data.classes.lost} lost, {data.classes.open} open"
    span = data.time_range
    when = f", created {span.first} to {span.last}" if span else ""
    console.print(f"read {sources} ({classes}{when})")
    if data.duplicates_resolved:
        console.print(f"{data.duplicates_resolved} leads in both: the store's outcome wins")
    for reason, count in data.unused_outcomes.items():
        console.print(f"{count} outcome{'s' if count > 1 else ''} in the store not used: {reason}")
    comparison = outcome.comparison
    if comparison:
        table = Table(title=f"challenger against champion on {comparison.leads} leads")
        for column in ("metric", "challenger", "champion", "difference (95 % interval)"):
            table.add_column(column, justify="right")
        for metric, diff in comparison.difference.items():
            table.add_row(
                metric,
                f"{comparison.challenger[metric].estimate:.4f}",
                f"{comparison.champion[metric].estimate:.4f}",
                f"{diff.estimate:+.4f} ({diff.low:+.4f} to {diff.high:+.4f})",
            )
        console.print(table)
    drift = outcome.drift
    if drift and drift.drifted:
        listed = ", ".join(f"{c} ({drift.psi[c]:.2f})" for c in drift.drifted)
        console.print(f"warning: drift above PSI {PSI_WARNING}: {listed}")
    if outcome.training:
        console.print(f"challenger: version {outcome.training.model_version}")
    console.print(f"decision: {outcome.decision.reason}")


def _print_performance(found: LivePerformance) -> None:
    from rich.table import Table

    console = _console()
    console.print(
        f"model version {found.model_version}, leads scored from {found.since:%Y-%m-%d} to "
        f"{found.until:%Y-%m-%d}: {found.overall.scored:,} scored, {found.overall.won:,} won, "
        f"{found.overall.lost:,} lost, {found.overall.open:,} open"
    )
    table = Table(title="conversion per tier: predicted against realised (closed leads)")
    for column in (
        "tier",
        "scored",
        "won",
        "lost",
        "open",
        "predicted",
        "realised (95 %)",
        "won revenue",
        "expected open revenue",
    ):
        table.add_column(column, justify="right")
    for row in found.tiers:
        part = row.conversion
        realised = part.realised
        table.add_row(
            row.tier,
            f"{part.scored:,}",
            f"{part.won:,}",
            f"{part.lost:,}",
            f"{part.open:,}",
            "" if part.predicted is None else f"{part.predicted:.1%}",
            ""
            if realised is None
            else f"{realised.estimate:.1%} ({realised.low:.1%}-{realised.high:.1%})",
            f"{part.won_revenue:,.0f}",
            f"{part.expected_open_revenue:,.0f}",
        )
    console.print(table)
    quality = found.discrimination
    if quality.roc_auc is None:
        console.print(quality.note)
    else:
        console.print(
            f"ROC AUC {quality.roc_auc.estimate:.3f} (95 % {quality.roc_auc.low:.3f}-"
            f"{quality.roc_auc.high:.3f}), log loss {quality.log_loss:.4f} on closed leads"
        )
    if found.drift and found.drift.drifted:
        listed = ", ".join(f"{c} ({found.drift.psi[c]:.2f})" for c in found.drift.drifted)
        console.print(f"warning: drift above PSI {found.drift.warning_level}: {listed}")


if __name__ == "__main__":
    app()
