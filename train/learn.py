"""From the training leads to a fitted lead model: audit, choose features, encode, fit the
booster with early stopping, calibrate, set the tier cut-offs.

This is the whole of what "training" means for a set of leads, without MLflow, so that the
command, the retraining job and the benchmarks all train the same way.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.audit import AuditResult, audit_export
from features.contract import LeadContract
from features.encoder import LeadEncoder
from features.errors import DataError
from features.kinds import feature_kinds
from serve.model.lead_model import LeadModel
from serve.model.tiers import Tiers, to_scores
from train.fit import fit_booster
from train.split import split_rows
from train.tier_cutoffs import tiers_from_capacity, tiers_from_cutoffs, tiers_from_shares
from train.tuning import tune_params

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TierRule:
    """How the tier cut-offs are set: explicit scores, sales capacity, or the default shares."""

    cutoffs: tuple[int, int, int] | None = None
    capacity: int | None = None
    weekly_volume: float | None = None

    def describe(self) -> str:
        if self.cutoffs:
            return f"cut-offs {self.cutoffs[0]}/{self.cutoffs[1]}/{self.cutoffs[2]} given"
        if self.capacity:
            return (
                f"A sized to a capacity of {self.capacity} leads a week "
                f"(about {self.weekly_volume:,.0f} new leads arrive a week)"
            )
        return "A the top 10 %, B the next 20 %, C the next 30 % of scores"

    def tiers(self, validation_scores: np.ndarray) -> Tiers:
        if self.cutoffs:
            return tiers_from_cutoffs(self.cutoffs)
        if self.capacity:
            return tiers_from_capacity(validation_scores, self.capacity, self.weekly_volume or 0)
        return tiers_from_shares(validation_scores)


@dataclass
class LearnedModel:
    model: LeadModel
    audit: AuditResult
    tuned_params: dict


def learn_lead_model(
    frame: pd.DataFrame,
    y: np.ndarray,
    created_at: pd.Series | None,
    contract: LeadContract,
    tier_rule: TierRule = TierRule(),
    tune_seconds: float = 0,
    source: str = "export",
) -> LearnedModel:
    """Fit a lead model on these training leads (`y`: 1 won, 0 lost). With `created_at`,
    early stopping and calibration use the newest of them; without (None), every lead is held
    out once (see `fit_booster`)."""
    audit = audit_export(frame, y, contract, keep=contract.keep)
    candidates = frame.drop(columns=audit.excluded)
    if candidates.columns.difference(list(contract.excluded_columns)).empty:
        raise DataError(
            f"{source}: the audit excluded every feature column ({', '.join(audit.excluded)}); "
            "keep the ones known before handoff with --keep-column NAME"
        )
    kinds = feature_kinds(candidates, contract, source)
    encoder = LeadEncoder.fit(frame, kinds, contract.na_values)
    matrix = encoder.transform(frame)
    inner = split_rows(y, created_at)
    tuned = tune_params(matrix, y, encoder, inner, tune_seconds) if tune_seconds > 0 else {}
    fitted = fit_booster(matrix, y, encoder, inner, tuned)
    tiers = tier_rule.tiers(to_scores(fitted.calibrator.apply(fitted.validation_raw)))
    model = LeadModel(contract, encoder, fitted.booster, fitted.calibrator, tiers)
    return LearnedModel(model, audit, tuned)
