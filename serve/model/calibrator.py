"""The calibrator the model scores with: the learner's raw score to a probability, as a lookup
(isotonic) or a logistic curve (sigmoid), stored as plain numbers. Fitting it is training's job
(`train.calibration`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PROBABILITY_FLOOR = 1e-4


@dataclass(frozen=True)
class Calibrator:
    method: str
    x: tuple[float, ...] = ()
    y: tuple[float, ...] = ()
    slope: float = 1.0
    intercept: float = 0.0

    def apply(self, raw_score: np.ndarray) -> np.ndarray:
        if self.method == "isotonic":
            probability = np.interp(raw_score, self.x, self.y)
        else:
            probability = 1.0 / (1.0 + np.exp(-(self.slope * raw_score + self.intercept)))
        return np.clip(probability, PROBABILITY_FLOOR, 1 - PROBABILITY_FLOOR)

    def to_dict(self) -> dict:
        return {
            "method": self.method,
            "x": list(self.x),
            "y": list(self.y),
            "slope": self.slope,
            "intercept": self.intercept,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Calibrator:
        return cls(
            data["method"], tuple(data["x"]), tuple(data["y"]), data["slope"], data["intercept"]
        )
