"""From the training leads to a fitted lead model: audit, choose features, encode, fit both
candidates (LightGBM and the logistic regression) on the same folds, choose between them or a
blend by held-out log loss, calibrate on held-out scores, set the tier cut-offs.

This is the whole of what "training" means for a set of leads, without MLflow, so that the
command, the retraining job and the benchmarks all train the same way. `refit_lead_model` then
repeats the recipe on more leads (all the labeled ones) for the model that serves.
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
from serve.model.calibrator import Calibrator
from serve.model.lead_model import LeadModel
from serve.model.learners import LinearLearner, TreeLearner
from serve.model.scorer import SCORE_COLUMNS
from serve.model.tiers import Tiers, to_scores
from train.calibration import fit_calibrator
from train.candidates import CandidateChoice, HeldOutScores, choose_weight, combine
from train.fit import TreeRecipe, fit_trees, refit_trees
from train.linear import cross_fit_linear, fit_linear
from train.split import validation_folds
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


@dataclass(frozen=True)
class Recipe:
    """What learning chose that a refit on more leads repeats: the fields and their kinds (after
    the audit), the booster's settings and trees per lead, and the blend weight."""

    kinds: dict[str, str]
    trees: TreeRecipe
    weight: float


@dataclass
class LearnedModel:
    """The model learnt from the training leads, how it was chosen, and both candidates as
    fitted: the logistic regression is also the baseline it is judged against."""

    model: LeadModel
    audit: AuditResult
    tuned_params: dict
    recipe: Recipe
    choice: CandidateChoice
    held_out: HeldOutScores
    trees: TreeLearner
    baseline: LinearLearner

    def candidate_scores(
        self, frame: pd.DataFrame, y: np.ndarray, order: pd.Series | None
    ) -> HeldOutScores:
        """Both candidates' raw scores of other leads (ones they never trained on)."""
        matrix = self.model.encoder.transform(frame)
        trees, linear = self.trees.raw_scores(matrix), self.baseline.raw_scores(matrix)
        return HeldOutScores(trees, linear, y, None if order is None else order.to_numpy())


def learn_lead_model(
    frame: pd.DataFrame,
    y: np.ndarray,
    order: pd.Series | None,
    contract: LeadContract,
    tier_rule: TierRule = TierRule(),
    tune_seconds: float = 0,
    source: str = "export",
) -> LearnedModel:
    """Fit a lead model on these training leads (`y`: 1 won, 0 lost). `order` (created-at
    times, or any key that sorts the leads as they came) makes the validation folds stretches
    of time; without it (None) they are random and stratified (see `validation_folds`)."""
    audit = audit_export(frame, y, contract, keep=contract.keep)
    candidates = frame.drop(columns=audit.excluded)
    if candidates.columns.difference(list(contract.excluded_columns)).empty:
        raise DataError(
            f"{source}: the audit excluded every feature column ({', '.join(audit.excluded)}); "
            "keep the ones known before handoff with --keep-column NAME"
        )
    kinds = feature_kinds(candidates, contract, source)
    refuse_score_column_names([*kinds, contract.value], source)
    encoder = LeadEncoder.fit(frame, kinds, contract.na_values)
    matrix = encoder.transform(frame)
    folds = validation_folds(y, order)
    tuned = tune_params(matrix, y, encoder, folds, tune_seconds) if tune_seconds > 0 else {}
    trees = fit_trees(matrix, y, encoder, folds, tuned)
    linear = cross_fit_linear(matrix, y, encoder, folds)
    held = ~np.isnan(trees.held_out_raw)
    times = None if order is None else order.to_numpy()
    scores = HeldOutScores(trees.held_out_raw, linear.held_out_raw, y, times).rows(held)
    choice = choose_weight(scores)
    learner = combine(choice.weight, trees.learner, linear.learner)
    calibrator, tiers = calibrate(scores, choice.weight, tier_rule)
    model = LeadModel(contract, encoder, learner, calibrator, tiers)
    recipe = Recipe(kinds, trees.recipe, choice.weight)
    return LearnedModel(model, audit, tuned, recipe, choice, scores, trees.learner, linear.learner)


def refuse_score_column_names(columns: list[str | None], source: str) -> None:
    """A column the model reads may not have the name of one scoring writes: a scored file
    would lose it, and scoring that file again would read leadscore's output as the field."""
    clashing = [column for column in columns if column in SCORE_COLUMNS]
    if clashing:
        name = clashing[0]
        raise DataError(
            f"{source}: column '{name}' has the name of a column scoring writes "
            f"({', '.join(SCORE_COLUMNS)}), so scored files would replace it; rename it in "
            f"the export (e.g. 'crm_{name}') or leave it out with --drop {name}"
        )


def refit_lead_model(
    learned: LearnedModel,
    frame: pd.DataFrame,
    y: np.ndarray,
    more_held_out: HeldOutScores,
    tier_rule: TierRule = TierRule(),
) -> LeadModel:
    """The same recipe fitted on `frame` (more leads than it learnt from: all the labeled
    ones): the same fields, the encoder refitted (categories new in the newest leads become
    known), the booster with its trees scaled to the leads, the same blend weight. Calibrated
    on the held-out scores learning had and `more_held_out` (the candidates' scores of the
    leads they did not train on)."""
    contract, recipe = learned.model.contract, learned.recipe
    encoder = LeadEncoder.fit(frame, recipe.kinds, contract.na_values)
    matrix = encoder.transform(frame)
    trees = refit_trees(matrix, y, encoder, recipe.trees) if recipe.weight > 0 else None
    linear = fit_linear(matrix, y, encoder) if recipe.weight < 1 else None
    learner = combine(recipe.weight, trees, linear)
    calibrator, tiers = calibrate(learned.held_out + more_held_out, recipe.weight, tier_rule)
    return LeadModel(contract, encoder, learner, calibrator, tiers)


def calibrate(
    scores: HeldOutScores, weight: float, tier_rule: TierRule
) -> tuple[Calibrator, Tiers]:
    """The calibrator of the blend's held-out scores, and tier cut-offs from their scores."""
    blended = scores.blend(weight)
    calibrator = fit_calibrator(blended, scores.y, scores.calibration_weights())
    return calibrator, tier_rule.tiers(to_scores(calibrator.apply(blended)))
