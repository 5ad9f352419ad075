"""Plain-language conclusions written from the insight tables, so that every sentence an analyst
reads is computed from this export's numbers (Markdown text)."""

from __future__ import annotations

import math

import pandas as pd

from features.labels import LOST, OPEN, WON
from insights.funnel import MISSING, typical_open_age
from insights.model_view import HIGH_TIERS, WITH_LEAKY, WITHOUT_LEAKY
from insights.reliance import BASE_VALUE

MIN_CLOSED_PER_MONTH = 30
SIGNIFICANCE = 0.05


def percent(rate: float | None) -> str:
    return "n/a" if rate is None or math.isnan(rate) else f"{100 * rate:.1f} %"


def interval(row: pd.Series) -> str:
    return f"95 % interval {percent(row['ci_low'])} to {percent(row['ci_high'])}"


def funnel_finding(overall: pd.Series, monthly: pd.DataFrame | None) -> str:
    """Leads, won, lost and open, the conversion of closed leads, and how it moved by month."""
    leads, won, lost, open_ = (int(overall[c]) for c in ("leads", WON, LOST, OPEN))
    text = (
        f"Of **{leads:,}** leads, {won:,} were won, {lost:,} lost and {open_:,} are still open: "
        f"**{percent(overall['conversion'])}** of closed leads converted ({interval(overall)})."
    )
    if monthly is None:
        return text + (
            " The contract names no created-at column, so conversion cannot be followed over "
            'time; give `time = "COLUMN"` in the contract if the export has one.'
        )
    months = monthly[(monthly[WON] + monthly[LOST]) >= MIN_CLOSED_PER_MONTH]
    if len(months) < 2:
        return text + (
            f" Fewer than two months have {MIN_CLOSED_PER_MONTH} closed leads or more, "
            "too few to follow conversion over time."
        )
    conversion = months["conversion"]
    best, worst = conversion.idxmax(), conversion.idxmin()
    span = min(3, len(months) // 2)
    first, last = months.head(span), months.tail(span)
    return text + (
        f" By month of creation (months with at least {MIN_CLOSED_PER_MONTH} closed leads), "
        f"conversion ranged from {percent(conversion.min())} ({worst}) to "
        f"{percent(conversion.max())} ({best}); it was {percent(_pooled(first))} "
        f"in the first {span} of these months ({_span(first)}) and {percent(_pooled(last))} in "
        f"the last {span} ({_span(last)})."
    )


def _pooled(months: pd.DataFrame) -> float:
    return float(months[WON].sum() / (months[WON].sum() + months[LOST].sum()))


def _span(months: pd.DataFrame) -> str:
    return months.index[0] if len(months) == 1 else f"{months.index[0]} to {months.index[-1]}"


def segments_finding(table: pd.DataFrame, spread: pd.DataFrame, overall: pd.Series) -> str:
    """Where most lost leads are, which segment loses most beyond the overall rate, and which
    field separates won from lost leads most."""
    if table.empty:
        return "No categorical field to break conversion down by."
    top = table.iloc[0]
    text = (
        f"The biggest pool of lost leads is **{top['field']} = {top['value']}**: "
        f"{int(top[LOST]):,} lost leads ({percent(top['share_of_lost'])} of all lost), "
        f"converting at {percent(top['conversion'])} ({interval(top)}) against "
        f"{percent(overall['conversion'])} overall."
    )
    # pandas-stubs refuse idxmax's label (typed Hashable) as a row label of `.loc`.
    worst = table.loc[table["excess_lost"].idxmax()]  # type: ignore[call-overload]
    if worst["excess_lost"] >= 1:
        text += (
            f" Beyond what the overall rate predicts, **{worst['field']} = {worst['value']}** "
            f"loses the most: {worst['excess_lost']:,.0f} more lost leads than the overall rate "
            f"would give its {int(worst[WON] + worst[LOST]):,} closed leads (converting at "
            f"{percent(worst['conversion'])}, {interval(worst)})."
        )
    field = spread.iloc[0]["field"]
    rows = table[(table["field"] == field) & table["conversion"].notna()]
    low, high = rows.loc[rows["conversion"].idxmin()], rows.loc[rows["conversion"].idxmax()]
    return text + (
        f" The field that separates won from lost leads most is **{field}**: from "
        f"{percent(low['conversion'])} ({low['value']}, {int(low['leads']):,} leads) to "
        f"{percent(high['conversion'])} ({high['value']}, {int(high['leads']):,} leads)."
    )


def loss_reasons_finding(
    reason_column: str | None,
    shares: pd.DataFrame | None,
    comparison: pd.DataFrame | None,
    p_value: float,
    by_tier: pd.DataFrame | None = None,
) -> str:
    """The most common loss reasons, how often none is recorded (per tier when `by_tier` is
    given), and whether high-score leads are lost for other reasons."""
    if reason_column is None or shares is None:
        return (
            "The contract names no loss-reason column, so why leads were lost is not in this "
            'export; give `loss_reason = "COLUMN"` in the contract if sales record it.'
        )
    if shares.empty:
        return f"No lost lead has a value in '{reason_column}'."
    named = shares.drop(index=MISSING, errors="ignore")
    text = f"Among {int(shares[LOST].sum()):,} lost leads, "
    if named.empty:
        text += f"none has a loss reason in '{reason_column}'."
    else:
        first = named.index[0]
        text += f"the most common loss reason is **{first}** ({percent(named['share'].iloc[0])})"
        if len(named) > 1:
            text += f", then {named.index[1]} ({percent(named['share'].iloc[1])})"
        text += "."
    if MISSING in shares.index:
        text += f" {percent(shares['share'][MISSING])} have no reason recorded"
        if by_tier is not None and MISSING in by_tier.columns and len(by_tier) > 1:
            top, bottom = by_tier.index[0], by_tier.index[-1]
            text += (
                f": {percent(by_tier.loc[top, MISSING])} of lost tier-{top} leads against "
                f"{percent(by_tier.loc[bottom, MISSING])} of lost tier-{bottom} leads"
            )
        text += "."
    if comparison is None or comparison.empty or math.isnan(p_value):
        return text + " Too few lost leads in high and low tiers to compare their reasons."
    biggest = comparison.iloc[0]
    verdict = (
        "high-score leads are lost for different reasons than low-score ones"
        if p_value < SIGNIFICANCE
        else "no clear difference between the reasons high- and low-score leads are lost for"
    )
    tiers = "-".join(HIGH_TIERS)
    return text + (
        f" Lost leads in tiers {tiers} give **{comparison.index[0]}** as the reason "
        f"{percent(biggest['high_share'])} of the time, against {percent(biggest['low_share'])} "
        f"in the lower tiers, the biggest difference (chi-square p = {p_value:.3g}): {verdict}."
    )


def reliance_finding(importance: pd.DataFrame) -> str:
    """The fields the model leans on most."""
    top = importance.head(3)
    named = ", ".join(f"**{field}** ({percent(row['share'])})" for field, row in top.iterrows())
    return (
        f"The model relies most on {named} of all its contributions; together these "
        f"{len(top)} fields carry {percent(top['share'].sum())} of what moves a score, and the "
        f"remaining {len(importance) - len(top)} fields the rest."
    )


def explanation_finding(example: str, lead: pd.Series, explanation: pd.DataFrame) -> str:
    """One example lead in a sentence: what raised and what lowered its score most."""
    fields = explanation[explanation["field"] != BASE_VALUE]
    raising = fields[fields["contribution"] > 0].head(2)
    lowering = fields[fields["contribution"] < 0].head(2)
    text = (
        f"*{example}*: lead {lead['id']} ({lead['outcome']}, score {lead['score']}, "
        f"tier {lead['tier']})"
    )
    if not raising.empty:
        text += f" was raised most by {_terms(raising)}"
    if not lowering.empty:
        text += ("; " if not raising.empty else " was ") + f"lowered most by {_terms(lowering)}"
    return text + "."


def _terms(rows: pd.DataFrame) -> str:
    return " and ".join(
        f"{r.field} = {r.value} ({r.contribution:+.2f} log-odds)" for r in rows.itertuples()
    )


def handoff_finding(tiers: pd.DataFrame, calibration: pd.DataFrame, held_out_note: str) -> str:
    """How far tiers separate converting leads, and where probabilities are off."""
    closed = tiers[WON] + tiers[LOST]
    top, bottom = tiers.index[0], tiers.index[-1]
    text = (
        f"{held_out_note} Tier {top} leads converted at "
        f"**{percent(tiers.loc[top, 'conversion'])}** "
        f"({int(closed[top]):,} closed leads, predicted {percent(tiers.loc[top, 'predicted'])}) "
        f"against {percent(tiers.loc[bottom, 'conversion'])} for tier {bottom} "
        f"({int(closed[bottom]):,} closed leads, predicted "
        f"{percent(tiers.loc[bottom, 'predicted'])})."
    )
    if calibration.empty:
        return text
    worst = calibration.iloc[0]
    inside = int(calibration["within_interval"].sum())
    return text + (
        f" Per segment, {inside} of {len(calibration)} predicted rates fall inside the observed "
        f"rate's 95 % interval; the largest gap is {worst['field']} = {worst['value']}: predicted "
        f"{percent(worst['predicted'])}, observed {percent(worst['conversion'])} "
        f"({int(worst['closed']):,} closed leads)."
    )


def held_out_note(training_export: bool, held_out: int) -> str:
    if training_export:
        return (
            f"Measured on the {held_out:,} closed leads the model was evaluated on; the served "
            "model was refitted on every closed lead, these included, so these figures flatter "
            "it a little (its evaluation figures are those of the same recipe without them)."
        )
    return (
        f"This export is not the file the model was trained on; all {held_out:,} closed leads "
        "are used, and any the model trained on make these figures look better than they are."
    )


def stalled_finding(
    time_column: str | None,
    outcome: pd.Series,
    ages: pd.DataFrame,
    factor: float,
    candidates: pd.DataFrame,
    csv_path: str | None,
) -> str:
    """How many open leads stalled, and how many of them the model rates high."""
    if time_column is None:
        return (
            "The contract names no created-at column, so how long a lead has been open cannot "
            "be measured and no stalled leads are listed."
        )
    typical = typical_open_age(ages["age_days"], outcome)
    if math.isnan(typical):
        return "No lead is open in this export, so none has stalled."
    text = (
        f"A typical open lead is {typical:.0f} days old; **{int(ages['stalled'].sum()):,}** open "
        f"leads are older than {factor:g} times that ({factor * typical:.0f} days) and have "
        f"stalled. **{len(candidates):,}** of them score in tier {' or '.join(HIGH_TIERS)}: "
        "candidates to recycle to marketing nurturing"
    )
    return text + (f", saved to `{csv_path}`." if csv_path and len(candidates) else ".")


def leakage_finding(status: pd.DataFrame, comparison: pd.DataFrame | None) -> str:
    """Which fields were excluded as leaky, and what the model would look like with them."""
    if status.empty:
        return (
            "No fields are named leaky for this export (`leaky_columns` is empty), so there is "
            "nothing to compare. List the fields that are filled in only after sales contact "
            "(a rep's disposition, a quality grade) to see what they would do to the model."
        )
    read = status.loc[status["model_reads_it"], "field"].tolist()
    fields = ", ".join(status["field"])
    text = f"{len(status)} fields are named leaky: {fields}. "
    if read:
        text += f"**The model reads {', '.join(read)}**: retrain with `--drop` for each. "
    else:
        text += "The model reads none of them. "
    if comparison is None:
        return text
    auc, leaky_share = comparison["roc_auc"], comparison["leaky_share"]
    return text + (
        f"In the same cross-validation folds, ROC AUC is **{auc[WITH_LEAKY]:.3f}** with them "
        f"against **{auc[WITHOUT_LEAKY]:.3f}** without, and {percent(leaky_share[WITH_LEAKY])} of "
        "that model's contributions would sit on them: that gain comes from fields known only "
        "after the outcome was on its way, which a new lead does not have yet, not from skill."
    )
