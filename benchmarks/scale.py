"""How leadscore scales on one machine: `leadscore train` and `leadscore score` end to end on
demo data of 100,000 and 1,000,000 leads (and 10,000,000 for scoring), beside the limits
measured in the same run: LightGBM's own fit on the already-encoded leads the registered model
learnt from (every labeled lead; same parameters, as many trees as the registered booster) and
the booster's own predict.

    .venv/bin/python benchmarks/scale.py            # or: make bench-scale

Every measured command runs as a child process; its peak memory is the child's maximum resident
set size as the kernel reports it (`wait4`). Prints Markdown tables. Needs about 1 GB of
temporary disk space and takes a while on 2 cores (about half an hour).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

BIN = Path(sys.executable).parent
TRAIN_TARGET_RATIO, TRAIN_TARGET_RSS_GB, SCORE_TARGET_SHARE = 3.0, 2.5, 0.70
TARGET_ROWS = 1_000_000  # the training targets are set for a million leads
STEP_LINE = re.compile(r"step '(.+)' took ([\d.]+) s")
# The limits' children wait for OpenMP threads as `leadscore` does (see its `main`).
OPENMP = {"OMP_WAIT_POLICY": "PASSIVE"}


@dataclass
class Child:
    seconds: float
    cpu_seconds: float
    peak_rss_mb: float
    stdout: str
    stderr: str


def run_child(command: list[str], env: dict[str, str] | None = None) -> Child:
    """Run a command to completion; its wall time and peak RSS (of it and its own children),
    reaped with wait4 to get the kernel's figure for that one child. Linux counts in a child's
    peak the memory its parent had when forking it, so this process never loads data itself."""
    with tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr:
        started = time.perf_counter()
        process = subprocess.Popen(
            command,
            env={**os.environ, **OPENMP, **(env or {})},
            stdout=stdout,
            stderr=stderr,
            text=True,
        )
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        stdout.seek(0), stderr.seek(0)
        out, err = stdout.read(), stderr.read()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{err[-3000:]}")
    cpu = usage.ru_utime + usage.ru_stime
    return Child(seconds, cpu, usage.ru_maxrss / 1024, out, err)  # ru_maxrss: KB on Linux


def this_script(role: str, *args: object) -> list[str]:
    return [sys.executable, __file__, role, *map(str, args)]


# --- the data -----------------------------------------------------------------------------


def demo_files(folder: Path, rows: int) -> tuple[Path, Path]:
    """Demo leads as CSV (what CRMs export; training reads it) and Parquet (scoring reads it),
    written by a child process: see `run_child` for why this process stays small."""
    csv, parquet = folder / f"leads_{rows}.csv", folder / f"leads_{rows}.parquet"
    run_child(this_script("demo", rows, csv, parquet))
    return csv, parquet


def demo_role(rows: str, csv: str, parquet: str) -> None:
    from features.demo import CONTRACT_TOML, generate_leads

    leads = generate_leads(int(rows), seed=7)
    leads.to_csv(csv, index=False)
    leads.to_parquet(parquet, index=False)
    Path(csv).with_name("leads.toml").write_text(CONTRACT_TOML, encoding="utf-8")


def copies_file(parquet: Path, copies: int, rows: int) -> Path:
    out = parquet.with_name(f"leads_{rows * copies}.parquet")
    run_child(this_script("copies", parquet, copies, out))
    return out


def copies_role(parquet: str, copies: str, out: str) -> None:
    """`copies` times the leads of `parquet` in one file (ids made unique), written row group by
    row group so that building it needs no more memory than one copy."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    leads = pq.read_table(parquet)
    position = leads.schema.get_field_index("lead_id")
    id_type = leads.schema.field(position).type
    with pq.ParquetWriter(out, leads.schema) as writer:
        for copy in range(int(copies)):
            ids = pc.binary_join_element_wise(f"C{copy}", leads["lead_id"].cast(pa.string()), "-")
            writer.write_table(leads.set_column(position, "lead_id", ids.cast(id_type)))
    return out


# --- the limits (each in a child process of its own) ---------------------------------------


def encode_role(data: str, contract: str, model_uri: str, folder: str) -> None:
    """Encode the file with the registered model's encoder: the labeled leads it learnt from
    (for the fit) and every lead (for predict); save them with its booster."""
    import numpy as np

    from features.contract import load_contract
    from features.labels import split_labeled
    from features.reading import read_table
    from serve.model.loading import load_lead_model

    model = load_lead_model(model_uri).model
    frame = read_table(Path(data), load_contract(Path(contract)).na_values)
    leads = split_labeled(frame, model.contract, data)
    out = Path(folder)
    np.save(out / "train_matrix.npy", model.encoder.transform(leads.frame))
    np.save(out / "train_y.npy", leads.y)
    np.save(out / "all_matrix.npy", model.encoder.transform(frame))
    model.learner.booster.save_model(str(out / "booster.txt"))
    (out / "categorical.json").write_text(json.dumps(model.encoder.categorical_indices))


def fit_role(folder: str, trees: str) -> None:
    """LightGBM's own fit with the registered booster's settings: Dataset construction and
    training, nothing else."""
    import lightgbm as lgb
    import numpy as np

    from train.fit import default_params

    folder_path = Path(folder)
    matrix, y = np.load(folder_path / "train_matrix.npy"), np.load(folder_path / "train_y.npy")
    categorical = json.loads((folder_path / "categorical.json").read_text())
    registered = lgb.Booster(model_file=str(folder_path / "booster.txt")).params
    params = {name: registered.get(name, value) for name, value in default_params(len(y)).items()}
    started, cpu_started = time.perf_counter(), time.process_time()
    dataset = lgb.Dataset(matrix, y, categorical_feature=categorical, free_raw_data=True)
    lgb.train(params, dataset, num_boost_round=int(trees))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "rows": len(y)}))


def predict_role(folder: str) -> None:
    """The booster's own predict on every encoded lead, in one call."""
    import lightgbm as lgb
    import numpy as np

    folder_path = Path(folder)
    booster = lgb.Booster(model_file=str(folder_path / "booster.txt"))
    matrix = np.load(folder_path / "all_matrix.npy")
    started, cpu_started = time.perf_counter(), time.process_time()
    booster.predict(matrix, raw_score=True)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    rates = {"rows_per_second": len(matrix) / seconds, "rows_per_cpu_second": len(matrix) / cpu}
    print(json.dumps(rates))


# --- the measurements ------------------------------------------------------------------------


def measure_training(folder: Path, csv: Path, rows: int) -> dict:
    tracking = {"MLFLOW_TRACKING_URI": f"sqlite:///{folder / f'mlflow_{rows}.db'}"}
    report = folder / f"report_{rows}.json"
    contract = folder / "leads.toml"
    command = [str(BIN / "leadscore"), "-v", "train", str(csv), "--config", str(contract)]
    train = run_child([*command, "--report-json", str(report)], tracking)
    result = json.loads(report.read_text())
    steps = {name: float(s) for name, s in STEP_LINE.findall(train.stderr)}
    steps = {"start-up and imports": train.seconds - result["seconds"], **steps}
    limits = folder / f"limits_{rows}"
    limits.mkdir(exist_ok=True)
    run_child(this_script("encode", csv, contract, result["model_uri"], limits), tracking)
    fit = run_child(this_script("fit", limits, result["trees"]))
    return {
        "rows": rows,
        "train": train,
        "report": result,
        "steps": steps,
        "tracking": tracking,
        "fit": fit,
        "fit_result": json.loads(fit.stdout),
        "limits": limits,
    }


def measure_scoring(parquet: Path, rows: int, training: dict) -> dict:
    """Score the file end to end, right after measuring the booster's predict (on the encoded
    leads of the training file), so both see the machine in the same state."""
    predict = run_child(this_script("predict", training["limits"]))
    out = parquet.with_name(f"scored_{rows}.parquet")
    command = [str(BIN / "leadscore"), "score", str(parquet), "-o", str(out)]
    score = run_child([*command, "--model", training["report"]["model_uri"]], training["tracking"])
    out.unlink()
    return {"rows": rows, "score": score, "predict": json.loads(predict.stdout)}


# --- the tables -------------------------------------------------------------------------------


def print_training(trainings: list[dict]) -> None:
    print("\n`leadscore train` from CSV, end to end (audit, both candidates, calibration,")
    print("evaluation, the refit on every labeled lead, report and MLflow logging included),")
    print("beside LightGBM's own fit on the encoded labeled leads with the same parameters and as")
    print("many trees as the registered booster. CPU seconds (user + system) are shown beside wall")
    print("seconds: on a shared machine they vary less.\n")
    print(
        "| leads | train wall (CPU) | train peak RSS | trees | LightGBM fit alone: wall (CPU) "
        "| ratio wall (CPU) | target |"
    )
    print("|---|---|---|---|---|---|---|")
    for t in trainings:
        train, fit = t["train"], t["fit_result"]
        ratio, cpu_ratio = train.seconds / fit["seconds"], train.cpu_seconds / fit["cpu_seconds"]
        met = ratio <= TRAIN_TARGET_RATIO and train.peak_rss_mb <= TRAIN_TARGET_RSS_GB * 1024
        verdict = ("met" if met else "missed") if t["rows"] >= TARGET_ROWS else "set for 1 M"
        print(
            f"| {t['rows']:,} | {train.seconds:.1f} s ({train.cpu_seconds:.1f} s) "
            f"| {train.peak_rss_mb:,.0f} MB | {t['report']['trees']} "
            f"| {fit['seconds']:.1f} s ({fit['cpu_seconds']:.1f} s) on {fit['rows']:,} leads, "
            f"{t['fit'].peak_rss_mb:,.0f} MB | {ratio:.2f}x ({cpu_ratio:.2f}x) "
            f"| <= {TRAIN_TARGET_RATIO:g}x and <= {TRAIN_TARGET_RSS_GB:g} GB: "
            f"{verdict} |"
        )
    print("\nWhere the training time goes (the pipeline's steps, as `leadscore -v` logs them):\n")
    print("| step | " + " | ".join(f"{t['rows']:,} leads" for t in trainings) + " |")
    print("|---|" + "---|" * len(trainings))
    for name in trainings[0]["steps"]:
        cells = (f"{t['steps'].get(name, float('nan')):.1f} s" for t in trainings)
        print(f"| {name} | " + " | ".join(cells) + " |")


def print_scoring(scorings: list[dict]) -> None:
    print("\n`leadscore score` from Parquet to Parquet, end to end (start-up, model loading,")
    print("reading, encoding, writing included), beside the booster's own predict on the")
    print(
        "encoded leads in one call, measured just before; rows per wall second (per CPU second):\n"
    )
    print("| leads | score wall | score rows/s | score peak RSS | booster predict alone | share |")
    print("|---|---|---|---|---|---|")
    for s in scorings:
        rate, cpu_rate = s["rows"] / s["score"].seconds, s["rows"] / s["score"].cpu_seconds
        limit, cpu_limit = s["predict"]["rows_per_second"], s["predict"]["rows_per_cpu_second"]
        print(
            f"| {s['rows']:,} | {s['score'].seconds:.1f} s | {rate:,.0f} ({cpu_rate:,.0f}) "
            f"| {s['score'].peak_rss_mb:,.0f} MB | {limit:,.0f} ({cpu_limit:,.0f}) rows/s "
            f"| {rate / limit:.0%} ({cpu_rate / cpu_limit:.0%}); target >= "
            f"{SCORE_TARGET_SHARE:.0%} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument(
        "--copies", type=int, default=10, help="the largest file scored this many times over"
    )
    parser.add_argument("--work", type=Path, help="folder for the data (default: a temporary one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="leadscore-scale-") as temporary:
        folder = args.work or Path(temporary)
        folder.mkdir(parents=True, exist_ok=True)
        trainings, scorings = [], []
        for rows in args.sizes:
            csv, parquet = demo_files(folder, rows)
            trainings.append(measure_training(folder, csv, rows))
            scorings.append(measure_scoring(parquet, rows, trainings[-1]))
            csv.unlink()
        if args.copies > 1:
            many = copies_file(parquet, args.copies, rows)
            scorings.append(measure_scoring(many, rows * args.copies, trainings[-1]))
            many.unlink()
    print(f"\n{os.cpu_count()} cores; sizes {', '.join(f'{r:,}' for r in args.sizes)}")
    print_training(trainings)
    print_scoring(scorings)


ROLES = {
    "demo": demo_role,
    "copies": copies_role,
    "encode": encode_role,
    "fit": fit_role,
    "predict": predict_role,
}

if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in ROLES:
        ROLES[sys.argv[1]](*sys.argv[2:])
    else:
        main()
