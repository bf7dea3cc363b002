"""A disk cache of what sqlglot derives from model SQL (the tables it reads, its text per dialect), so that a run
whose models and sqlglot have not changed neither parses them again nor imports sqlglot.

The cache is a JSON file under `$XDG_CACHE_HOME/cryptopulse/` (default `~/.cache`), named after the sqlglot
version and the code that renders (`registry.py`, `dialects.py`): a change to either starts a new file. A cache
that cannot be read or written is ignored (everything is then computed, as without it).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from importlib import metadata, resources
from pathlib import Path
from typing import Any

RENDERING_CODE = ("registry.py", "dialects.py")


def cached(kind: str, dialect: str, text: str, compute: Callable[[], Any]) -> Any:
    """`compute()`'s JSON-serialisable result for (`kind`, `dialect`, `text`), computed once per machine."""
    key = hashlib.sha256(f"{kind}\0{dialect}\0{text}".encode()).hexdigest()
    entries = _entries()
    if key not in entries:
        entries[key] = compute()
        _save(entries)
    return entries[key]


@functools.cache
def cache_file() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    code = b"".join(resources.files("cryptopulse.models").joinpath(name).read_bytes() for name in RENDERING_CODE)
    version = hashlib.sha256(metadata.version("sqlglot").encode() + b"\0" + code).hexdigest()[:16]
    return Path(root) / "cryptopulse" / f"sql-{version}.json"


@functools.cache
def _entries() -> dict[str, Any]:
    try:
        entries = json.loads(cache_file().read_text())
    except (OSError, ValueError):
        return {}
    return entries if isinstance(entries, dict) else {}


def _save(entries: dict[str, Any]) -> None:
    """Write the cache whole (a temporary file renamed over it); a read-only home only costs the recomputation."""
    path = cache_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".sql-", suffix=".tmp")
        with os.fdopen(fd, "w") as out:
            json.dump(entries, out)
        os.replace(temporary, path)
    except OSError:
        pass


def clear_memory() -> None:
    """Forget what this process read of the cache (tests, and a process that changed its cache folder)."""
    cache_file.cache_clear()
    _entries.cache_clear()
