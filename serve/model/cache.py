"""The last model the server loaded, kept on disk so that it can serve when the registry is
unreachable at start. Saved in the model's own plain format (JSON and LightGBM text)."""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from lightgbm.basic import LightGBMError

from features.errors import LeadscoreError
from serve.model.lead_model import LeadModel
from serve.model.loading import LoadedModel

log = logging.getLogger(__name__)

POINTER = "current.json"


class ModelCache:
    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def save(self, loaded: LoadedModel, requested_uri: str) -> None:
        """Replace the cached model; a crash half-way leaves the previous one usable."""
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"{loaded.name or 'model'}-{loaded.version or 'unversioned'}"
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=self.folder))
        loaded.model.save(staging)
        final = self.folder / name
        shutil.rmtree(final, ignore_errors=True)
        staging.rename(final)
        pointer = {
            "requested_uri": requested_uri,
            "folder": name,
            "uri": loaded.uri,
            "name": loaded.name,
            "version": loaded.version,
            "cached_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        temporary = self.folder / f".{POINTER}.tmp"
        temporary.write_text(json.dumps(pointer), encoding="utf-8")
        temporary.replace(self.folder / POINTER)
        self._remove_all_but(name)

    def load(self, requested_uri: str) -> tuple[LoadedModel, str] | None:
        """The cached model and when it was cached, if one was cached for this model URI."""
        try:
            pointer = json.loads((self.folder / POINTER).read_text(encoding="utf-8"))
            if pointer["requested_uri"] != requested_uri:
                return None
            model = LeadModel.load(self.folder / pointer["folder"])
        except (OSError, ValueError, KeyError, LightGBMError, LeadscoreError) as exc:
            log.info("no usable cached model in %s: %s", self.folder, exc)
            return None
        loaded = LoadedModel(model, pointer["uri"], pointer["name"], pointer["version"])
        return loaded, pointer["cached_at"]

    def _remove_all_but(self, keep: str) -> None:
        for path in self.folder.iterdir():
            if path.is_dir() and path.name != keep:
                shutil.rmtree(path, ignore_errors=True)
