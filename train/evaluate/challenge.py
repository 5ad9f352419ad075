"""Challenger against champion on the same evaluation leads, neither of which trained on them:
a paired bootstrap of the difference, so a change is judged against the noise of those leads."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from serve.model.metrics import Interval
from train.evaluate.bootstrap import Bootstrap

COMPARED_METRICS = ("roc_auc", "log_loss")
MIN_SHARED_LEADS = 50
MIN_SHARED_PER_CLASS = 5
TRAINED_LEADS_FILE = "trained_leads.npy"  # a training run's artifact: `lead_id_hashes`


@dataclass(frozen=True)
class Comparison:
    """Both models' metrics with intervals, and the paired challenger-minus-champion ones."""

    leads: int
    challenger: dict[str, Interval]
    champion: dict[str, Interval]
    difference: dict[str, Interval]

    def to_dict(self) -> dict:
        def spans(values: dict[str, Interval]) -> dict:
            return {metric: span.to_dict() for metric, span in values.items()}

        return {
            "leads": self.leads,
            "challenger": spans(self.challenger),
            "champion": spans(self.champion),
            "challenger_minus_champion": spans(self.difference),
        }


def compare(y: np.ndarray, challenger: np.ndarray, champion: np.ndarray) -> Comparison:
    bootstrap = Bootstrap(y, {"challenger": challenger, "champion": champion}, COMPARED_METRICS)
    return Comparison(
        leads=len(y),
        challenger={m: bootstrap.interval("challenger", m) for m in COMPARED_METRICS},
        champion={m: bootstrap.interval("champion", m) for m in COMPARED_METRICS},
        difference={m: bootstrap.difference("challenger", "champion", m) for m in COMPARED_METRICS},
    )


def unseen_by_champion(
    leads: int,
    created_at: pd.Series | None,
    trained_through: str | None,
    lead_ids: pd.Series | None = None,
    champion_leads: np.ndarray | None = None,
) -> np.ndarray:
    """Which of `leads` evaluation leads the champion cannot have trained on: with created-at
    times on both sides, those created after its newest training lead, so that the champion,
    like the challenger, is judged on leads newer than any it learnt from; and, with the lead
    ids it learnt from (`champion_leads`, see `lead_id_hashes`), those whose id is not among
    them (a lead whose time was unusable in the champion's export, or that an export dates
    anew, is still one it learnt from). With neither, all of them."""
    unseen = np.ones(leads, dtype=bool)
    if created_at is not None and trained_through is not None:
        unseen &= (created_at > pd.Timestamp(trained_through)).to_numpy()
    if lead_ids is not None and champion_leads is not None:
        unseen &= ~np.isin(lead_id_hashes(lead_ids), champion_leads)
    return unseen


def lead_id_hashes(lead_ids: pd.Series) -> np.ndarray:
    """The lead ids as sorted 64-bit hashes of their text: eight bytes a lead, enough to tell
    which leads a model learnt from without keeping the ids themselves."""
    text = lead_ids.astype("str")
    return np.unique(pd.util.hash_pandas_object(text, index=False).to_numpy())


def enough_leads(y: np.ndarray) -> bool:
    won = int(y.sum())
    return len(y) >= MIN_SHARED_LEADS and min(won, len(y) - won) >= MIN_SHARED_PER_CLASS
