"""Reading `/metrics` as Prometheus does: the text parser of prometheus_client."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families


@dataclass(frozen=True)
class Sample:
    name: str
    labels: dict[str, str]
    value: float


def scrape(client: httpx.Client, headers: dict[str, str] | None = None) -> list[Sample]:
    answer = client.get("/metrics", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return [
        Sample(sample.name, sample.labels, sample.value)
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    ]


def total(samples: list[Sample], metric: str, /, **labels: str) -> float:
    """The sum of the samples of `metric` whose labels include `labels` (0 when there are none)."""
    return sum(
        s.value
        for s in samples
        if s.name == metric and all(s.labels.get(k) == v for k, v in labels.items())
    )
