"""The training report: one self-contained HTML file (charts embedded) that a sales manager can
read, with the charts also written as PNG files beside it.

It says, in this order: the decision (does this model serve, and why), the data and what the
audit found, how good the model is against the baseline and how sure that is, the charts with
one plain sentence each, the tiers, and what the score relies on.
"""

from __future__ import annotations

import base64
import html
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from features.audit import LEAK_REASON, Finding
from features.joins import JoinReport
from serve.model.metrics import Interval
from train.evaluate.gate import Decision
from train.evaluate.holdout import Evaluation
from train.evaluate.ranking import TierRow, ValueRanking
from train.report import evaluation_figures
from train.results import ReportFiles, TrainingSummary

METRIC_LABELS = {
    "roc_auc": "ROC AUC (ranking, 0.5 = chance, 1 = perfect)",
    "pr_auc": "PR AUC (precision over all cut-offs)",
    "log_loss": "log loss (lower is better)",
    "brier": "Brier score (lower is better)",
    "lift_at_10": "lift in the top 10 %",
    "ece": "expected calibration error (lower is better)",
}


@dataclass(frozen=True)
class Chart:
    file: str
    title: str
    sentence: str
    draw: Callable[[Evaluation], Figure]


def _curves(evaluation: Evaluation) -> dict[str, np.ndarray]:
    return {"model": evaluation.probability, "baseline": evaluation.baseline_probability}


CHARTS = (
    Chart(
        "roc.png",
        "ROC curve",
        "The further the line bulges towards the top-left corner, the better the score tells "
        "leads that will buy from leads that will not; the dotted diagonal is a coin toss.",
        lambda e: evaluation_figures.roc_figure(e.y, _curves(e)),
    ),
    Chart(
        "precision_recall.png",
        "Precision and recall",
        "If sales calls every lead above a cut-off, this shows what share of those calls "
        "convert (up) against the share of all buyers reached (across).",
        lambda e: evaluation_figures.precision_recall_figure(e.y, _curves(e)),
    ),
    Chart(
        "calibration.png",
        "Calibration (reliability)",
        "When the score says 30 %, about 30 % of such leads should buy: the closer the dots "
        "lie to the diagonal, the more the percentages can be taken at face value.",
        lambda e: evaluation_figures.calibration_figure(e.y, _curves(e)),
    ),
    Chart(
        "gains.png",
        "Cumulative gains",
        "Calling leads best-first, this is the share of all conversions found after calling a "
        "given share of the leads; the dotted line is calling them in random order.",
        lambda e: evaluation_figures.gains_figure(e.y, _curves(e)),
    ),
    Chart(
        "lift.png",
        "Lift",
        "How many times more often the best leads convert than the average lead, for each "
        "share of leads called best-first.",
        lambda e: evaluation_figures.lift_figure(e.y, _curves(e)),
    ),
    Chart(
        "tiers.png",
        "Conversion by tier",
        "The share of leads in each tier that converted: tier A should convert far more often "
        "than tier D.",
        lambda e: evaluation_figures.tiers_figure(e.tier_table),
    ),
    Chart(
        "features.png",
        "What the score relies on",
        "The lead fields that move the score most, on average over the leads evaluated.",
        lambda e: evaluation_figures.features_figure(e.top_features),
    ),
)


def report_paths(report_json: Path | None, model_name: str, version: str) -> tuple[Path, Path]:
    """Where the HTML report and its PNG folder go: beside `--report-json`, or in `reports/`."""
    html_path = (
        report_json.with_suffix(".html")
        if report_json is not None
        else Path("reports") / f"{model_name}-v{version}.html"
    )
    return html_path, html_path.with_name(f"{html_path.stem}-plots")


def write_report(
    summary: TrainingSummary,
    version: str,
    decision: Decision,
    html_path: Path,
    plots_folder: Path,
) -> ReportFiles:
    """Write the PNG charts and the HTML report of this model version."""
    plots_folder.mkdir(parents=True, exist_ok=True)
    pngs = []
    with warnings.catch_warnings():
        # A field's name in a script the plotting font lacks is drawn as boxes; the HTML
        # report beside the charts spells it in full.
        warnings.filterwarnings("ignore", r"Glyph \d+ .* missing from", UserWarning)
        for chart in CHARTS:
            pngs.append(plots_folder / chart.file)
            chart.draw(summary.evaluation).savefig(pngs[-1], dpi=100)
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(render_html(summary, version, decision, pngs), encoding="utf-8")
    return ReportFiles(html_path, pngs)


def render_html(
    summary: TrainingSummary, version: str, decision: Decision, pngs: list[Path]
) -> str:
    evaluation = summary.evaluation
    sections = [
        _decision_section(decision),
        _data_section(summary),
        _audit_section(summary.audit.findings),
        _metrics_section(summary),
        *(_chart_section(chart, png) for chart, png in zip(CHARTS, pngs, strict=True)),
        _tiers_section(summary.tier_cutoffs, summary.tier_rule, evaluation.tier_table),
        _value_section(evaluation.value),
    ]
    title = f"Lead model {summary.model_name} version {version}"
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{_e(title)}</h1>" + "".join(s for s in sections if s) + "</body></html>\n"
    )


def _decision_section(decision: Decision) -> str:
    css = "good" if decision.champion else ("bad" if not decision.usable_signal else "note")
    verdict = (
        "This model now serves the scores (champion)."
        if decision.champion
        else "This model does not serve the scores."
    )
    return (
        f"<section class='{css}'><h2>Decision</h2><p><strong>{_e(verdict)}</strong> "
        f"{_e(_sentence(decision.reason))}</p></section>"
    )


def _data_section(summary: TrainingSummary) -> str:
    rows = summary.rows
    train, held = rows.train, rows.evaluate
    split = (
        "a random sample of leads was held back (the export has no created-at column)"
        if summary.split == "stratified"
        else f"the newest leads were held back (by {summary.split})"
    )
    lines = [
        f"{train.total:,} leads with a known outcome trained the model "
        f"({train.won:,} won, {train.lost:,} lost); {held.total:,} more "
        f"({held.won:,} won) judged it: {split}.",
        f"{rows.open:,} open leads were not trained on.",
        f"{len(summary.features)} fields were used: {', '.join(summary.features)}.",
    ]
    return (
        "<section><h2>The data</h2>"
        + "".join(f"<p>{_e(line)}</p>" for line in lines)
        + _joins_list(summary.joins)
        + _missing_table(summary.audit.missing_share, set(summary.features))
        + "</section>"
    )


def _joins_list(joins: list[JoinReport]) -> str:
    items = "".join(
        f"<li>{_e(j.table)} on {_e(j.on)}: {j.matched:,} of {j.leads:,} leads "
        f"matched. {_e(' '.join(_sentence(p) for p in j.problems))}</li>"
        for j in joins
    )
    return f"<p>Related tables joined:</p><ul>{items}</ul>" if items else ""


def _missing_table(missing_share: dict[str, float], used: set[str]) -> str:
    columns = "".join(
        f"<tr><td>{_e(column)}</td><td>{share:.1%}</td><td>{'yes' if column in used else 'no'}"
        "</td></tr>"
        for column, share in missing_share.items()
    )
    if not columns:
        return ""
    return (
        "<p>Every column, the share of leads where it is empty, and whether the model uses it:"
        f"</p><table><tr><th>column</th><th>missing</th><th>used</th></tr>{columns}</table>"
    )


def _audit_section(findings: list[Finding]) -> str:
    ordered = sorted(findings, key=lambda f: (f.reason != LEAK_REASON, not f.excluded))
    if not ordered:
        return "<section><h2>Audit</h2><p>The audit found nothing to report.</p></section>"
    body = "".join(
        f"<tr><td>{_e(f.column or '(all columns)')}</td><td>{_e(f.reason)}</td>"
        f"<td>{'excluded' if f.excluded else 'kept'}</td><td>{_e(f.evidence)}</td></tr>"
        for f in ordered
    )
    return (
        "<section><h2>Audit</h2><p>Before training, every column was checked for signs that it "
        "is filled in only after the outcome is known (it would make the model look good and "
        "be useless on new leads) and for data-quality problems. Such columns come first.</p>"
        "<table><tr><th>column</th><th>finding</th><th>used?</th><th>evidence</th></tr>"
        f"{body}</table></section>"
    )


def _metrics_section(summary: TrainingSummary) -> str:
    evaluation = summary.evaluation
    body = ""
    for name, label in METRIC_LABELS.items():
        model, baseline = evaluation.metrics[name], evaluation.baseline_metrics[name]
        spans = evaluation.intervals.get(name)
        model_text = f"{model:.4f}" + (_span(spans.model) if spans else "")
        baseline_text = f"{baseline:.4f}" + (_span(spans.baseline) if spans else "")
        difference = _span(spans.model_minus_baseline, signed=True) if spans else ""
        body += (
            f"<tr><td>{_e(label)}</td><td>{model_text}</td><td>{baseline_text}</td>"
            f"<td>{difference}</td></tr>"
        )
    lift = evaluation.metrics["lift_at_10"]
    plain = (
        f"In plain words: the top 10 % of leads by score converted {lift:.1f} times as often as "
        "the average lead, and the model ranks a random won lead above a random lost one "
        f"{evaluation.metrics['roc_auc']:.0%} of the time."
    )
    return (
        f"<section><h2>How good the model is</h2><p>{_e(plain)}</p><p>Measured on the held-back "
        "leads, beside a simple logistic-regression baseline; in brackets the range that holds "
        "the true value with 95 % confidence. Saying the overall conversion rate for every lead "
        "would score a "
        f"log loss of {evaluation.base_rate_log_loss:.4f}.</p>"
        "<table><tr><th>measure</th><th>model</th><th>baseline</th>"
        f"<th>model minus baseline</th></tr>{body}</table>"
        f"<p>{_e(_choice_text(summary))}</p></section>"
    )


def _choice_text(summary: TrainingSummary) -> str:
    """Which model these figures are for, and how the learner that scores was chosen."""
    choice = summary.candidates
    return (
        f"These figures are for {summary.metrics_for}. LightGBM and the logistic regression "
        f"were compared on {choice.leads:,} held-out training leads (log loss "
        f"{choice.lightgbm_loss:.4f} and {choice.linear_loss:.4f}); the model scores with "
        f"{summary.learner} (held-out log loss {choice.chosen_loss:.4f})."
    )


def _chart_section(chart: Chart, png: Path) -> str:
    data = base64.b64encode(png.read_bytes()).decode("ascii")
    return (
        f"<section><h2>{_e(chart.title)}</h2><p>{_e(chart.sentence)}</p>"
        f"<img alt='{_e(chart.title)}' src='data:image/png;base64,{data}'></section>"
    )


def _tiers_section(cutoffs: tuple[int, int, int], rule: str, table: list[TierRow]) -> str:
    body = "".join(
        f"<tr><td>{r.tier}</td><td>{r.leads:,}</td><td>{r.share_of_leads:.1%}</td>"
        f"<td>{r.conversions:,}</td><td>{r.conversion_rate:.1%}</td>"
        f"<td>{r.share_of_conversions:.1%}</td></tr>"
        for r in table
    )
    return (
        f"<section><h2>Tiers</h2><p>Tier A is a score of {cutoffs[0]} or more, B {cutoffs[1]} "
        f"or more, C {cutoffs[2]} or more, D the rest ({_e(rule)}). On the held-back "
        "leads:</p><table><tr><th>tier</th><th>leads</th><th>share of leads</th>"
        "<th>conversions</th><th>conversion rate</th><th>share of all conversions</th></tr>"
        f"{body}</table></section>"
    )


def _value_section(value: ValueRanking | None) -> str:
    if not value:
        return ""
    return (
        "<section><h2>Deal value</h2><p>Ranking leads by expected value (probability times deal "
        "value), the top 10 % of leads hold "
        f"{value.top_decile_won_value_share_by_expected_value:.1%} of the value won; ranked "
        f"by probability alone, {value.top_decile_won_value_share_by_probability:.1%}.</p>"
        "</section>"
    )


def _span(interval: Interval, signed: bool = False) -> str:
    if signed:
        return f"{interval.estimate:+.4f} [{interval.low:+.4f}, {interval.high:+.4f}]"
    return f" [{interval.low:.4f}, {interval.high:.4f}]"


def _sentence(text: str) -> str:
    text = text.strip()
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _e(text: str) -> str:
    return html.escape(str(text), quote=True)


_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; color: #222; }
section { margin: 1.5rem 0; } section.good { border-left: 6px solid #1a7f37; padding-left: 1rem; }
section.bad { border-left: 6px solid #b0413e; padding-left: 1rem; }
section.note { border-left: 6px solid #c9a227; padding-left: 1rem; }
table { border-collapse: collapse; font-size: 0.9rem; }
td, th { border: 1px solid #ccc; padding: 0.3rem 0.5rem; text-align: left; vertical-align: top; }
img { max-width: 100%; }
"""
