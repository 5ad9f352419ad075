"""Quality of leadscore's default pipeline beside the logistic baseline and FLAML AutoML (60 s).

Data sets: X Education with the audit on (only id, target and positive given), X Education with
the publisher's leaky columns removed by hand, the CRM export (4 tables joined), and 100,000 demo
leads. X Education has no created-at column: 5-fold stratified cross-validation, metrics on the
pooled out-of-fold probabilities. The others: the time split of `leadscore train` (oldest 80 %
train, newest 20 % evaluate). Every model sees the same feature columns: those the audit keeps.
Training seconds are per fit (the mean over folds).

    make bench-quality      # or: .venv/bin/python benchmarks/quality.py [--flaml-seconds 60]

Needs the `bench` extra (FLAML) and the data sets in ../shared/data beside the project.
"""

from __future__ import annotations

import argparse
import logging
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold

from features.contract import LeadContract
from features.demo import CONTRACT_TOML, generate_leads
from features.joins import read_export
from features.labels import split_labeled
from features.reading import mask_sentinels
from serve.model.metrics import base_rate_log_loss, evaluate
from train.evaluate.bootstrap import Bootstrap
from train.evaluate.gate import check_signal
from train.fit import fit_baseline
from train.learn import learn_lead_model
from train.split import split_rows

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
XEDUCATION_LEAKY = [
    "Tags",
    "Lead Quality",
    "Lead Profile",
    "Last Activity",
    "Last Notable Activity",
    "Asymmetrique Activity Index",
    "Asymmetrique Profile Index",
    "Asymmetrique Activity Score",
    "Asymmetrique Profile Score",
]
CRM_CONTRACT = {
    "id": "opportunity_id",
    "target": "deal_stage",
    "positive": ["Won"],
    "negative": ["Lost"],
    "open": ["Engaging", "Prospecting"],
    "time": "engage_date",
    "value": "sales_price",
    "tables": {
        "accounts": {"path": "accounts.csv", "on": "account"},
        "products": {"path": "products.csv", "on": "product", "map": {"GTXPro": "GTX Pro"}},
        "sales_teams": {"path": "sales_teams.csv", "on": "sales_agent"},
    },
}
MODELS = ("leadscore", "logistic baseline", "FLAML AutoML")


@dataclass(frozen=True)
class Fold:
    train: pd.DataFrame
    y_train: np.ndarray
    times: pd.Series | None
    test: pd.DataFrame
    y_test: np.ndarray


@dataclass
class Scored:
    """Out-of-sample probabilities of one model on one data set, and its fit seconds."""

    y: list[np.ndarray]
    probability: list[np.ndarray]
    seconds: list[float]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flaml-seconds", type=float, default=60.0, help="0 leaves FLAML out")
    parser.add_argument("--demo-rows", type=int, default=100_000)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("flaml").setLevel(logging.ERROR)
    rows = []
    for name, contract, folds in data_sets(args.demo_rows):
        rows.extend(run_data_set(name, contract, folds, args.flaml_seconds))
    print_table(rows)


def data_sets(demo_rows: int) -> Iterator[tuple[str, LeadContract, Iterator[Fold]]]:
    xeducation = DATA / "xeducation" / "leads.csv"
    audit_on = LeadContract(target="Converted", positive=("1",), id="Prospect ID")
    yield "X Education, audit on", audit_on, cross_validation(xeducation, audit_on)
    by_hand = LeadContract(
        target="Converted", positive=("1",), id="Prospect ID", drop=tuple(XEDUCATION_LEAKY)
    )
    yield "X Education, leaks removed by hand", by_hand, cross_validation(xeducation, by_hand)
    crm_folder = DATA / "crm_opportunities"
    crm = LeadContract.from_dict(CRM_CONTRACT, folder=crm_folder)
    yield "CRM export, 4 tables", crm, time_split(crm_folder / "sales_pipeline.csv", crm)
    demo = LeadContract.from_dict(tomllib.loads(CONTRACT_TOML))
    frame = mask_sentinels(generate_leads(demo_rows, seed=7), demo.na_values)
    yield f"demo, {demo_rows:,} leads", demo, time_split_frame(frame, demo, "demo")


def cross_validation(path: Path, contract: LeadContract, folds: int = 5) -> Iterator[Fold]:
    frame, _ = read_export(path, contract)
    leads = split_labeled(frame, contract, str(path))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    for train, test in splitter.split(leads.frame, leads.y):
        yield Fold(
            leads.frame.iloc[train], leads.y[train], None, leads.frame.iloc[test], leads.y[test]
        )


def time_split(path: Path, contract: LeadContract) -> Iterator[Fold]:
    frame, _ = read_export(path, contract)
    yield from time_split_frame(frame, contract, str(path))


def time_split_frame(frame: pd.DataFrame, contract: LeadContract, source: str) -> Iterator[Fold]:
    leads = split_labeled(frame, contract, source)
    outer = split_rows(leads.y, leads.created_at)
    yield Fold(
        leads.frame.iloc[outer.train],
        leads.y[outer.train],
        leads.created_at.iloc[outer.train],
        leads.frame.iloc[outer.evaluate],
        leads.y[outer.evaluate],
    )


def run_data_set(
    name: str, contract: LeadContract, folds: Iterator[Fold], flaml_seconds: float
) -> list[dict]:
    scored = {model: Scored([], [], []) for model in MODELS}
    base_rates = []
    for fold in folds:
        started = time.perf_counter()
        learned = learn_lead_model(fold.train, fold.y_train, fold.times, contract)
        seconds = time.perf_counter() - started
        model = learned.model
        test_matrix = model.encoder.transform(fold.test)
        _add(scored["leadscore"], fold, model.probabilities(test_matrix), seconds)

        started = time.perf_counter()
        baseline = fit_baseline(model.encoder.transform(fold.train), fold.y_train, model.encoder)
        seconds = time.perf_counter() - started
        _add(scored["logistic baseline"], fold, baseline.predict_proba(test_matrix)[:, 1], seconds)

        if flaml_seconds > 0:
            columns = model.encoder.feature_names
            probability, seconds = flaml_probability(fold, columns, flaml_seconds)
            _add(scored["FLAML AutoML"], fold, probability, seconds)
        base_rates.append(float(np.mean(fold.y_train)))
    base_rate = float(np.mean(base_rates))
    return [_row(name, model, scored[model], base_rate) for model in MODELS if scored[model].y]


def flaml_probability(fold: Fold, columns: list[str], budget: float) -> tuple[np.ndarray, float]:
    from flaml import AutoML

    automl = AutoML()
    started = time.perf_counter()
    automl.fit(
        _flaml_frame(fold.train, columns),
        fold.y_train,
        task="classification",
        metric="log_loss",
        time_budget=budget,
        seed=0,
        verbose=0,
    )
    seconds = time.perf_counter() - started
    return automl.predict_proba(_flaml_frame(fold.test, columns))[:, 1], seconds


def _flaml_frame(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    out = frame[columns].copy()
    for column in columns:
        if not pd.api.types.is_numeric_dtype(out[column]):
            out[column] = out[column].astype("object").astype("category")
    return out.reset_index(drop=True)


def _add(scored: Scored, fold: Fold, probability: np.ndarray, seconds: float) -> None:
    scored.y.append(fold.y_test)
    scored.probability.append(np.clip(probability, 1e-6, 1 - 1e-6))
    scored.seconds.append(seconds)


def _row(name: str, model: str, scored: Scored, base_rate: float) -> dict:
    y, probability = np.concatenate(scored.y), np.concatenate(scored.probability)
    metrics = evaluate(y, probability)
    interval = Bootstrap(y, {"m": probability}, ("roc_auc",)).interval("m", "roc_auc")
    signal = check_signal(interval, metrics["log_loss"], base_rate_log_loss(y, base_rate))
    return {
        "data set": name,
        "model": model,
        **metrics,
        "seconds": float(np.mean(scored.seconds)),
        "signal": "usable" if signal.usable else "NO USABLE SIGNAL",
    }


def print_table(rows: list[dict]) -> None:
    header = (
        "| data set | model | ROC AUC | PR AUC | log loss | Brier | ECE | lift@10 % "
        "| train s | signal |"
    )
    print(header)
    print("|" + "---|" * 10)
    for r in rows:
        print(
            f"| {r['data set']} | {r['model']} | {r['roc_auc']:.4f} | {r['pr_auc']:.4f} | "
            f"{r['log_loss']:.4f} | {r['brier']:.4f} | {r['ece']:.4f} | {r['lift_at_10']:.2f} | "
            f"{r['seconds']:.1f} | {r['signal']} |"
        )


if __name__ == "__main__":
    main()
