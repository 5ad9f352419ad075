"""Who may see the board: a person signs in once with an API key (full or read-only) and gets a
session cookie; a request with the key in its headers is let in as the API lets it in.

The cookie holds the key's sha256, signed with LEADSCORE_SESSION_SECRET and stamped with the
time (itsdangerous), and lasts LEADSCORE_SESSION_HOURS. It is HttpOnly, SameSite=Lax, Secure
when the request came over https, and valid only while its key is still configured: removing a
key from the settings signs its sessions out. Without keys configured, the board is open, as
the API is.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

from itsdangerous import BadSignature, URLSafeTimedSerializer
from pydantic import SecretStr
from starlette.requests import Request

from serve.api.auth import ApiKeys, presented_key

SESSION_COOKIE = "leadscore_board"
SESSION_PATH = "/board"
SALT = "leadscore.board-session"
Role = Literal["full", "read-only"]
FULL: Role = "full"
READ_ONLY: Role = "read-only"
MIN_SECRET_LENGTH = 32
PLACEHOLDER_WORDS = ("change", "secret", "placeholder", "password", "example", "todo", "xxx")


def check_board_keys(keys: list[str], read_only_keys: list[str], secret: SecretStr) -> None:
    """Refuse (ValueError, naming the setting) read-only keys without API keys, a key listed as
    both, and, with keys set, a session secret that is short or a placeholder."""
    ApiKeys(read_only_keys)  # a malformed sha256 entry
    if read_only_keys and not keys:
        raise ValueError(
            "LEADSCORE_READ_ONLY_KEYS is set but LEADSCORE_API_KEYS is empty: with no full key "
            "nothing could ever be posted; set LEADSCORE_API_KEYS too"
        )
    if set(keys) & set(read_only_keys):
        raise ValueError(
            "a key is in both LEADSCORE_API_KEYS and LEADSCORE_READ_ONLY_KEYS; give each key "
            "one of them"
        )
    value = secret.get_secret_value()
    if not keys or not value:
        return
    if len(value) < MIN_SECRET_LENGTH or any(w in value.lower() for w in PLACEHOLDER_WORDS):
        raise ValueError(
            f"LEADSCORE_SESSION_SECRET looks like a placeholder (it must be a random value of "
            f"{MIN_SECRET_LENGTH} characters or more); make one with: python -c "
            "'import secrets; print(secrets.token_urlsafe(32))'"
        )


@dataclass(frozen=True)
class Viewer:
    """Who looks at the board; `signed_in`: through a session cookie (so a sign-out applies)."""

    role: Role
    signed_in: bool


class BoardAccess:
    def __init__(
        self, keys: ApiKeys, read_only_keys: ApiKeys, secret: str, session_hours: float
    ) -> None:
        self.keys = keys
        self.read_only_keys = read_only_keys
        self.max_age = int(session_hours * 3600)
        self._signer = URLSafeTimedSerializer(secret, salt=SALT) if secret else None

    @property
    def required(self) -> bool:
        return self.keys.required

    @property
    def sessions_enabled(self) -> bool:
        return self._signer is not None

    def role_of_key(self, presented: str | None) -> Role | None:
        """FULL for an API key, READ_ONLY for a read-only key, None for anything else."""
        if presented is None:
            return None
        return self._role_of_digest(hashlib.sha256(presented.encode()).digest())

    def viewer(self, request: Request) -> Viewer | None:
        """The viewer of a request: by its key header, else by its session cookie."""
        if not self.required:
            return Viewer(FULL, signed_in=False)
        role = self.role_of_key(presented_key(request.headers))
        if role is not None:
            return Viewer(role, signed_in=False)
        digest = self._session_digest(request.cookies.get(SESSION_COOKIE))
        role = None if digest is None else self._role_of_digest(digest)
        return None if role is None else Viewer(role, signed_in=True)

    def session_cookie(self, key: str) -> str:
        """The signed cookie value for a key that `role_of_key` accepted."""
        assert self._signer is not None, "sessions need a secret"
        return self._signer.dumps(hashlib.sha256(key.encode()).hexdigest())

    def _session_digest(self, cookie: str | None) -> bytes | None:
        if not cookie or self._signer is None:
            return None
        try:
            digest = self._signer.loads(cookie, max_age=self.max_age)
            return bytes.fromhex(digest) if isinstance(digest, str) else None
        except (BadSignature, ValueError):  # forged, expired, or signed with another secret
            return None

    def _role_of_digest(self, digest: bytes) -> Role | None:
        if self.keys.holds(digest):
            return FULL
        if self.read_only_keys.holds(digest):
            return READ_ONLY
        return None
