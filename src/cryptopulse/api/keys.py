"""API keys in the lake (`ops/api_keys.json`): only their SHA-256 digests are stored, so every API host shares them.

A key looks like `cpk_<id>_<secret>`; the id finds the record, the digest of the whole key proves it. The
secret is shown once, when the key is created, and is never written or logged anywhere.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from dataclasses import asdict, dataclass

from cryptopulse.config import ConfigError
from cryptopulse.lake import Lake

KEYS_FILE = "ops/api_keys.json"
PREFIX = "cpk_"
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}")
SHAPE = re.compile(r"cpk_([0-9a-f]{12})_[A-Za-z0-9_-]{20,100}")


class ApiKeyError(ConfigError):
    """A key name or id that cannot be used (invalid, already active, unknown)."""


@dataclass(frozen=True)
class ApiKey:
    """One key's record: who it is for, its digest, and when it was created or revoked."""

    key_id: str
    name: str
    digest: str
    created_at: str
    revoked_at: str | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def create_key(lake: Lake, name: str) -> tuple[ApiKey, str]:
    """A new key for `name` (no other active key may have it); returns the record and the secret, shown once."""
    if not NAME.fullmatch(name):
        raise ApiKeyError(f"key name {name!r}: use 1–64 letters, digits or _ . @ - (starting with a letter or digit)")
    keys = list_keys(lake)
    if any(k.name == name and k.active for k in keys):
        raise ApiKeyError(f"an active key named {name!r} exists: revoke it first (`cryptopulse api-key revoke {name}`)")
    key_id = secrets.token_hex(6)
    secret = f"{PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
    key = ApiKey(key_id, name, _digest(secret), _now())
    _write(lake, [*keys, key])
    return key, secret


def list_keys(lake: Lake) -> list[ApiKey]:
    """Every key ever created, oldest first (revoked ones included)."""
    if not lake.exists(KEYS_FILE):
        return []
    try:
        return [ApiKey(**k) for k in json.loads(lake.read_bytes(KEYS_FILE))["keys"]]
    except (ValueError, KeyError, TypeError) as e:
        raise ApiKeyError(f"{lake.uri(KEYS_FILE)}: not a valid key file ({e})") from None


def revoke_key(lake: Lake, name_or_id: str) -> ApiKey:
    """Revoke the active key with this name or id; returns its record."""
    keys = list_keys(lake)
    match = [k for k in keys if k.active and name_or_id in (k.name, k.key_id)]
    if not match:
        raise ApiKeyError(f"no active key named {name_or_id!r} (see `cryptopulse api-key list`)")
    revoked = ApiKey(**{**asdict(match[0]), "revoked_at": _now()})
    _write(lake, [revoked if k is match[0] else k for k in keys])
    return revoked


class KeyRing:
    """The server's view of the key file, re-read at most every `refresh` seconds."""

    def __init__(self, lake: Lake, refresh: float) -> None:
        self.lake, self.refresh = lake, refresh
        self._by_id: dict[str, ApiKey] = {}
        self._loaded = -float("inf")
        self._lock = threading.Lock()

    def verify(self, secret: str) -> ApiKey | None:
        """The active key whose secret this is, or None."""
        shape = SHAPE.fullmatch(secret)
        if shape is None:
            return None
        key = self._keys().get(shape.group(1))
        if key is None or not key.active or not hmac.compare_digest(key.digest, _digest(secret)):
            return None
        return key

    def _keys(self) -> dict[str, ApiKey]:
        with self._lock:
            if time.monotonic() - self._loaded >= self.refresh:
                self._by_id = {k.key_id: k for k in list_keys(self.lake)}
                self._loaded = time.monotonic()
            return self._by_id


def _write(lake: Lake, keys: list[ApiKey]) -> None:
    lake.write_bytes(KEYS_FILE, json.dumps({"keys": [asdict(k) for k in keys]}, indent=1).encode())


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
