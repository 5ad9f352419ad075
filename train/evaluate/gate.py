"""The gates a model version passes before it may serve: is there usable signal at all, and
does it become champion.

A model that has learnt nothing still produces confident-looking scores; sales would act on
noise. So a version whose AUC interval includes 0.5 (it may rank no better than chance), or
whose log loss is no better than saying the base rate for every lead, is registered for the
record but never given the `champion` alias.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from serve.model.metrics import Interval
from train.evaluate.challenge import Comparison

CHANCE_AUC = 0.5
# Fewer won (or lost) evaluation leads than this cannot show signal even where there is some.
MIN_EVALUATED_PER_CLASS = 20


@dataclass(frozen=True)
class SignalCheck:
    """Whether the evaluation shows usable signal; `reasons` says why not, in plain words, and
    `too_few_leads` whether the evaluation held too few won or lost leads to tell."""

    usable: bool
    reasons: list[str] = field(default_factory=list)
    too_few_leads: bool = False

    def to_dict(self) -> dict:
        return asdict(self)


def check_signal(
    auc_interval: Interval,
    model_log_loss: float,
    base_rate_log_loss: float,
    outcomes: np.ndarray | None = None,
) -> SignalCheck:
    """`outcomes`: those of the evaluation leads (1 won, 0 lost), to say when there were too
    few of one of them to show signal."""
    reasons = []
    if auc_interval.contains(CHANCE_AUC):
        reasons.append(
            f"its ROC AUC, {auc_interval.estimate:.3f} (95 % interval {auc_interval.low:.3f} to "
            f"{auc_interval.high:.3f}), may be no better than chance (0.5): the model cannot "
            "tell won from lost leads"
        )
    if model_log_loss >= base_rate_log_loss:
        reasons.append(
            f"its log loss, {model_log_loss:.4f}, is no better than saying the overall "
            f"conversion rate for every lead ({base_rate_log_loss:.4f})"
        )
    too_few = False
    if reasons and outcomes is not None:
        won = int(outcomes.sum())
        lost = len(outcomes) - won
        too_few = min(won, lost) < MIN_EVALUATED_PER_CLASS
        if too_few:
            reasons.append(
                f"the {len(outcomes)} leads it was evaluated on hold only {won} won and {lost} "
                "lost ones, too few to show signal: train on an export with more closed leads"
            )
    return SignalCheck(usable=not reasons, reasons=reasons, too_few_leads=too_few)


@dataclass(frozen=True)
class Decision:
    """Whether this version becomes champion, and why, in one sentence."""

    champion: bool
    usable_signal: bool
    reason: str

    def to_dict(self) -> dict:
        return asdict(self)


def decide_champion(signal: SignalCheck, current_champion: str | None) -> Decision:
    """The first version with usable signal becomes champion; a later one is registered beside
    the champion for comparison; one without usable signal never serves."""
    if not signal.usable:
        return Decision(
            False, False, "not champion: no usable signal, because " + "; and ".join(signal.reasons)
        )
    if current_champion is None:
        return Decision(True, True, "champion: the first version of this model with usable signal")
    return Decision(
        False,
        True,
        f"not champion: version {current_champion} already serves; this version is registered "
        "for comparison",
    )


@dataclass(frozen=True)
class PromotionRule:
    """How much worse a challenger may look before it is refused (tolerances, on the paired
    95 % interval), and the absolute floors it must pass on the evaluation slice."""

    auc_tolerance: float = 0.01
    log_loss_tolerance: float = 0.005
    min_roc_auc: float | None = None
    max_log_loss: float | None = None


def decide_promotion(
    signal: SignalCheck,
    metrics: dict[str, float],
    rule: PromotionRule,
    comparison: Comparison | None,
) -> Decision:
    """Promote only a challenger with usable signal that passes the floors and, when a champion
    serves, is not worse beyond tolerance on ROC AUC or log loss and better beyond noise on at
    least one of them."""
    if not signal.usable:
        return Decision(
            False, False, "kept: no usable signal, because " + "; and ".join(signal.reasons)
        )
    below = _below_floors(metrics, rule)
    if below:
        return Decision(False, True, "kept: the challenger " + "; and ".join(below))
    if comparison is None:
        return Decision(
            True, True, "promoted: no champion yet, and the challenger passes the floors"
        )
    auc, loss = comparison.difference["roc_auc"], comparison.difference["log_loss"]
    worse = []
    if auc.low < -rule.auc_tolerance:
        worse.append(f"ROC AUC may be lower by more than {rule.auc_tolerance} ({_span(auc)})")
    if loss.high > rule.log_loss_tolerance:
        worse.append(
            f"log loss may be higher by more than {rule.log_loss_tolerance} ({_span(loss)})"
        )
    if worse:
        return Decision(
            False, True, "kept: against the champion, the challenger's " + "; and ".join(worse)
        )
    better = []
    if auc.low > 0:
        better.append(f"ROC AUC higher by {_span(auc, signed=False)}")
    if loss.high < 0:
        better.append(f"log loss lower by {_span(loss, sign=-1, signed=False)}")
    if not better:
        return Decision(
            False,
            True,
            f"kept: the challenger is not better than the champion beyond noise (ROC AUC "
            f"{_span(auc)}, log loss {_span(loss)} on {comparison.leads} shared leads)",
        )
    return Decision(True, True, "promoted: against the champion, " + " and ".join(better))


def _below_floors(metrics: dict[str, float], rule: PromotionRule) -> list[str]:
    below = []
    if rule.min_roc_auc is not None and metrics["roc_auc"] < rule.min_roc_auc:
        below.append(f"ROC AUC {metrics['roc_auc']:.4f} is below the floor {rule.min_roc_auc}")
    if rule.max_log_loss is not None and metrics["log_loss"] > rule.max_log_loss:
        below.append(f"log loss {metrics['log_loss']:.4f} is above the ceiling {rule.max_log_loss}")
    return below


def _span(interval: Interval, sign: int = 1, signed: bool = True) -> str:
    """`sign=-1` turns a drop into a positive amount, for "lower by"."""
    low, high = sorted((sign * interval.low, sign * interval.high))
    form = "+.4f" if signed else ".4f"
    return f"{sign * interval.estimate:{form}}, 95 % interval {low:{form}} to {high:{form}}"
