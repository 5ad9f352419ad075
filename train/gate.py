"""The gates a model version passes before it may serve: is there usable signal at all, and
does it become champion.

A model that has learnt nothing still produces confident-looking scores; sales would act on
noise. So a version whose AUC interval includes 0.5 (it may rank no better than chance), or
whose log loss is no better than saying the base rate for every lead, is registered for the
record but never given the `champion` alias.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from train.uncertainty import Interval

CHANCE_AUC = 0.5


@dataclass(frozen=True)
class SignalCheck:
    """Whether the evaluation shows usable signal; `reasons` says why not, in plain words."""

    usable: bool
    reasons: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def check_signal(
    auc_interval: Interval, model_log_loss: float, base_rate_log_loss: float
) -> SignalCheck:
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
    return SignalCheck(usable=not reasons, reasons=reasons)


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
