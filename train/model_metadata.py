"""What a trained model carries besides its parameters: its evaluation, what it was trained on,
its drift reference and its default deal value."""

from __future__ import annotations

import numpy as np
import pandas as pd


def default_deal_value(values: pd.Series, won: np.ndarray) -> float | None:
    """Median deal value of won leads; None when none of them has a readable value."""
    numbers = pd.to_numeric(values[won.astype(bool)], errors="coerce").dropna()
    return float(numbers.median()) if len(numbers) else None
