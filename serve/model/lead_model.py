"""The fitted lead model: everything needed to score, saved as plain files (JSON and LightGBM's
own text format) so that loading it runs no pickled code and survives library upgrades.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np

from features.contract import LeadContract
from features.encoder import LeadEncoder
from serve.model.calibrator import Calibrator
from serve.model.tiers import Tiers

BOOSTER_FILE = "booster.txt"
MODEL_FILE = "leadmodel.json"
# Below this many rows LightGBM predicts on one thread: OpenMP's thread start and barrier cost
# more than they save, and on a busy machine they stall until every thread gets a core.
SINGLE_THREAD_ROWS = 256


@dataclass
class LeadModel:
    """Encoder, booster, calibrator and tier cut-offs, with the contract they were trained for."""

    contract: LeadContract
    encoder: LeadEncoder
    booster: lgb.Booster
    calibrator: Calibrator
    tiers: Tiers
    metadata: dict[str, Any] = field(default_factory=dict)

    def probabilities(self, matrix: np.ndarray) -> np.ndarray:
        return self.calibrator.apply(self._predict(matrix, raw_score=True))

    def contributions(self, matrix: np.ndarray) -> np.ndarray:
        """Each feature's additive share of the raw score (log-odds, before calibration), one
        column per input field in encoder order, plus the base value in the last column."""
        return self._predict(matrix, pred_contrib=True)

    def _predict(self, matrix: np.ndarray, **kind: bool) -> np.ndarray:
        threads = 1 if len(matrix) < SINGLE_THREAD_ROWS else 0
        # A dense matrix in, a dense array out (LightGBM returns sparse only for sparse input).
        return np.asarray(self.booster.predict(matrix, num_threads=threads, **kind))

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.booster.save_model(str(folder / BOOSTER_FILE))
        description = {
            "contract": self.contract.to_dict(),
            "encoder": self.encoder.to_dict(),
            "calibrator": self.calibrator.to_dict(),
            "tiers": list(self.tiers.cutoffs),
            "metadata": self.metadata,
        }
        (folder / MODEL_FILE).write_text(json.dumps(description, indent=1), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> LeadModel:
        folder = Path(folder)
        description = json.loads((folder / MODEL_FILE).read_text(encoding="utf-8"))
        return cls(
            contract=LeadContract.from_dict(description["contract"]),
            encoder=LeadEncoder.from_dict(description["encoder"]),
            booster=lgb.Booster(model_file=str(folder / BOOSTER_FILE)),
            calibrator=Calibrator.from_dict(description["calibrator"]),
            tiers=Tiers(tuple(description["tiers"])),
            metadata=description["metadata"],
        )
