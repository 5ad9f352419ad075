"""Holds the model the API serves and swaps in a new champion without failing a request.

At start the configured model is loaded from the registry (and cached on disk), else the cached
one is served and the reason reported, else there is no model and `/ready` says why. A poller
thread asks the registry whether the alias moved; a new version is loaded and checked in that
thread and only then replaces the old one, in one assignment: requests already running keep the
model object they started with. A version that fails to load or to score is refused and logged.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from serve.model.cache import ModelCache
from serve.model.loading import LoadedModel, alias_version, load_lead_model
from serve.model.probe import check_model
from serve.model.tracking import configure_tracking

log = logging.getLogger(__name__)

REGISTRY, CACHE = "registry", "cache"


@dataclass(frozen=True)
class Alias:
    name: str
    alias: str

    @classmethod
    def of(cls, uri: str) -> Alias | None:
        """`models:/NAME@ALIAS` names an alias that can move; other URIs never change."""
        name, sep, alias = uri.removeprefix("models:/").partition("@")
        return cls(name, alias) if uri.startswith("models:/") and sep else None


class ModelHolder:
    def __init__(
        self,
        uri: str,
        cache: ModelCache,
        poll_seconds: float = 0,
        observer: Callable[[ModelHolder], None] | None = None,
    ) -> None:
        self.uri = uri
        self.cache = cache
        self.poll_seconds = poll_seconds
        self.current: LoadedModel | None = None
        self.source: str | None = None
        self.problem: str | None = None
        self.refused: dict[str, str] = {}
        self.last_registry_success: float | None = None  # Unix time the registry last answered
        self._observer = observer
        self._alias = Alias.of(uri)
        self._stop = threading.Event()
        self._poller: threading.Thread | None = None

    def load(self) -> None:
        """Serve the registry's model, else the cached one; otherwise say why there is none."""
        try:
            loaded = load_lead_model(self.uri)
            self.last_registry_success = time.time()
            check_model(loaded.model)
        except Exception as exc:  # unreachable registry, missing alias or a broken artifact
            self._fall_back_to_cache(str(exc))
        else:
            self._serve(loaded, REGISTRY)
        self._notify()

    def start_polling(self) -> None:
        if self._alias is None or self.poll_seconds <= 0:
            return
        self._poller = threading.Thread(target=self._poll, name="model-poller", daemon=True)
        self._poller.start()

    def stop(self) -> None:
        self._stop.set()
        if self._poller is not None:
            self._poller.join(timeout=10)

    def check_registry(self) -> None:
        """One poll: if the alias points at a version not served yet, load, check and swap."""
        if self._alias is None:
            return
        version = alias_version(configure_tracking(), self._alias.name, self._alias.alias)
        self.last_registry_success = time.time()
        if version is None or version in self.refused:
            return
        if self.current is not None and version == self.current.version:
            if self.source == CACHE:
                self.source, self.problem = REGISTRY, None
                log.info("registry reachable again; it serves the cached version %s", version)
            return
        try:
            candidate = load_lead_model(f"models:/{self._alias.name}/{version}")
            check_model(candidate.model)
        except Exception as exc:  # whatever breaks a new version, the old one keeps serving
            self.refused[version] = str(exc)
            log.warning("refused version %s of %s: %s", version, self._alias.name, exc)
            return
        self._serve(candidate, REGISTRY)

    def _serve(self, loaded: LoadedModel, source: str) -> None:
        self.current, self.source, self.problem = loaded, source, None
        log.info("serving %s (version %s) from the %s", loaded.uri, loaded.version, source)
        if source == REGISTRY:
            try:
                self.cache.save(loaded, self.uri)
            except OSError as exc:
                log.warning("cannot cache the model in %s: %s", self.cache.folder, exc)

    def _fall_back_to_cache(self, reason: str) -> None:
        cached = self.cache.load(self.uri)
        if cached is None:
            self.problem = reason
            log.error("no model to serve: %s", reason)
            return
        loaded, cached_at = cached
        self.current, self.source = loaded, CACHE
        self.problem = (
            f"serving version {loaded.version} cached at {cached_at}: the registry failed: {reason}"
        )
        log.warning(self.problem)

    def _poll(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            try:
                self.check_registry()
            except Exception as exc:  # keep polling whatever one poll ran into
                log.warning("model poll failed: %s", exc)
            self._notify()

    def _notify(self) -> None:
        if self._observer is not None:
            self._observer(self)
