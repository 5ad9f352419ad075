"""The leakage and data-quality audit, run on the training leads before anything is fitted.

A column filled in after the outcome (a rep's disposition, a close date, a 'last activity'
overwritten while the lead was worked) makes a model look brilliant and useless: it is not known
when a new lead must be scored. The audit looks for the signs of such a column and excludes it,
with the evidence in numbers; `keep` (`--keep-column`) overrides it for a column the user knows
to be known at scoring time.

Signs of a leak. One strong sign is enough:
- a name typical of a field filled in after handoff (stage, status, disposition, close date,
  notes, 'last ...');
- the column alone ranks won above lost leads almost perfectly (one-column ROC AUC >= 0.90);
- whether it is filled in depends almost entirely on the outcome;
- categories that are (nearly) all one class hold a large share of the leads.
Weaker signs count when two of them meet: it separates sharply where it is filled in, some
(nearly) one-class categories hold a fair share of the leads, filled in far more often for one
class, or it predicts far better than every other column. Honest strong features (time on the
website, budget approved) show at most one of these.

Quality findings are reported and only excluded when the column cannot carry information:
empty and constant columns, identifier-like columns. Near-constant columns, duplicated rows,
values that look like a "missing" sentinel and outcome-dependent missingness are reported only.
So is an outcome rate that drifts along the rows of an export with no created-at column and no
declared order: exports are often sorted by creation, and a random split then hides the drift.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import binom, chi2_contingency, rankdata
from sklearn.model_selection import StratifiedKFold

from features.contract import LeadContract
from features.errors import ContractError
from features.kinds import infer_kind, is_identifier_like
from features.values import canonical_text_series

log = logging.getLogger(__name__)

MAX_AUDIT_ROWS = 200_000
STRONG_AUC = 0.90
FILLED_AUC = 0.80
FAR_ABOVE_RATIO = 2.0
MISSINGNESS_GAP_STRONG = 0.60
MISSINGNESS_GAP = 0.30
DECISIVE_SHARE_STRONG = 0.30
DECISIVE_SHARE = 0.05
DECISIVE_UNCERTAINTY_LEFT = 0.10
DECISIVE_MIN_LEADS = 20
DECISIVE_SURPRISE = 1e-6
NEAR_CONSTANT_SHARE = 0.99
NUMERIC_BINS = 20
ORDER_STRETCHES = 10
ORDER_DRIFT_SURPRISE = 1e-6
ORDER_DRIFT_SHARE = 0.25
LEAK_REASON = "likely filled in after the outcome"
ORDER_DRIFT_REASON = "outcome rate drifts along the rows"
REPEATED_IDS_REASON = "repeated lead ids"
MISSING_IDS_REASON = "leads without an id"
INFINITE_REASON = "infinite values"
# Not excluding, but logged.
WARNED_REASONS = (ORDER_DRIFT_REASON, REPEATED_IDS_REASON, MISSING_IDS_REASON, INFINITE_REASON)

POST_HANDOFF_NAMES = re.compile(
    r"^(?:(?:lead|deal|opportunity|opp|sales|crm|call|current|final|rep)\s)?"
    r"(?:stage|status|disposition|outcome|result|notes?|comments?)$"
    r"|^(?:close|closed|closing|won|lost|loss|win)(?:\s(?:date|at|on|time|value|amount|reason))?$"
    r"|^(?:date|reason)\s(?:closed|won|lost)$"
    r"|^(?:last|latest|most\srecent)\s.+"
)
SENTINEL_TEXT = re.compile(
    r"^(?:select(?:\s.*)?|-+|\?+|\.|n/?a|#n/a|null|nil|nan|unknown|undefined|"
    r"not\s(?:specified|provided|available))$",
    re.IGNORECASE,
)
SENTINEL_NUMBERS = (-1.0, -99.0, -999.0, -9999.0, 9999.0, 99999.0, 999999.0)


@dataclass(frozen=True)
class Finding:
    """One thing the audit noticed; `column` is None for findings about whole rows."""

    column: str | None
    reason: str
    evidence: str
    excluded: bool

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class AuditResult:
    findings: list[Finding]
    missing_share: dict[str, float] = field(default_factory=dict)
    kept_on_request: tuple[str, ...] = ()

    @property
    def excluded(self) -> list[str]:
        return [f.column for f in self.findings if f.excluded and f.column is not None]

    @property
    def excluded_as_leaks(self) -> list[str]:
        """The columns excluded because they are likely filled in after the outcome."""
        return [
            c
            for c in self.excluded
            if any(f.column == c and f.reason == LEAK_REASON for f in self.findings)
        ]

    def to_list(self) -> list[dict]:
        return [f.to_dict() for f in self.findings]


@dataclass(frozen=True)
class _ColumnSigns:
    """The numbers behind the leak verdict of one column."""

    auc: float
    filled_auc: float | None
    filled_won: float
    filled_lost: float
    decisive_share: float
    decisive_examples: str


def audit_export(
    frame: pd.DataFrame, y: np.ndarray, contract: LeadContract, keep: Iterable[str] = ()
) -> AuditResult:
    """Audit every candidate feature column of the training leads (`y`: 1 won, 0 lost)."""
    keep = tuple(dict.fromkeys(keep))
    columns = [c for c in frame.columns if c not in contract.excluded_columns]
    _check_keep(keep, columns)
    findings = [] if contract.time or contract.order else _order_drift(np.asarray(y))
    findings.extend(_id_findings(frame, contract.id))
    frame, y = _sample(frame[columns], np.asarray(y))
    findings.extend(_duplicate_rows(frame))
    signs: dict[str, _ColumnSigns] = {}
    for column in columns:
        text = canonical_text_series(frame[column])
        quality = _quality_findings(text, frame[column], column)
        findings.extend(quality)
        if not any(f.excluded for f in quality):
            codes = _codes(text, frame[column], contract.kinds.get(column))
            signs[column] = _column_signs(codes, text, y)
    usable = list(signs)
    for column in usable:
        leak = _leak_finding(column, signs, keep)
        if leak is not None:
            findings.append(leak)
        else:
            findings.extend(_missingness_note(column, signs[column]))
    missing_share = {c: round(float(frame[c].isna().mean()), 4) for c in columns}
    result = AuditResult(findings, missing_share, keep)
    for finding in result.findings:
        if finding.excluded:
            log.warning(
                "audit excludes %s: %s (%s)", finding.column, finding.reason, finding.evidence
            )
        elif finding.reason in WARNED_REASONS:
            log.warning("audit: %s: %s", finding.reason, finding.evidence)
    return result


def _check_keep(keep: tuple[str, ...], columns: list[str]) -> None:
    unknown = [c for c in keep if c not in columns]
    if unknown:
        raise ContractError(
            f"--keep-column {unknown[0]!r} is not a feature column of the export; "
            f"the feature columns are: {', '.join(columns)}"
        )


def _sample(frame: pd.DataFrame, y: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """The audit's statistics are stable long before a million rows: use at most 200,000."""
    if len(frame) <= MAX_AUDIT_ROWS:
        return frame.reset_index(drop=True), y
    rows = np.sort(np.random.default_rng(0).choice(len(frame), MAX_AUDIT_ROWS, replace=False))
    return frame.iloc[rows].reset_index(drop=True), y[rows]


def _codes(text: pd.Series, series: pd.Series, declared_kind: str | None) -> np.ndarray:
    """One integer per row: the category, or the quantile bin of a number; -1 when missing."""
    kind = declared_kind or (infer_kind(series) if series.notna().any() else "categorical")
    if kind == "numeric":
        ranks = pd.to_numeric(text, errors="coerce").rank(method="dense")
        bins = pd.qcut(ranks, NUMERIC_BINS, labels=False, duplicates="drop")
        return bins.fillna(-1).to_numpy(int)
    return pd.factorize(text, use_na_sentinel=True)[0]


def _order_drift(y: np.ndarray) -> list[Finding]:
    """A finding when the won share differs across ten stretches of rows beyond chance and moves
    from the first fifth of the rows to the last by a quarter of the smaller class's share."""
    if len(y) < 10 * ORDER_STRETCHES:
        return []
    stretches = np.array_split(y, ORDER_STRETCHES)
    won = np.array([part.sum() for part in stretches])
    table = np.vstack([won, [len(part) for part in stretches] - won])
    surprise = float(chi2_contingency(table)[1])
    fifth = len(y) // 5
    first, last = float(y[:fifth].mean()), float(y[-fifth:].mean())
    base = float(y.mean())
    if surprise >= ORDER_DRIFT_SURPRISE or abs(last - first) < ORDER_DRIFT_SHARE * min(
        base, 1 - base
    ):
        return []
    return [
        Finding(
            None,
            ORDER_DRIFT_REASON,
            f"{first:.0%} of leads won in the first fifth of the rows, {last:.0%} in the last "
            f"(chance of such differences along the rows: {surprise:.0e}); with no created-at "
            "column the split is random, which hides drift: if the rows follow creation, say "
            'so with order = "file" in the contract (order = "id" if the ids do), or give '
            "--time COLUMN",
            excluded=False,
        )
    ]


def _id_findings(frame: pd.DataFrame, id_column: str | None) -> list[Finding]:
    """Leads without an id, and lead ids on more than one row (one lead counted twice, or ids
    reused): outcomes and the retraining job's comparison go by id."""
    if not id_column or id_column not in frame.columns:
        return []
    findings = []
    missing = int(frame[id_column].isna().sum())
    if missing:
        evidence = (
            f"{missing:,} leads have no id ({missing / len(frame):.1%}): outcomes are matched to "
            "leads by id, so theirs never can be; check the export's id column"
        )
        findings.append(Finding(id_column, MISSING_IDS_REASON, evidence, excluded=False))
    ids = frame[id_column].dropna().astype("str")
    repeated = ids[ids.duplicated(keep=False)]
    if not repeated.empty:
        examples = ", ".join(repr(v) for v in repeated.unique()[:3])
        evidence = (
            f"{repeated.nunique():,} lead ids are on more than one row ({len(repeated):,} rows; "
            f"e.g. {examples}); a lead should be one row: check the export for double entries "
            "or reused ids"
        )
        findings.append(Finding(id_column, REPEATED_IDS_REASON, evidence, excluded=False))
    return findings


def _duplicate_rows(frame: pd.DataFrame) -> list[Finding]:
    duplicated = int(frame.duplicated().sum())
    if not duplicated:
        return []
    return [
        Finding(
            None,
            "duplicated rows",
            f"{duplicated:,} {'lead repeats' if duplicated == 1 else 'leads repeat'} another "
            f"lead's every feature value ({duplicated / len(frame):.1%}); check the export for "
            "double entries",
            excluded=False,
        )
    ]


def _quality_findings(text: pd.Series, series: pd.Series, column: str) -> list[Finding]:
    counts = text.value_counts()
    if counts.empty:
        return [Finding(column, "empty", "no value in any lead", excluded=True)]
    if len(counts) == 1:
        return [Finding(column, "constant", f"every lead has {counts.index[0]!r}", excluded=True)]
    if is_identifier_like(series):
        evidence = f"{len(counts):,} different values in {int(counts.sum()):,} leads"
        return [Finding(column, "identifier-like", evidence, excluded=True)]
    findings = []
    if counts.iloc[0] >= NEAR_CONSTANT_SHARE * len(text):
        findings.append(
            Finding(
                column,
                "near-constant",
                f"{counts.iloc[0]:,} of {len(text):,} leads have {counts.index[0]!r}: the other "
                "values are too rare to learn from",
                excluded=False,
            )
        )
    numbers = pd.to_numeric(pd.Series(counts.index), errors="coerce").to_numpy(float)
    findings.extend(_sentinel_findings(counts, numbers, column, len(series)))
    findings.extend(_infinity_findings(counts, numbers, column))
    return findings


def _sentinel_findings(
    counts: pd.Series, numbers: np.ndarray, column: str, rows: int
) -> list[Finding]:
    """Values that look like a stand-in for 'missing': by their text ('n/a', 'Select'), or a
    number such as -1 or 9999 standing apart from the column's other numbers (no other negative
    number beside a negative one, none above half of a large one)."""
    listed = np.isin(numbers, SENTINEL_NUMBERS)
    others = numbers[~listed & np.isfinite(numbers)]
    numeric = not bool(np.isnan(numbers).any())
    findings = []
    for (value, count), number in zip(counts.items(), numbers, strict=True):
        by_text = bool(SENTINEL_TEXT.match(str(value)))
        apart = (number < 0 and not (others < 0).any()) or (
            number > 0 and not (others > number / 2).any()
        )
        by_number = numeric and number in SENTINEL_NUMBERS and apart
        if by_text or by_number:
            findings.append(
                Finding(
                    column,
                    "sentinel value",
                    f"{value!r} in {count:,} leads ({count / rows:.1%}) looks like a stand-in for "
                    f"'missing'; if it is, add --na-values {value!r}",
                    excluded=False,
                )
            )
    return findings


def _infinity_findings(counts: pd.Series, numbers: np.ndarray, column: str) -> list[Finding]:
    """Infinite numbers (an overflow or a division by zero in the export) are read as missing,
    in training and in scoring alike: say how many there are."""
    infinite = np.isinf(numbers)
    if not infinite.any():
        return []
    leads = int(counts[infinite].sum())
    examples = ", ".join(map(repr, counts.index[infinite][:2]))
    evidence = (
        f"{leads:,} leads have an infinite number ({examples}) in {column!r}: read as missing; "
        "fix the export's formula if these leads have a real value"
    )
    return [Finding(column, INFINITE_REASON, evidence, excluded=False)]


def _column_signs(codes: np.ndarray, text: pd.Series, y: np.ndarray) -> _ColumnSigns:
    filled = codes >= 0
    filled_won, filled_lost = float(filled[y == 1].mean()), float(filled[y == 0].mean())
    filled_auc = None
    if 0 < filled.mean() < 1 and min(y[filled].sum(), (1 - y[filled]).sum()) >= 30:
        filled_auc = one_column_auc(codes[filled], y[filled])
    share, examples = _decisive_categories(text[filled], y[filled], len(y))
    return _ColumnSigns(
        auc=one_column_auc(codes, y),
        filled_auc=filled_auc,
        filled_won=filled_won,
        filled_lost=filled_lost,
        decisive_share=share,
        decisive_examples=examples,
    )


def one_column_auc(codes: np.ndarray, y: np.ndarray, folds: int = 5) -> float:
    """ROC AUC of one column alone (`codes`: one integer per category or bin, -1 missing): each
    lead is scored by the smoothed conversion rate of its code among the other folds' leads, so a
    column with a different value on every lead gains nothing."""
    slots = codes + 1
    size = int(slots.max()) + 1
    score = np.empty(len(y))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    for fit_rows, score_rows in splitter.split(np.zeros(len(y)), y):
        prior = y[fit_rows].mean()
        won = np.bincount(slots[fit_rows], weights=y[fit_rows], minlength=size)
        seen = np.bincount(slots[fit_rows], minlength=size)
        score[score_rows] = ((won + 10 * prior) / (seen + 10))[slots[score_rows]]
    return rank_auc(y, score)


def rank_auc(y: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC from ranks (ties count one half): the chance a won lead outscores a lost one."""
    won = y == 1
    n_won, n_lost = int(won.sum()), int(len(y) - won.sum())
    if not n_won or not n_lost:
        return 0.5
    ranks = rankdata(score)
    return float((ranks[won].sum() - n_won * (n_won + 1) / 2) / (n_won * n_lost))


def _decisive_categories(text: pd.Series, y: np.ndarray, rows: int) -> tuple[float, str]:
    """Share of all leads in categories that leave almost no doubt about the outcome (at most a
    tenth of the base rate's uncertainty left) and are too large for that to be chance."""
    if len(y) == 0:
        return 0.0, ""
    base = y.mean()
    codes, values = pd.factorize(text.to_numpy())
    count = np.bincount(codes, minlength=len(values))
    won = np.bincount(codes, weights=y, minlength=len(values))
    lost = count - won
    rate = won / np.maximum(count, 1)
    large = count >= DECISIVE_MIN_LEADS
    low = (rate <= DECISIVE_UNCERTAINTY_LEFT * base) & (
        binom.cdf(won, count, base) < DECISIVE_SURPRISE
    )
    high = (1 - rate <= DECISIVE_UNCERTAINTY_LEFT * (1 - base)) & (
        binom.cdf(lost, count, 1 - base) < DECISIVE_SURPRISE
    )
    decisive = np.flatnonzero(large & (low | high))
    decisive = decisive[np.argsort(-count[decisive], kind="stable")]
    examples = "; ".join(
        f"{values[i]!r}: {count[i]:,} leads, {rate[i]:.0%} won" for i in decisive[:3]
    )
    return float(count[decisive].sum() / rows), examples


def _leak_finding(
    column: str, signs: dict[str, _ColumnSigns], keep: tuple[str, ...]
) -> Finding | None:
    mine = signs[column]
    best_other = max((s.auc for c, s in signs.items() if c != column), default=0.5)
    gap = abs(mine.filled_won - mine.filled_lost)
    strong, weak = [], []
    if POST_HANDOFF_NAMES.match(_spoken(column)):
        strong.append("its name is typical of a field filled in after handoff")
    if mine.auc >= STRONG_AUC:
        strong.append(f"alone it ranks won above lost leads with ROC AUC {mine.auc:.3f}")
    if gap >= MISSINGNESS_GAP_STRONG:
        strong.append(_filled_text(mine))
    if mine.decisive_share >= DECISIVE_SHARE_STRONG:
        strong.append(_decisive_text(mine))
    if mine.filled_auc is not None and mine.filled_auc >= FILLED_AUC:
        weak.append(
            f"where filled in it separates won from lost with ROC AUC {mine.filled_auc:.3f}"
        )
    if DECISIVE_SHARE <= mine.decisive_share < DECISIVE_SHARE_STRONG:
        weak.append(_decisive_text(mine))
    if MISSINGNESS_GAP <= gap < MISSINGNESS_GAP_STRONG:
        weak.append(_filled_text(mine))
    if mine.auc - 0.5 >= FAR_ABOVE_RATIO * max(best_other - 0.5, 0.01) and mine.auc < STRONG_AUC:
        weak.append(
            f"its ROC AUC alone, {mine.auc:.3f}, is far above the best other column's "
            f"{best_other:.3f}"
        )
    if not strong and len(weak) < 2:
        return None
    signs_text = "; ".join(strong + weak)
    evidence = (
        f"{signs_text}; one-column ROC AUC {mine.auc:.3f} (best other column {best_other:.3f})"
    )
    if column in keep:
        return Finding(
            column,
            LEAK_REASON,
            evidence + "; kept with --keep-column",
            excluded=False,
        )
    return Finding(column, LEAK_REASON, evidence, excluded=True)


def _missingness_note(column: str, signs: _ColumnSigns) -> list[Finding]:
    if abs(signs.filled_won - signs.filled_lost) < MISSINGNESS_GAP:
        return []
    evidence = f"{_filled_text(signs)}; kept: no other sign of a field filled in after the outcome"
    return [Finding(column, "missingness depends on the outcome", evidence, excluded=False)]


def _filled_text(signs: _ColumnSigns) -> str:
    return (
        f"filled in for {signs.filled_won:.0%} of won leads but {signs.filled_lost:.0%} of "
        "lost leads"
    )


def _decisive_text(signs: _ColumnSigns) -> str:
    return (
        f"categories that are almost all one class hold {signs.decisive_share:.0%} of leads "
        f"({signs.decisive_examples})"
    )


def _spoken(column: str) -> str:
    """'closeDate', 'Close_Date' and 'close date' all read as 'close date'."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", column)
    return re.sub(r"[^a-z0-9]+", " ", spaced.lower()).strip()
