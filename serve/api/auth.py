"""API keys: `/v1/*` needs `Authorization: Bearer KEY` or `X-API-Key: KEY`.

Keys are kept as sha256 digests (a configured `sha256:HEX` is already one), and a presented key
is hashed and compared with every digest in constant time, so neither timing nor the settings
reveal a key.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping

HASH_PREFIX = "sha256:"


class ApiKeys:
    def __init__(self, entries: Iterable[str]) -> None:
        self._digests = [_digest_of(entry) for entry in entries]

    @property
    def required(self) -> bool:
        return bool(self._digests)

    def accepts(self, presented: str | None) -> bool:
        if not self.required:
            return True
        digest = hashlib.sha256((presented or "").encode()).digest()
        return self.holds(digest) and presented is not None

    def holds(self, digest: bytes) -> bool:
        """Whether a key's sha256 is one of these keys (compared with each, in constant time)."""
        matched = False
        for known in self._digests:
            matched |= hmac.compare_digest(digest, known)
        return matched


def presented_key(headers: Mapping[str, str]) -> str | None:
    """The key from `Authorization: Bearer KEY`, else from `X-API-Key`."""
    scheme, _, credentials = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return headers.get("x-api-key")


def _digest_of(entry: str) -> bytes:
    if entry.lower().startswith(HASH_PREFIX):
        try:
            digest = bytes.fromhex(entry[len(HASH_PREFIX) :])
        except ValueError:
            digest = b""
        if len(digest) != hashlib.sha256().digest_size:
            raise ValueError(f"API key entry {entry[:12]}... is not 'sha256:' and 64 hex digits")
        return digest
    return hashlib.sha256(entry.encode()).digest()
