"""Fit and engagement: which fields say who a lead is (industry, company size, title, budget,
purchase timeline) and which say what the lead did (visits, opens, clicks, demo requests).

Sales and marketing agree on a qualified lead more easily when the two are apart: fit is what
sales can check on a call, engagement is what marketing can move. The contract's `fit` and
`engagement` lists decide; a field named in neither is guessed from its name (words of
behaviour mean engagement), unless only one list is given, when every other field is of the
other group.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from features.contract import LeadContract

FIT, ENGAGEMENT = "fit", "engagement"
# Whole words of behaviour, and beginnings of such words ("visits", "opened", "clicked").
BEHAVIOUR_WORDS = frozenset(
    {"demo", "demos", "trial", "webinar", "webinars", "website", "page", "pages", "session"}
    | {"sessions", "meeting", "meetings", "call", "calls", "event", "events"}
)
BEHAVIOUR_STEMS = (
    "visit",
    "open",
    "click",
    "view",
    "engag",
    "activit",
    "attend",
    "download",
    "login",
    "repl",
    "respon",
)


def field_groups(contract: LeadContract, fields: Sequence[str]) -> dict[str, str]:
    """Each field's group, FIT or ENGAGEMENT, in the order given."""
    named = {name: FIT for name in contract.fit} | {
        name: ENGAGEMENT for name in contract.engagement
    }
    if contract.fit and not contract.engagement:
        rest = ENGAGEMENT
    elif contract.engagement and not contract.fit:
        rest = FIT
    else:
        rest = None
    return {name: named.get(name) or rest or guessed_group(name) for name in fields}


def guessed_group(name: str) -> str:
    """ENGAGEMENT when a word of the field's name is one of behaviour, else FIT."""
    for word in _words(name):
        if word in BEHAVIOUR_WORDS or word.startswith(BEHAVIOUR_STEMS):
            return ENGAGEMENT
    return FIT


def _words(name: str) -> list[str]:
    """`TotalVisits`, `total_visits` and `Total Visits` all give ['total', 'visits']."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name)
    return [word for word in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if word]
