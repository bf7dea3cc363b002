"""Incremental cursors per source, kept in the lake (`raw/<source>/_state/cursors.json`) and rewritten atomically."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from cryptopulse.lake import Lake


class CursorStore:
    """A JSON object of cursors for one source, keyed by coin id, query or subreddit.

    Every `set` rewrites the file atomically, so a run killed at any point leaves the cursors of the
    work it finished. The `_state` folder is hidden from the lake's globs, so staging never reads it.
    """

    def __init__(self, lake: Lake, source: str) -> None:
        self.lake = lake
        self.relpath = f"raw/{source}/_state/cursors.json"
        self._lock = threading.Lock()
        self._values: dict[str, Any] = json.loads(lake.read_bytes(self.relpath)) if lake.exists(self.relpath) else {}

    def get(self, key: str, default: Any = None) -> Any:
        with self._lock:
            return self._values.get(key, default)

    def set(self, key: str, value: Any) -> None:
        with self._lock:
            self._values[key] = value
            self.lake.write_bytes(self.relpath, json.dumps(self._values, indent=1, sort_keys=True).encode())

    def all(self) -> dict[str, Any]:
        with self._lock:
            return dict(self._values)


Crawl = Callable[[Any, "str | None", Callable[[Any, str], None]], Any]


def crawl_with_cursor(cursors: CursorStore, key: str, crawl: Crawl) -> None:
    """Run a newest-first crawl for `key` so that a run killed midway is finished, not redone, by the next one.

    `crawl(stop, resume, on_flush)` fetches pages newest first, from `resume` (None: the newest) down to
    the cursor `stop` (None: as far as allowed), calls `on_flush(newest, marker)` each time it has
    landed pages down to `marker`, and returns the newest record it landed (None if none).

    The cursor is `{"newest": …}`; while a crawl is under way it also holds `"pending": {"newest", "resume"}`.
    A run that finds a pending crawl first fetches what lies between `resume` and the old `newest`,
    then everything newer than the pending `newest`.
    """
    state = cursors.get(key) or {}
    stop = state.get("newest")
    pending = state.get("pending")
    if pending:
        crawl(stop, pending["resume"], lambda _, marker: cursors.set(key, _pending(stop, pending["newest"], marker)))
        stop = pending["newest"]
        cursors.set(key, {"newest": stop})
    newest = crawl(stop, None, lambda newest, marker: cursors.set(key, _pending(stop, newest, marker)))
    if newest is not None:
        cursors.set(key, {"newest": newest})


def _pending(stop: Any, newest: Any, marker: str) -> dict[str, Any]:
    return {"newest": stop, "pending": {"newest": newest, "resume": marker}}
