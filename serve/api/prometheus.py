"""The service's Prometheus metrics: requests, leads scored, outcomes, the score log and the model
serving, exposed by `GET /metrics`.

With several worker processes (`PROMETHEUS_MULTIPROC_DIR` set, as `leadscore serve --workers N`
does) every process writes its values to files in that folder and a scrape, whichever worker
answers it, adds them up; gauges that describe one process carry its `pid` label. The folder
must be empty when the server starts. One process alone keeps its values in memory and adds the
standard process metrics (CPU, memory, open files).
"""

from __future__ import annotations

import os
from collections import Counter as Tally
from collections.abc import Sequence

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from serve.api.model_holder import ModelHolder

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST
# Requests take well under a millisecond to a few seconds (1,000 leads with reasons).
REQUEST_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
WRITE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
UNMATCHED = "unmatched"  # the route label of a path no route serves: one series, not one per URL


class ServiceMetrics:
    """The metrics of one server process, updated where things happen and rendered on scrape."""

    def __init__(self) -> None:
        self.multiprocess = bool(os.environ.get(MULTIPROCESS_DIR))
        self._registry = CollectorRegistry()
        # In multi-process mode the values live in files, gathered by the collector at scrape:
        # metrics are registered nowhere (`owner` None).
        self.owner = None if self.multiprocess else self._registry
        self.requests = Counter(
            "leadscore_http_requests",
            "HTTP requests answered, by route, method and status",
            ["route", "method", "status"],
            registry=self.owner,
        )
        self.latency = Histogram(
            "leadscore_http_request_duration_seconds",
            "time from receiving a request to the end of its answer",
            ["route", "method"],
            buckets=REQUEST_BUCKETS,
            registry=self.owner,
        )
        self.leads = Counter(
            "leadscore_leads_scored", "leads scored, by tier", ["tier"], registry=self.owner
        )
        self.reasons = Counter(
            "leadscore_reasons", "leads scored with their reasons computed", registry=self.owner
        )
        self.outcomes = Counter(
            "leadscore_outcomes",
            "outcomes received: 'stored' (new or changed) or 'unchanged'",
            ["result"],
            registry=self.owner,
        )
        self.queued = Gauge(
            "leadscore_score_log_queued_rows",
            "scored leads waiting to be written to the score log, at the writer's last pass",
            registry=self.owner,
            multiprocess_mode="livesum",
        )
        self.write_seconds = Histogram(
            "leadscore_score_log_write_seconds",
            "time to write one score-log statement",
            buckets=WRITE_BUCKETS,
            registry=self.owner,
        )
        self.log_rows = Counter(
            "leadscore_score_log_rows",
            "score-log rows: 'written', or 'failed' when the database refused them",
            ["result"],
            registry=self.owner,
        )
        self.model = Gauge(
            "leadscore_model_info",
            "1 for the model this process serves (name, version and where it came from)",
            ["name", "version", "source"],
            registry=self.owner,
            multiprocess_mode="liveall",
        )
        self.last_poll = Gauge(
            "leadscore_model_registry_success_timestamp_seconds",
            "when the registry last answered (load or poll), Unix time; the oldest of the workers",
            registry=self.owner,
            multiprocess_mode="livemin",
        )
        self.refused = Gauge(
            "leadscore_model_refused",
            "1 for each model version this process refused to serve (it failed to load or score)",
            ["version"],
            registry=self.owner,
            multiprocess_mode="livemax",
        )
        if not self.multiprocess:
            ProcessCollector(registry=self._registry)
        self._served: tuple[str, str, str] | None = None
        # Each request's labelled series, looked up once: `labels()` costs a lock and a tuple.
        self._by_request: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
        self._by_tier: dict[str, Counter] = {}

    def request(self, route: str, method: str, status: int, seconds: float) -> None:
        series = self._by_request.get((route, method, status))
        if series is None:
            series = (
                self.requests.labels(route, method, str(status)),
                self.latency.labels(route, method),
            )
            self._by_request[(route, method, status)] = series
        series[0].inc()
        series[1].observe(seconds)

    def scored(self, tiers: Sequence[str], with_reasons: bool) -> None:
        counts = Tally(tiers).items() if len(tiers) > 1 else ((tier, 1) for tier in tiers)
        for tier, count in counts:
            series = self._by_tier.get(tier)
            if series is None:
                series = self._by_tier[tier] = self.leads.labels(tier)
            series.inc(count)
        if with_reasons:
            self.reasons.inc(len(tiers))

    def outcomes_received(self, stored: int, unchanged: int) -> None:
        self.outcomes.labels("stored").inc(stored)
        self.outcomes.labels("unchanged").inc(unchanged)

    def score_log_queued(self, rows: int) -> None:
        self.queued.set(rows)

    def score_log_written(self, rows: int, seconds: float, written: bool) -> None:
        self.write_seconds.observe(seconds)
        self.log_rows.labels("written" if written else "failed").inc(rows)

    def model_state(self, holder: ModelHolder) -> None:
        """Mirror what the holder serves, refused and last heard from the registry."""
        if holder.last_registry_success is not None:
            self.last_poll.set(holder.last_registry_success)
        for version in holder.refused:
            self.refused.labels(version).set(1)
        loaded = holder.current
        served = None
        if loaded is not None:
            served = (loaded.name or "", loaded.version or "", holder.source or "")
        if served == self._served:
            return
        # A series is set to 0 rather than removed: in multi-process mode its file would keep it.
        if self._served is not None:
            self.model.labels(*self._served).set(0)
        if served is not None:
            self.model.labels(*served).set(1)
        self._served = served

    def render(self) -> bytes:
        """The Prometheus text exposition: this process's values, or every worker's."""
        if not self.multiprocess:
            return generate_latest(self._registry)
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return generate_latest(registry)

    def close(self) -> None:
        """At a clean exit, drop this process's gauges from the multi-process files."""
        if self.multiprocess:
            mark_process_dead(os.getpid())
