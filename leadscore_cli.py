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
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
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
IdColumn = Annotated[str | None, typer.Option("--id", help="lead id column")]
TargetColumn = Annotated[str | None, typer.Option(help="outcome column")]
PositiveLabels = Annotated[list[str] | None, typer.Option(help="label meaning won")]
NegativeLabels = Annotated[list[str] | None, typer.Option(help="label meaning lost")]
OpenLabels = Annotated[list[str] | None, typer.Option("--open", help="label of open leads")]
TimeColumn = Annotated[str | None, typer.Option(help="created-at column")]
ValueColumn = Annotated[str | None, typer.Option(help="deal value column")]
LossReasonColumn = Annotated[str | None, typer.Option(help="loss reason column")]
DropColumns = Annotated[list[str] | None, typer.Option(help="column never used")]
PiiColumns = Annotated[list[str] | None, typer.Option(help="personal column: never used or logged")]
NaValues = Annotated[list[str] | None, typer.Option(help="value meaning missing")]
KindOverrides = Annotated[list[str] | None, typer.Option(help="COLUMN=KIND override")]
KeepColumns = Annotated[
    list[str] | None, typer.Option(help="column to keep although the audit flags it")
]
TierCutoffs = Annotated[
    str | None, typer.Option(help="minimum scores of tiers A,B,C, e.g. 70,40,20")
]
Capacity = Annotated[
    int | None, typer.Option(help="leads sales can work per week: sets the size of tier A")
]
TuneSeconds = Annotated[
    float, typer.Option(min=0, help="search LightGBM settings for up to N seconds")
]
ModelName = Annotated[str, typer.Option(help="registered model name")]
Experiment = Annotated[str, typer.Option(help="MLflow experiment")]
ReportJson = Annotated[Path | None, typer.Option(help="write what happened as JSON")]


@app.command()
def train(
    data: Annotated[Path, typer.Argument(help="the export: CSV or Parquet")],
    config: ContractFile = None,
    id: IdColumn = None,
    target: TargetColumn = None,
    positive: PositiveLabels = None,
    negative: NegativeLabels = None,
    open: OpenLabels = None,
    time: TimeColumn = None,
    value: ValueColumn = None,
    loss_reason: LossReasonColumn = None,
    drop: DropColumns = None,
    pii: PiiColumns = None,
    na_values: NaValues = None,
    kind: KindOverrides = None,
    keep_column: KeepColumns = None,
    tier_cutoffs: TierCutoffs = None,
    capacity: Capacity = None,
    tune_seconds: TuneSeconds = 0,
    model_name: ModelName = "leadscore",
    experiment: Experiment = "leadscore",
    report_json: ReportJson = None,
) -> None:
    """Train on won and lost leads, evaluate, and register a new model version in MLflow.

    Exits 3 when the model shows no usable signal: it is registered but never serves.
    """
    from train.pipeline import train_from_file

    settings = locals()
    with user_errors():
        contract, options = _contract_and_options(settings)
        with _progress_bar(total=5) as step:
            result = train_from_file(data, contract, options, progress=step)
    _write_json(report_json, result.to_json())
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


@app.command()
def retrain(
    data: Annotated[
        Path | None, typer.Argument(help="the export: CSV or Parquet (optional with --from-store)")
    ] = None,
    from_store: Annotated[
        bool,
        typer.Option(help="add the score log joined with the outcomes (LEADSCORE_DATABASE_URL)"),
    ] = False,
    config: ContractFile = None,
    id: IdColumn = None,
    target: TargetColumn = None,
    positive: PositiveLabels = None,
    negative: NegativeLabels = None,
    open: OpenLabels = None,
    time: TimeColumn = None,
    value: ValueColumn = None,
    loss_reason: LossReasonColumn = None,
    drop: DropColumns = None,
    pii: PiiColumns = None,
    na_values: NaValues = None,
    kind: KindOverrides = None,
    keep_column: KeepColumns = None,
    tier_cutoffs: TierCutoffs = None,
    capacity: Capacity = None,
    tune_seconds: TuneSeconds = 0,
    model_name: ModelName = "leadscore",
    experiment: Experiment = "leadscore",
    report_json: ReportJson = None,
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
    from train.evaluate.gate import PromotionRule
    from train.retrain import RetrainOptions
    from train.retrain import retrain as retrain_model
    from train.sources import read_training_data

    settings = locals()
    with user_errors():
        contract, training = _contract_and_options(settings)
        store = _store_snapshots() if from_store else None
        rule = PromotionRule(auc_tolerance, log_loss_tolerance, min_roc_auc, max_log_loss)
        options = RetrainOptions(training, rule, lock_wait)
        with _progress_bar(total=6) as step:
            step("reading, joining and validating")
            training_data = read_training_data(contract, data, store)
            outcome = retrain_model(training_data, contract, options, progress=step)
    _write_json(report_json, outcome.to_json())
    _print_retrain_summary(outcome)
    if not outcome.usable_signal:
        raise typer.Exit(NO_SIGNAL_EXIT_CODE)


def _contract_and_options(settings: dict):
    """The lead contract and training options from the options `train` and `retrain` share."""
    from features.contract import load_contract, parse_kind_overrides
    from train.pipeline import TrainingOptions

    roles = ("id", "target", "positive", "negative", "open", "time", "value", "loss_reason")
    contract = load_contract(
        settings["config"],
        {
            **{role: settings[role] for role in roles},
            "drop": settings["drop"],
            "pii": settings["pii"],
            "na_values": settings["na_values"],
            "keep": settings["keep_column"],
            "kinds": parse_kind_overrides(settings["kind"] or []),
        },
    )
    options = TrainingOptions(
        model_name=settings["model_name"],
        experiment=settings["experiment"],
        tier_cutoffs=_parse_cutoffs(settings["tier_cutoffs"]),
        capacity=settings["capacity"],
        tune_seconds=settings["tune_seconds"],
        report_json=settings["report_json"],
    )
    return contract, options


def _store_snapshots():
    """The score log joined with outcomes, from the store the API writes."""
    from serve.api.settings import load_settings
    from serve.store.database import open_store
    from serve.store.snapshots import training_snapshots

    engine = open_store(load_settings().database_url)
    try:
        return training_snapshots(engine)
    finally:
        engine.dispose()


def _write_json(path: Path | None, content: dict) -> None:
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(content, indent=2), encoding="utf-8")


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
    config: Annotated[
        Path | None,
        typer.Option(
            help="lead contract whose [tables.*] are joined (pandas engine); default: the "
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


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="default 127.0.0.1")] = None,
    port: Annotated[int | None, typer.Option(help="default 8000")] = None,
    model: Annotated[str | None, typer.Option(help="model URI")] = None,
) -> None:
    """Start the scoring API (settings also from LEADSCORE_* variables)."""
    import uvicorn

    from serve.api.app import create_app
    from serve.api.settings import load_settings
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
    from serve.api.settings import load_settings
    from serve.store.database import open_store

    with user_errors():
        open_store(load_settings().database_url).dispose()
    typer.echo("the store is up to date")


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


def _print_retrain_summary(outcome) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    data = outcome.data
    sources = ", ".join(f"{n} rows from the {name}" for name, n in data["sources"].items())
    classes = ", ".join(f"{n} {name}" for name, n in data["classes"].items())
    span = data["time_range"]
    when = f", created {span['first']} to {span['last']}" if span else ""
    console.print(f"read {sources} ({classes}{when})")
    if data["duplicates_resolved"]:
        console.print(f"{data['duplicates_resolved']} leads in both: the store's outcome wins")
    if outcome.comparison:
        table = Table(title=f"challenger against champion on {outcome.comparison['leads']} leads")
        for column in ("metric", "challenger", "champion", "difference (95 % interval)"):
            table.add_column(column, justify="right")
        for metric, diff in outcome.comparison["challenger_minus_champion"].items():
            table.add_row(
                metric,
                f"{outcome.comparison['challenger'][metric]['estimate']:.4f}",
                f"{outcome.comparison['champion'][metric]['estimate']:.4f}",
                f"{diff['estimate']:+.4f} ({diff['low']:+.4f} to {diff['high']:+.4f})",
            )
        console.print(table)
    drifted = (outcome.drift or {}).get("drifted")
    if drifted:
        psi = outcome.drift["psi"]
        listed = ", ".join(f"{c} ({psi[c]:.2f})" for c in drifted)
        console.print(f"warning: drift above PSI {outcome.drift['warning_level']}: {listed}")
    if outcome.training:
        console.print(f"challenger: version {outcome.training.model_version}")
    console.print(f"decision: {outcome.reason}")


if __name__ == "__main__":
    app()
