"""Gauges of how the serving model does live, for `/metrics`: PSI of the score and of each field
against the training profile, how many fields drift, realised ROC AUC and closed leads over the
window of `GET /v1/performance`.

They come from a query over the score log and the outcomes, so a scrape recomputes them at most
every `every_seconds` (`LEADSCORE_METRICS_LIVE_SECONDS`); between two, a scrape shows the last
values. With several workers each keeps its own schedule and the most recent values are shown.
"""

from __future__ import annotations

import logging
import threading
import time

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, Gauge

from serve.model.loading import LoadedModel
from serve.store.bounds import DEFAULT_WINDOW_DAYS
from serve.store.performance import LivePerformance, live_performance

log = logging.getLogger(__name__)


class LiveGauges:
    def __init__(self, registry: CollectorRegistry | None, every_seconds: float) -> None:
        self.every_seconds = every_seconds
        self._due = 0.0
        self._lock = threading.Lock()

        def gauge(name: str, documentation: str, labels: tuple[str, ...] = ()) -> Gauge:
            return Gauge(
                name, documentation, labels, registry=registry, multiprocess_mode="mostrecent"
            )

        window = f"the last {DEFAULT_WINDOW_DAYS} days"
        self.psi = gauge(
            "leadscore_live_psi",
            f"PSI against the training profile of each field and of the score ('score'), {window}",
            ("field",),
        )
        self.drifted = gauge(
            "leadscore_live_drifted_fields",
            f"fields (and the score) above the PSI warning, {window}",
        )
        self.roc_auc = gauge(
            "leadscore_live_roc_auc",
            f"ROC AUC of the serving version on its closed leads, {window}",
        )
        self.closed = gauge(
            "leadscore_live_closed_leads", f"leads the serving version scored that closed, {window}"
        )

    def refresh(self, loaded: LoadedModel | None, store: sa.Engine) -> None:
        """Recompute from the store if the last computation is old enough; a failure is
        logged and the previous values stay."""
        if self.every_seconds <= 0 or loaded is None:
            return
        with self._lock:
            if time.monotonic() < self._due:
                return
            self._due = time.monotonic() + self.every_seconds
            try:
                performance = live_performance(store, loaded.model, loaded.version)
            except sa.exc.SQLAlchemyError as exc:
                log.warning("live performance for /metrics: %s", str(exc).splitlines()[0])
                return
            self._show(performance)

    def _show(self, performance: LivePerformance) -> None:
        if performance.drift is not None:
            for field, psi in performance.drift.psi.items():
                self.psi.labels(field).set(psi)
            self.drifted.set(len(performance.drift.drifted))
        roc_auc = performance.discrimination.roc_auc
        if roc_auc is not None:
            self.roc_auc.set(roc_auc.estimate)
        self.closed.set(performance.overall.won + performance.overall.lost)
