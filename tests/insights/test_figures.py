"""The figures draw what the tables hold, one panel per field or lead."""

import io
import tomllib

import pandas as pd
import pytest
from matplotlib.figure import Figure

from features.contract import LeadContract
from features.demo import CONTRACT_TOML, generate_leads
from features.labels import outcome_names, parse_times
from features.reading import mask_sentinels
from insights import figures, funnel

DEMO = LeadContract.from_dict(tomllib.loads(CONTRACT_TOML))


@pytest.fixture(scope="module")
def demo() -> tuple[pd.DataFrame, pd.Series]:
    frame = mask_sentinels(generate_leads(1500, seed=2), DEMO.na_values)
    return frame, outcome_names(frame, DEMO, "demo")


def visible_axes(figure: Figure) -> list:
    return [ax for ax in figure.axes if ax.get_visible()]


def test_funnel_figure_with_and_without_months(demo):
    frame, outcome = demo
    stages = funnel.funnel(outcome)
    monthly = funnel.conversion_by_month(outcome, parse_times(frame, "created_at", "demo"))
    with_months = figures.funnel_figure(stages, monthly)
    assert len(visible_axes(with_months)) == 2
    assert len(visible_axes(with_months)[1].lines[0].get_xdata()) == len(monthly)
    bars = [p.get_height() for p in visible_axes(figures.funnel_figure(stages, None))[0].patches]
    assert bars == stages.loc[["won", "lost", "open"], "count"].tolist()


def test_segments_figure_has_a_panel_per_field_and_a_bar_per_value(demo):
    frame, outcome = demo
    table = funnel.conversion_by_segment(
        frame, outcome, ["lead_source", "budget_status", "industry"]
    )
    figure = figures.segments_figure(table, ["lead_source", "budget_status", "industry"], 0.3)
    axes = visible_axes(figure)
    assert [ax.get_title() for ax in axes] == ["lead_source", "budget_status", "industry"]
    assert len(axes[1].patches) == (table["field"] == "budget_status").sum()


def test_loss_reasons_figure_stacks_one_bar_per_group_and_reason(demo):
    frame, outcome = demo
    reasons = funnel.lost_reasons(frame, outcome, "loss_reason")
    by_source = funnel.loss_reason_shares(reasons, frame["lead_source"])
    figure = figures.loss_reasons_figure(by_source, "by source")
    reasons_shown = by_source.shape[1] - 1
    assert len(figure.axes[0].patches) == len(by_source) * reasons_shown


def test_tiers_and_calibration_figures():
    tiers = pd.DataFrame(
        {
            "conversion": [0.7, 0.2],
            "ci_low": [0.6, 0.1],
            "ci_high": [0.8, 0.3],
            "predicted": [0.65, 0.25],
        },
        index=pd.Index(["A", "D"], name="tier"),
    )
    assert len(figures.tiers_figure(tiers).axes[0].patches) == 4
    calibration = tiers.reset_index(drop=True)
    figure = figures.calibration_figure(calibration)
    assert figure.axes[0].get_xlabel() == "mean predicted probability"


def test_dollar_signs_in_names_and_values_print_as_they_are(demo):
    """Matplotlib reads text between two '$' as mathematical notation: a budget band such as
    '$10k-$50k' came out in italics without its dollars, and a field named '$\\frac$' stopped
    the figure with a parse error."""
    frame, outcome = demo
    frame = frame.rename(columns={"lead_source": "source $\\frac$"})
    frame["budget_status"] = frame["budget_status"].replace("Approved", "$10k-$50k")
    fields = ["source $\\frac$", "budget_status"]
    figure = figures.segments_figure(
        funnel.conversion_by_segment(frame, outcome, fields), fields, 0.3
    )
    figure.savefig(io.BytesIO(), format="png")
    axes = visible_axes(figure)
    assert not any(
        label._preprocess_math(label.get_text())[1]
        for ax in axes
        for label in [ax.title, *ax.get_yticklabels()]
    )
    shown = [label._preprocess_math(label.get_text())[0] for label in axes[1].get_yticklabels()]
    assert any(text.startswith("$10k-$50k (") for text in shown), shown
