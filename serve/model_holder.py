"""Holds the model the API serves, and why there is none when loading failed."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from features.errors import LeadscoreError
from train.registry import LoadedModel, load_lead_model

log = logging.getLogger(__name__)


@dataclass
class ModelHolder:
    uri: str
    current: LoadedModel | None = None
    problem: str | None = None

    def load(self) -> None:
        """Load the configured model; on failure keep serving /health and say why in /ready."""
        try:
            self.current = load_lead_model(self.uri)
            self.problem = None
            log.info("serving %s (version %s)", self.current.uri, self.current.version)
        except LeadscoreError as exc:
            self.problem = str(exc)
            log.error("no model to serve: %s", exc)
