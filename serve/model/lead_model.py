"""The fitted lead model: everything needed to score, saved as plain files (JSON, and LightGBM's
own text format when the learner has a booster) so that loading it runs no pickled code and
survives library upgrades. A model saved before learners other than LightGBM existed has no
`learner` entry and loads as a LightGBM learner.

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

import numpy as np

from features.contract import LeadContract
from features.encoder import LeadEncoder
from features.errors import LeadscoreError
from serve.model.calibrator import Calibrator
from serve.model.learners import LIGHTGBM, Learner, learner_from_dict, needs_booster
from serve.model.tiers import Tiers

BOOSTER_FILE = "booster.txt"
MODEL_FILE = "leadmodel.json"
CHECKSUM_FILE = "checksums.json"


class ModelIntegrityError(LeadscoreError):
    """A saved model's files are missing or differ from what was saved."""


@dataclass
class LeadModel:
    """Encoder, learner, calibrator and tier cut-offs, with the contract they were trained for."""

    contract: LeadContract
    encoder: LeadEncoder
    learner: Learner
    calibrator: Calibrator
    tiers: Tiers
    metadata: dict[str, Any] = field(default_factory=dict)

    def raw_scores(self, matrix: np.ndarray) -> np.ndarray:
        """The learner's score in log-odds, before calibration."""
        return self.learner.raw_scores(matrix)

    def probabilities(self, matrix: np.ndarray) -> np.ndarray:
        return self.calibrator.apply(self.raw_scores(matrix))

    def contributions(self, matrix: np.ndarray) -> np.ndarray:
        """Each feature's additive share of the raw score (log-odds, before calibration), one
        column per input field in encoder order, plus the base value in the last column."""
        return self.learner.contributions(matrix)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        files = [MODEL_FILE]
        if self.learner.booster is not None:
            self.learner.booster.save_model(str(folder / BOOSTER_FILE))
            files.append(BOOSTER_FILE)
        description = {
            "contract": self.contract.to_dict(),
            "encoder": self.encoder.to_dict(),
            "learner": self.learner.to_dict(),
            "calibrator": self.calibrator.to_dict(),
            "tiers": list(self.tiers.cutoffs),
            "metadata": self.metadata,
        }
        (folder / MODEL_FILE).write_text(json.dumps(description, indent=1), encoding="utf-8")
        checksums = {name: _sha256((folder / name).read_bytes()) for name in files}
        (folder / CHECKSUM_FILE).write_text(json.dumps(checksums, indent=1), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> LeadModel:
        """Load a saved model; ModelIntegrityError if a file is missing or was changed since
        `save`. The files are read once, checked, and parsed from what was checked."""
        folder = Path(folder)
        description = json.loads(_checked_contents(folder, MODEL_FILE))
        learner = description.get("learner", {"kind": LIGHTGBM})
        booster = _checked_contents(folder, BOOSTER_FILE) if needs_booster(learner) else None
        return cls(
            contract=LeadContract.from_dict(description["contract"]),
            encoder=LeadEncoder.from_dict(description["encoder"]),
            learner=learner_from_dict(learner, booster.decode("utf-8") if booster else None),
            calibrator=Calibrator.from_dict(description["calibrator"]),
            tiers=Tiers(tuple(description["tiers"])),
            metadata=description["metadata"],
        )


_ADVICE = "use another version ('leadscore rollback' moves champion back) or train again"


def _checked_contents(folder: Path, name: str) -> bytes:
    """A model file's bytes, once their sha256 matches the one `save` recorded."""
    try:
        recorded = json.loads((folder / CHECKSUM_FILE).read_text(encoding="utf-8"))
        content = (folder / name).read_bytes()
    except (OSError, ValueError) as exc:
        raise ModelIntegrityError(f"the model in {folder} is incomplete: {exc}; {_ADVICE}") from exc
    if not isinstance(recorded, dict) or recorded.get(name) != _sha256(content):
        raise ModelIntegrityError(
            f"the model file {name} ({len(content)} bytes) does not match the checksum "
            f"recorded when the model was saved: it was damaged or changed since; {_ADVICE}"
        )
    return content


def _sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()
