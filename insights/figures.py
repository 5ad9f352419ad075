"""Figures of the insight tables, returned as matplotlib Figures (no pyplot state, nothing
written), so a notebook shows them and a report can save them."""

from __future__ import annotations

from textwrap import fill, shorten

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from features.labels import LOST, OPEN, WON
from insights.reliance import BASE_VALUE, category_effects

COLOURS = {WON: "tab:green", LOST: "tab:red", OPEN: "tab:grey"}
MAX_BARS = 12
TITLE_WIDTH = 45
LABEL_WIDTH = 60


def literal(text: object) -> str:
    """Text from the leads (a field, a value, a reason) as matplotlib should print it: a '$'
    would start mathematical notation ('$10k-$50k' in italics without its dollars; '$\\frac$'
    an error), so every '$' is escaped."""
    return str(text).replace("$", r"\$")


def funnel_figure(funnel: pd.DataFrame, monthly: pd.DataFrame | None) -> Figure:
    """Leads by outcome, and conversion by month of creation with its interval when known."""
    figure = Figure(figsize=(11 if monthly is not None else 5, 3.5), layout="constrained")
    axes = figure.subplots(1, 2 if monthly is not None else 1, squeeze=False)[0]
    stages = funnel.loc[[WON, LOST, OPEN], "count"]
    axes[0].bar(stages.index, stages.to_numpy(), color=[COLOURS[s] for s in stages.index])
    axes[0].set(title=f"{int(funnel['count']['leads']):,} leads", ylabel="leads")
    if monthly is not None:
        x = np.arange(len(monthly))
        axes[1].plot(x, monthly["conversion"], marker="o", color="tab:blue")
        axes[1].fill_between(x, monthly["ci_low"], monthly["ci_high"], alpha=0.2)
        step = max(1, len(x) // 12)
        axes[1].set_xticks(x[::step], monthly.index[::step], rotation=45, ha="right")
        axes[1].set(title="conversion by month of creation (95 % interval)", ylabel="won / closed")
    return figure


def segments_figure(table: pd.DataFrame, fields: list[str], overall: float) -> Figure:
    """One panel per field: each value's conversion with its interval, labelled with its leads."""
    figure = Figure(figsize=(11, 3.2 * int(np.ceil(len(fields) / 2))), layout="constrained")
    axes = figure.subplots(int(np.ceil(len(fields) / 2)), 2, squeeze=False).ravel()
    for ax, field in zip(axes, fields, strict=False):
        rows = table[table["field"] == field].sort_values(LOST, ascending=False).head(MAX_BARS)
        rows = rows.iloc[::-1]
        labels = [
            literal(f"{v} ({n:,})") for v, n in zip(rows["value"], rows["leads"], strict=True)
        ]
        error = np.vstack(
            [rows["conversion"] - rows["ci_low"], rows["ci_high"] - rows["conversion"]]
        )
        ax.barh(labels, rows["conversion"], xerr=error, color="tab:blue", alpha=0.7, capsize=2)
        ax.axvline(overall, color="black", linestyle=":", label="all leads")
        ax.set(title=fill(literal(field), TITLE_WIDTH), xlabel="conversion (95 % interval)")
        ax.tick_params(axis="y", labelsize=8)
    for ax in axes[len(fields) :]:
        ax.set_visible(False)
    return figure


def loss_reasons_figure(shares_by_group: pd.DataFrame, title: str) -> Figure:
    """Stacked shares of loss reasons per group (one bar per group)."""
    shares = shares_by_group.drop(columns=LOST)
    figure = Figure(figsize=(11, 0.5 * len(shares) + 1.8), layout="constrained")
    ax = figure.subplots()
    left = np.zeros(len(shares))
    labels = [
        literal(f"{g} ({n:,} lost)")
        for g, n in zip(shares.index, shares_by_group[LOST], strict=True)
    ]
    for reason in shares.columns:
        ax.barh(labels, shares[reason], left=left, label=literal(reason))
        left += shares[reason].to_numpy()
    ax.set(title=literal(title), xlabel="share of lost leads", xlim=(0, 1))
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
    return figure


def importance_figure(importance: pd.DataFrame, top: int = 15) -> Figure:
    """Mean absolute contribution of the fields the model relies on most."""
    rows = importance.head(top).iloc[::-1]
    figure = Figure(figsize=(7, 0.35 * len(rows) + 1.2), layout="constrained")
    ax = figure.subplots()
    ax.barh([literal(v) for v in rows.index], rows["mean_abs_contribution"], color="tab:purple")
    ax.set(title="what the model relies on", xlabel="mean |contribution| (log-odds)")
    return figure


def dependence_figure(parts: dict[str, pd.DataFrame]) -> Figure:
    """For each field: its contribution against its value (points for numbers, the mean per
    value for categories)."""
    figure = Figure(figsize=(5 * len(parts), 3.8), layout="constrained")
    axes = figure.subplots(1, len(parts), squeeze=False)[0]
    for ax, (field, pairs) in zip(axes, parts.items(), strict=True):
        if pd.api.types.is_numeric_dtype(pairs["value"]):
            ax.scatter(pairs["value"], pairs["contribution"], s=6, alpha=0.3)
            ax.axhline(0, color="grey", linewidth=0.5)
            ax.set(xlabel=fill(literal(field), TITLE_WIDTH), ylabel="contribution (log-odds)")
        else:
            effects = category_effects(pairs).head(MAX_BARS).iloc[::-1]
            ax.barh([literal(v) for v in effects.index], effects["mean_contribution"])
            ax.axvline(0, color="grey", linewidth=0.5)
            ax.tick_params(axis="y", labelsize=8)
            ax.set(xlabel="mean contribution (log-odds)")
        ax.set(title=fill(literal(f"{field}: contribution to the score"), TITLE_WIDTH))
    return figure


def explanations_figure(explanations: dict[str, pd.DataFrame], top: int = 8) -> Figure:
    """One panel per example lead: the fields that moved its score most, up in green, down in
    red."""
    figure = Figure(figsize=(9, 3 * len(explanations)), layout="constrained")
    axes = figure.subplots(len(explanations), 1, squeeze=False)[:, 0]
    for ax, (title, table) in zip(axes, explanations.items(), strict=True):
        rows = table[table["field"] != BASE_VALUE].head(top).iloc[::-1]
        labels = [
            literal(shorten(f"{f} = {v}", LABEL_WIDTH, placeholder="..."))
            for f, v in zip(rows["field"], rows["value"], strict=True)
        ]
        colours = np.where(rows["contribution"] > 0, COLOURS[WON], COLOURS[LOST])
        ax.barh(labels, rows["contribution"], color=colours)
        ax.axvline(0, color="grey", linewidth=0.5)
        ax.tick_params(axis="y", labelsize=8)
        ax.set(title=literal(title), xlabel="contribution (log-odds)")
    return figure


def tiers_figure(tiers: pd.DataFrame) -> Figure:
    """Observed conversion per tier with its interval, beside the mean predicted probability."""
    figure = Figure(figsize=(5, 3.5), layout="constrained")
    ax = figure.subplots()
    x = np.arange(len(tiers))
    error = np.vstack(
        [tiers["conversion"] - tiers["ci_low"], tiers["ci_high"] - tiers["conversion"]]
    )
    ax.bar(x - 0.2, tiers["conversion"], 0.4, yerr=error, capsize=3, label="observed")
    ax.bar(x + 0.2, tiers["predicted"], 0.4, label="predicted")
    ax.set_xticks(x, tiers.index)
    ax.set(title="conversion per tier", ylabel="won / closed", ylim=(0, 1))
    ax.legend()
    return figure


def calibration_figure(calibration: pd.DataFrame) -> Figure:
    """Predicted against observed conversion for every segment, with the observed interval."""
    figure = Figure(figsize=(5, 5), layout="constrained")
    ax = figure.subplots()
    error = np.vstack(
        [
            calibration["conversion"] - calibration["ci_low"],
            calibration["ci_high"] - calibration["conversion"],
        ]
    )
    ax.errorbar(calibration["predicted"], calibration["conversion"], yerr=error, fmt="o", alpha=0.6)
    ax.plot([0, 1], [0, 1], linestyle=":", color="grey", label="perfect")
    ax.set(
        title="calibration per segment",
        xlabel="mean predicted probability",
        ylabel="observed conversion (95 % interval)",
        xlim=(0, 1),
        ylim=(0, 1),
    )
    return figure
