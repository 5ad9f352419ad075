"""The fitted lead model: everything needed to score, saved as plain files (JSON and LightGBM's
own text format) so that loading it runs no pickled code and survives library upgrades.

`save` also writes the sha256 of each file, and `load` checks them before LightGBM parses the
booster: LightGBM aborts the whole process on many damaged booster files (no Python `try` can
catch that), so a damaged or truncated model must be refused before it is parsed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np

from features.contract import LeadContract
from features.encoder import LeadEncoder
from features.errors import LeadscoreError
from serve.model.calibrator import Calibrator
from serve.model.tiers import Tiers

BOOSTER_FILE = "booster.txt"
MODEL_FILE = "leadmodel.json"
CHECKSUM_FILE = "checksums.json"
# Below this many rows LightGBM predicts on one thread: OpenMP's thread start and barrier cost
# more than they save, and on a busy machine they stall until every thread gets a core.
SINGLE_THREAD_ROWS = 256


class ModelIntegrityError(LeadscoreError):
    """A saved model's files are missing or differ from what was saved."""


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
        checksums = {name: _sha256((folder / name).read_bytes()) for name in _CHECKED_FILES}
        (folder / CHECKSUM_FILE).write_text(json.dumps(checksums, indent=1), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> LeadModel:
        """Load a saved model; ModelIntegrityError if a file is missing or was changed since
        `save`. The files are read once, checked, and parsed from what was checked."""
        contents = _checked_contents(Path(folder))
        description = json.loads(contents[MODEL_FILE])
        return cls(
            contract=LeadContract.from_dict(description["contract"]),
            encoder=LeadEncoder.from_dict(description["encoder"]),
            booster=lgb.Booster(model_str=contents[BOOSTER_FILE].decode("utf-8")),
            calibrator=Calibrator.from_dict(description["calibrator"]),
            tiers=Tiers(tuple(description["tiers"])),
            metadata=description["metadata"],
        )


_CHECKED_FILES = (BOOSTER_FILE, MODEL_FILE)
_ADVICE = "use another version ('leadscore rollback' moves champion back) or train again"


def _checked_contents(folder: Path) -> dict[str, bytes]:
    """Each model file's bytes, once their sha256 matches the one `save` recorded."""
    try:
        recorded = json.loads((folder / CHECKSUM_FILE).read_text(encoding="utf-8"))
        contents = {name: (folder / name).read_bytes() for name in _CHECKED_FILES}
    except (OSError, ValueError) as exc:
        raise ModelIntegrityError(f"the model in {folder} is incomplete: {exc}; {_ADVICE}") from exc
    for name, content in contents.items():
        if not isinstance(recorded, dict) or recorded.get(name) != _sha256(content):
            raise ModelIntegrityError(
                f"the model file {name} ({len(content)} bytes) does not match the checksum "
                f"recorded when the model was saved: it was damaged or changed since; {_ADVICE}"
            )
    return contents


def _sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()
