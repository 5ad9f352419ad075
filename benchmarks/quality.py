"""Quality of leadscore's default training beside simple and strong anchors, on the same splits.

Models: leadscore (`learn_lead_model` with its defaults, no tuning), a logistic regression
(one-hot categories, scaled numbers, scikit-learn's defaults), LightGBM's defaults, CatBoost's
defaults and FLAML AutoML with a 60 s budget. Every model sees the same feature columns: those
leadscore's audit keeps on the training leads.

Data sets: X Education (from ../shared/data; `Tags` and `Lead Quality` left to the audit, the
late fields its README names dropped) on the 80/20 stratified split of seed 0 and in 5-fold
stratified cross-validation (metrics on the pooled out-of-fold probabilities), and with every
column left to the audit on the same 80/20 split; generated
exports of three other shapes (`benchmarks/shapes.py`): a small weak-signal funnel, a campaign
file without a created-at column whose rows follow creation (`order = "file"`), a drifting B2B
export; and the CRM export (4 tables joined), which has no signal. Ordered exports are split as
`leadscore train` splits them: the oldest 80 % train, the newest 20 % evaluate. Seconds are the
wall time of one fit (the mean over folds). After the table: leadscore against the best anchor,
and leadscore's calibration beside the calibration error a perfectly calibrated model would
show on the same leads (`Calibration`).

    make bench-quality      # or: .venv/bin/python benchmarks/quality.py [--flaml-seconds 60]
    .venv/bin/python benchmarks/quality.py --only small campaign drifting --seeds 1 2 3 \
        --flaml-seconds 0   # the generated exports drawn again

Needs the `bench` extra (CatBoost, FLAML) and ../shared/data beside the project.
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import shapes  # benchmarks/shapes.py, beside this script
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from features.contract import LeadContract
from features.encoder import LeadEncoder
from features.joins import read_export
from features.labels import split_labeled
from serve.model.metrics import base_rate_log_loss, evaluate, expected_calibration_error
from train.evaluate.bootstrap import Bootstrap
from train.evaluate.gate import check_signal
from train.learn import learn_lead_model, refit_lead_model
from train.split import Split, lead_order, split_rows, stratified_split

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
XEDUCATION_LATE_FIELDS = (
    "Lead Profile",
    "Last Activity",
    "Last Notable Activity",
    "Asymmetrique Activity Index",
    "Asymmetrique Profile Index",
    "Asymmetrique Activity Score",
    "Asymmetrique Profile Score",
)
XEDUCATION_AUDIT_ONLY = LeadContract(
    target="Converted", positive=("1",), id="Prospect ID", na_values=("Select",)
)
XEDUCATION = replace(XEDUCATION_AUDIT_ONLY, drop=("Lead Number", *XEDUCATION_LATE_FIELDS))
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
ANCHORS = ("logistic regression", "LightGBM default", "CatBoost default")
MODELS = ("leadscore", *ANCHORS, "FLAML AutoML")


@dataclass(frozen=True)
class Fold:
    """Training and test leads of one split; `order` sorts the training leads in time."""

    train: pd.DataFrame
    y_train: np.ndarray
    order: pd.Series | None
    test: pd.DataFrame
    y_test: np.ndarray


@dataclass(frozen=True)
class DataSet:
    name: str
    contract: LeadContract
    folds: Callable[[], Iterator[Fold]]


@dataclass
class Scored:
    """Out-of-sample probabilities of one model on one data set, and its fit seconds."""

    y: list[np.ndarray]
    probability: list[np.ndarray]
    seconds: list[float]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flaml-seconds", type=float, default=60.0, help="0 leaves FLAML out")
    parser.add_argument(
        "--only", nargs="*", help="data sets whose name starts with these (and no refit table)"
    )
    parser.add_argument(
        "--seeds", type=int, nargs="+", default=[0], help="draw each generated export with these"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    rows = []
    for data_set in data_sets(args.seeds):
        if args.only and not any(data_set.name.startswith(prefix) for prefix in args.only):
            continue
        measured = run_data_set(data_set, args.flaml_seconds)
        print_table(measured, header=not rows)
        rows.extend(measured)
    print()
    print_verdicts(rows)
    print()
    print_calibration(rows)
    if not args.only:
        print()
        print_refit_gain()


def data_sets(seeds: list[int]) -> Iterator[DataSet]:
    xeducation = DATA / "xeducation" / "leads.csv"
    yield DataSet(
        "X Education, 80/20", XEDUCATION, lambda: xeducation_split(xeducation, XEDUCATION)
    )
    yield DataSet("X Education, 5-fold CV", XEDUCATION, lambda: cross_validation(xeducation))
    yield DataSet(
        "X Education, audit only, 80/20",
        XEDUCATION_AUDIT_ONLY,
        lambda: xeducation_split(xeducation, XEDUCATION_AUDIT_ONLY),
    )
    for seed in seeds:
        for make in shapes.SHAPES.values():
            shape = make(seed)
            name = shape.name if seed == 0 else f"{shape.name}, seed {seed}"
            yield DataSet(name, shape.contract, _ordered(shape.frame, shape.contract))
    crm_folder = DATA / "crm_opportunities"
    crm = LeadContract.from_dict(CRM_CONTRACT, folder=crm_folder)
    crm_frame = read_export(crm_folder / "sales_pipeline.csv", crm)[0]
    yield DataSet("CRM export, 4 tables", crm, _ordered(crm_frame, crm))


def xeducation_split(path: Path, contract: LeadContract) -> Iterator[Fold]:
    leads = split_labeled(read_export(path, contract)[0], contract, str(path))
    split = stratified_split(leads.y, 0.2, seed=0)
    yield _fold(leads.frame, leads.y, None, split)


def cross_validation(path: Path, folds: int = 5) -> Iterator[Fold]:
    leads = split_labeled(read_export(path, XEDUCATION)[0], XEDUCATION, str(path))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    for train, test in splitter.split(leads.frame, leads.y):
        yield _fold(leads.frame, leads.y, None, Split(train, test, by_time=False))


def _ordered(frame: pd.DataFrame, contract: LeadContract) -> Callable[[], Iterator[Fold]]:
    """The split of `leadscore train`: oldest 80 % to train, newest 20 % to evaluate."""

    def folds() -> Iterator[Fold]:
        leads = split_labeled(frame, contract, "export")
        order = lead_order(leads, contract)
        yield _fold(leads.frame, leads.y, order, split_rows(leads.y, order))

    return folds


def _fold(frame: pd.DataFrame, y: np.ndarray, order: pd.Series | None, split: Split) -> Fold:
    train_order = None if order is None else order.iloc[split.train]
    test = frame.iloc[split.evaluate]
    return Fold(frame.iloc[split.train], y[split.train], train_order, test, y[split.evaluate])


def run_data_set(data_set: DataSet, flaml_seconds: float) -> list[dict]:
    scored = {model: Scored([], [], []) for model in MODELS}
    base_rates = []
    for fold in data_set.folds():
        started = time.perf_counter()
        model = learn_lead_model(fold.train, fold.y_train, fold.order, data_set.contract).model
        seconds = time.perf_counter() - started
        _add(
            scored["leadscore"],
            fold,
            model.probabilities(model.encoder.transform(fold.test)),
            seconds,
        )
        features = FeatureFrames(model.encoder, fold)
        for name, fit in (
            ("logistic regression", logistic_regression),
            ("LightGBM default", lightgbm_default),
            ("CatBoost default", catboost_default),
        ):
            started = time.perf_counter()
            probability = fit(features)
            _add(scored[name], fold, probability, time.perf_counter() - started)
        if flaml_seconds > 0:
            started = time.perf_counter()
            probability = flaml_automl(features, flaml_seconds)
            _add(scored["FLAML AutoML"], fold, probability, time.perf_counter() - started)
        base_rates.append(float(np.mean(fold.y_train)))
    base_rate = float(np.mean(base_rates))
    return [
        _row(data_set.name, model, scored[model], base_rate) for model in MODELS if scored[model].y
    ]


class FeatureFrames:
    """The columns leadscore's audit kept, as each anchor reads them: encoded numbers (the
    regression), and a DataFrame with categories as pandas categories (the tree learners)."""

    def __init__(self, encoder: LeadEncoder, fold: Fold) -> None:
        self.encoder = encoder
        self.fold = fold
        self.train_matrix = encoder.transform(fold.train)
        self.test_matrix = encoder.transform(fold.test)
        self.categorical = [f.name for f in encoder.features if f.kind == "categorical"]
        self.train_frame, self.test_frame = self._frames()

    def _frames(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Categories as text (missing as a category of its own), the rest as encoded numbers;
        both frames share each column's categories."""
        frames = []
        for matrix in (self.train_matrix, self.test_matrix):
            frame = pd.DataFrame(matrix, columns=self.encoder.feature_names)
            for feature in self.encoder.features:
                if feature.kind == "categorical":
                    labels = [feature.category_label(code) for code in frame[feature.name]]
                    frame[feature.name] = ["(missing)" if v is None else v for v in labels]
            frames.append(frame)
        for column in self.categorical:
            values = sorted(set(frames[0][column]) | set(frames[1][column]))
            for frame in frames:
                frame[column] = pd.Categorical(frame[column], categories=values)
        return frames[0], frames[1]


def logistic_regression(features: FeatureFrames) -> np.ndarray:
    """One-hot categories (rare ones pooled), scaled numbers with median imputation."""
    categorical = features.encoder.categorical_indices
    other = [i for i in range(len(features.encoder.features)) if i not in set(categorical)]
    columns = ColumnTransformer(
        [
            (
                "categories",
                make_pipeline(
                    SimpleImputer(strategy="constant", fill_value=-1.0),
                    OneHotEncoder(handle_unknown="ignore", min_frequency=5),
                ),
                categorical,
            ),
            (
                "numbers",
                make_pipeline(
                    SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
                    StandardScaler(),
                ),
                other,
            ),
        ]
    )
    model = make_pipeline(columns, LogisticRegression(max_iter=2000))
    model.fit(features.train_matrix, features.fold.y_train)
    return model.predict_proba(features.test_matrix)[:, 1]


def lightgbm_default(features: FeatureFrames) -> np.ndarray:
    import lightgbm as lgb

    model = lgb.LGBMClassifier(verbose=-1, random_state=0)
    model.fit(features.train_frame, features.fold.y_train)
    return model.predict_proba(features.test_frame)[:, 1]


def catboost_default(features: FeatureFrames) -> np.ndarray:
    from catboost import CatBoostClassifier

    model = CatBoostClassifier(verbose=0, random_seed=0)
    as_text = {column: str for column in features.categorical}
    model.fit(
        features.train_frame.astype(as_text),
        features.fold.y_train,
        cat_features=features.categorical,
    )
    return model.predict_proba(features.test_frame.astype(as_text))[:, 1]


def flaml_automl(features: FeatureFrames, budget: float) -> np.ndarray:
    from flaml import AutoML

    logging.getLogger("flaml").setLevel(logging.ERROR)
    automl = AutoML()
    automl.fit(
        features.train_frame,
        features.fold.y_train,
        task="classification",
        metric="log_loss",
        time_budget=budget,
        seed=0,
        verbose=0,
    )
    return automl.predict_proba(features.test_frame)[:, 1]


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
        "usable": signal.usable,
        "calibration": Calibration.of(y, probability),
    }


@dataclass(frozen=True)
class Calibration:
    """How calibrated a model's probabilities are, beside how calibrated they could look on so
    few leads: the ECE a perfectly calibrated model shows when the leads' outcomes are drawn
    from its own probabilities (mean, 5th and 95th percentile of `DRAWS` draws), and the slope
    and intercept of a logistic fit of the outcomes on the probabilities' log-odds (1 and 0 when
    calibrated; a slope below 1 is overconfident, an intercept above 0 too low a level)."""

    ece_if_calibrated: tuple[float, float, float]
    slope: float
    intercept: float

    DRAWS = 1000

    @classmethod
    def of(cls, y: np.ndarray, probability: np.ndarray) -> Calibration:
        rng = np.random.default_rng(0)
        drawn = [
            expected_calibration_error(rng.random(len(y)) < probability, probability)
            for _ in range(cls.DRAWS)
        ]
        low, high = np.percentile(drawn, [5, 95])
        log_odds = np.log(probability / (1 - probability)).reshape(-1, 1)
        fit = LogisticRegression(C=1e6).fit(log_odds, y)
        return cls(
            (float(np.mean(drawn)), float(low), float(high)),
            float(fit.coef_[0, 0]),
            float(fit.intercept_[0]),
        )


def print_table(rows: list[dict], header: bool = True) -> None:
    if header:
        print(
            "| data set | model | ROC AUC | log loss | ECE | PR AUC | lift@10 % | fit s | signal |"
        )
        print("|" + "---|" * 9)
    for r in rows:
        print(
            f"| {r['data set']} | {r['model']} | {r['roc_auc']:.4f} | {r['log_loss']:.4f} | "
            f"{r['ece']:.4f} | {r['pr_auc']:.4f} | {r['lift_at_10']:.2f} | {r['seconds']:.1f} | "
            f"{'usable' if r['usable'] else 'NO USABLE SIGNAL'} |",
            flush=True,
        )


def print_verdicts(rows: list[dict]) -> None:
    """Per data set with signal: leadscore's log loss and ROC AUC against the best anchor's."""
    print("| data set | leadscore log loss - best anchor's | best anchor's ROC AUC - leadscore's |")
    print("|---|---|---|")
    for name in dict.fromkeys(r["data set"] for r in rows):
        mine = next(r for r in rows if r["data set"] == name and r["model"] == "leadscore")
        anchors = [r for r in rows if r["data set"] == name and r["model"] in ANCHORS]
        if not mine["usable"] or not anchors:
            continue
        loss = mine["log_loss"] - min(r["log_loss"] for r in anchors)
        auc = max(r["roc_auc"] for r in anchors) - mine["roc_auc"]
        print(f"| {name} | {loss:+.4f} | {auc:+.4f} |")


def print_calibration(rows: list[dict]) -> None:
    """leadscore's ECE beside the ECE a perfectly calibrated model would show on the same
    leads, and its calibration slope and intercept."""
    print(
        "| data set | leadscore ECE | ECE if perfectly calibrated: mean (5th-95th percentile) "
        "| calibration slope | intercept |"
    )
    print("|---|---|---|---|---|")
    for r in rows:
        if r["model"] == "leadscore":
            c = r["calibration"]
            mean, low, high = c.ece_if_calibrated
            print(
                f"| {r['data set']} | {r['ece']:.4f} | {mean:.4f} ({low:.4f}-{high:.4f}) | "
                f"{c.slope:.3f} | {c.intercept:+.3f} |"
            )


def print_refit_gain(export_rows: int = 40_000, next_rows: int = 10_000) -> None:
    """What refitting on every lead buys under drift: drifting B2B leads, the first
    `export_rows` as the export and the `next_rows` after them as tomorrow's leads, scored by
    the model evaluated (trained without the export's newest 20 %) and the one registered (the
    same recipe refitted on every lead of the export)."""
    shape = shapes.drifting_b2b(0, rows=export_rows + next_rows)
    contract = shape.contract
    leads = split_labeled(shape.frame.iloc[:export_rows], contract, "export")
    order = lead_order(leads, contract)
    assert order is not None
    outer = split_rows(leads.y, order)
    learned = learn_lead_model(
        leads.frame.iloc[outer.train], leads.y[outer.train], order.iloc[outer.train], contract
    )
    evaluation = leads.frame.iloc[outer.evaluate], leads.y[outer.evaluate]
    unseen = learned.candidate_scores(*evaluation, order.iloc[outer.evaluate])
    registered = refit_lead_model(learned, leads.frame, leads.y, unseen)
    tomorrow = split_labeled(shape.frame.iloc[export_rows:], contract, "next")
    print(f"| the {next_rows:,} drifting B2B leads after the export | leads learnt from ", end="")
    print("| ROC AUC | log loss | ECE |\n|---|---|---|---|---|")
    for name, model, learnt in (
        ("evaluated model", learned.model, len(outer.train)),
        ("registered model", registered, len(leads.y)),
    ):
        metrics = evaluate(tomorrow.y, model.probabilities(model.encoder.transform(tomorrow.frame)))
        print(
            f"| {name} | {learnt:,} | {metrics['roc_auc']:.4f} | {metrics['log_loss']:.4f} | "
            f"{metrics['ece']:.4f} |"
        )


if __name__ == "__main__":
    main()
