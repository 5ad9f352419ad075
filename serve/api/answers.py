"""Writing scored leads as the answer: JSON by default, CSV for bulk import tools.

Written directly with orjson (no response-model re-validation): this is the hot path.
"""

from __future__ import annotations

import csv
import io
import math
from typing import Any

import numpy as np
import orjson

from serve.model.scorer import ScoredLeads

CSV_REASON_SEPARATOR = "; "


def answer_order(scored: ScoredLeads, sort: str | None) -> list[int]:
    """Input order, or best first by probability or expected value (a lead without a deal value
    last) with `sort`."""
    if sort is None:
        return list(range(len(scored)))
    if sort == "probability" or scored.expected_value is None:
        key = scored.probability
    else:
        key = np.nan_to_num(scored.expected_value, nan=-1.0)
    return np.argsort(-key, kind="stable").tolist()


def score_rows(scored: ScoredLeads, sort: str | None = None) -> list[dict[str, Any]]:
    """One dict per lead in answer order, with a rank when sorted."""
    probability = scored.probability.tolist()
    score = scored.score.tolist()
    expected = None if scored.expected_value is None else scored.expected_value.tolist()
    rows = []
    for rank, i in enumerate(answer_order(scored, sort), start=1):
        row: dict[str, Any] = {
            "lead_id": scored.lead_ids[i],
            "probability": probability[i],
            "score": score[i],
            "tier": scored.tier[i],
        }
        if expected is not None:
            row["expected_value"] = None if math.isnan(expected[i]) else expected[i]
        if sort is not None:
            row["rank"] = rank
        if scored.explanations is not None:
            row["reasons"] = [reason.to_dict() for reason in scored.explanations[i].reasons]
        rows.append(row)
    return rows


def json_answer(scored: ScoredLeads, model_version: str | None, sort: str | None) -> bytes:
    return orjson.dumps({"model_version": model_version, "scores": score_rows(scored, sort)})


def csv_answer(scored: ScoredLeads, model_version: str | None, sort: str | None) -> str:
    """One line per lead; reasons as their sentences in one column."""
    rows = score_rows(scored, sort)
    columns = ["lead_id", "probability", "score", "tier"]
    columns += [c for c in ("expected_value", "rank") if rows and c in rows[0]]
    columns += ["model_version"] + (["reasons"] if scored.explanations is not None else [])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        row["model_version"] = model_version
        if "reasons" in row:
            row["reasons"] = CSV_REASON_SEPARATOR.join(r["text"] for r in row["reasons"])
        writer.writerow(["" if row[c] is None else row[c] for c in columns])
    return out.getvalue()
