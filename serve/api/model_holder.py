"""Holds the model the API serves and swaps in a new champion without failing a request.

The model is loaded in a thread of its own, so the server listens at once: `/health` answers,
and `/ready` says 503 with the reason until a model serves. The registry's model is served (and
cached on disk) once it loads and scores probe leads. When the registry cannot be reached, or
the version it names is refused, the cached model serves and `/ready` says why; with no cache
there is no model and `/ready` says why. The same thread then asks the registry every
`poll_seconds` where the alias points (or, for a fixed URI or with polling off, retries until
the model is loaded from the registry); a new version is loaded and checked there and only then
replaces the old one, in one assignment: requests already running keep the model object they
started with.

A version that fails to load or to score is refused: logged once, listed in `/v1/model`, never
tried again. Its files are checked against their checksums before LightGBM parses them (see
`serve.model.lead_model`), since a damaged booster aborts the process.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from serve.model.cache import ModelCache
from serve.model.loading import (
    LoadedModel,
    ModelReference,
    RegistryUnreachableError,
    load_reference,
    resolve_model,
)
from serve.model.probe import check_model
from serve.model.redaction import redact_credentials

log = logging.getLogger(__name__)

REGISTRY, CACHE = "registry", "cache"
# How often the model is retried when polling is off and it did not load from the registry.
RETRY_SECONDS = 30.0


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
        self.problem: str | None = f"loading {uri}"
        self.refused: dict[str, str] = {}
        self.last_registry_success: float | None = None  # Unix time the registry last answered
        self._observer = observer
        self._stop = threading.Event()
        self._cached_at: str | None = None
        self._settled = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def served_from(self) -> str:
        """Where the serving model came from: REGISTRY, or CACHE when the registry failed."""
        return self.source or REGISTRY

    @property
    def cache_notice(self) -> str | None:
        """Why the model serves from the cache; None when it serves from the registry."""
        return self.problem if self.source == CACHE else None

    def start(self) -> None:
        """Load the model and follow the registry in a background thread."""
        self._thread = threading.Thread(target=self._run, name="model-loader", daemon=True)
        self._thread.start()

    def wait_settled(self, timeout: float | None = None) -> bool:
        """Wait until the first load has served a model or given up (for code that starts
        the app in-process and needs its model at once)."""
        return self._settled.wait(timeout)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def load(self) -> None:
        """Serve the registry's model, else the cached one; otherwise say why there is none."""
        try:
            reference = resolve_model(self.uri)
            self.last_registry_success = time.time()
        except Exception as exc:  # an unreachable registry, a missing alias
            self._fall_back_to_cache(redact_credentials(str(exc)))
        else:
            problem = self._try(reference)
            if problem is not None:
                self._fall_back_to_cache(problem)
        self._notify()

    def check_registry(self) -> None:
        """One poll: if the alias points at a version not served yet, load, check and swap; a
        fixed URI is loaded again only while it is not served from the registry."""
        if "@" not in self.uri or not self.uri.startswith("models:/"):
            if self.source != REGISTRY:
                self.load()
            return
        try:
            reference = resolve_model(self.uri)
        except Exception as exc:  # the model in service keeps serving
            if self.current is None:
                self.problem = redact_credentials(str(exc))
            log.info("registry poll: %s", redact_credentials(str(exc)))
            return
        self.last_registry_success = time.time()
        version = reference.version
        if version is None or version in self.refused:
            return
        if self.current is not None and version == self.current.version:
            if self.source == CACHE:
                self.source, self.problem = REGISTRY, None
                log.info("registry reachable again; it serves the cached version %s", version)
            return
        problem = self._try(reference)
        if problem is not None and self.current is None:
            self.problem = problem

    def _try(self, reference: ModelReference) -> str | None:
        """Serve the referenced model if it loads and scores; else the reason it does not (and
        the version is refused, unless the registry only failed to answer)."""
        try:
            candidate = load_reference(reference)
            check_model(candidate.model)
        except RegistryUnreachableError as exc:
            return redact_credentials(str(exc))
        except Exception as exc:  # whatever breaks a version, it must not stop the server
            reason = redact_credentials(str(exc))
            key = reference.version or reference.location
            self.refused[key] = reason
            log.warning("refused version %s of %s: %s", key, reference.name, reason)
            return f"version {key} of {reference.name} is refused: {reason}"
        self._serve(candidate, REGISTRY)
        return None

    def _serve(self, loaded: LoadedModel, source: str) -> None:
        self.current, self.source, self.problem = loaded, source, None
        log.info("serving %s (version %s) from the %s", loaded.uri, loaded.version, source)
        if source == REGISTRY:
            try:
                self.cache.save(loaded, self.uri)
            except OSError as exc:
                log.warning("cannot cache the model in %s: %s", self.cache.folder, exc)

    def _fall_back_to_cache(self, reason: str) -> None:
        if self.current is None:
            cached = self.cache.load(self.uri)
            if cached is None:
                self.problem = reason
                log.error("no model to serve: %s", reason)
                return
            self.current, self.source = cached[0], CACHE
            self._cached_at = cached[1]
        if self.source == CACHE and self.current is not None:
            self.problem = (
                f"serving version {self.current.version} cached at {self._cached_at}: {reason}"
            )
            log.warning(self.problem)

    def _run(self) -> None:
        try:
            self.load()
        except Exception as exc:  # the server keeps running and says why it has no model
            self.problem = f"the model could not be loaded: {type(exc).__name__}"
            log.exception("loading the model failed")
        finally:
            self._settled.set()
        polling = self.poll_seconds > 0
        while not self._stop.wait(self.poll_seconds if polling else RETRY_SECONDS):
            if not polling and self.source == REGISTRY:
                return
            try:
                self.check_registry()
            except Exception as exc:  # keep polling whatever one poll ran into
                log.warning("model poll failed: %s", redact_credentials(str(exc)))
            self._notify()

    def _notify(self) -> None:
        if self._observer is not None:
            self._observer(self)
