"""The published version the API answers from: swapped when a new one is published, closed after its last request.

Each request leases one `Snapshot` for its whole life, so everything it reads comes from one version; a publish
only changes which snapshot the *next* lease gets, once the new version is open (it opens in the background while
the previous one keeps serving). A retired snapshot is closed when its last lease ends.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from cryptopulse.lake import Lake
from cryptopulse.read import NoPublishedData, Snapshot, open_snapshot
from cryptopulse.read.snapshot import current_version

log = logging.getLogger("cryptopulse.api")


@dataclass
class _Held:
    snapshot: Snapshot
    leases: int = 0
    retired: bool = False


class Versions:
    """The current snapshot of a lake, checked for a newer version at most every `check_every` seconds."""

    def __init__(self, lake: Lake, check_every: float, threads: int = 1, memory_tables: tuple[str, ...] = ()) -> None:
        self.lake, self.check_every, self.threads, self.memory_tables = lake, check_every, threads, memory_tables
        self._current: _Held | None = None
        self._next_check = 0.0
        self._lock = threading.Lock()  # guards _current and lease counts
        self._refreshing = threading.Lock()  # one thread at a time reads the manifest and opens snapshots
        self.opened = 0  # snapshots opened so far (for /health and tests)
        self.closed = 0

    @contextmanager
    def lease(self) -> Iterator[Snapshot]:
        """The current snapshot, held open until the block ends; NoPublishedData when nothing is published."""
        held = self._acquire()
        try:
            yield held.snapshot
        finally:
            self._release(held)

    def current(self) -> str | None:
        """The version new requests get now (checking the lake if due), or None when nothing is published."""
        try:
            self._refresh_if_due()
        except NoPublishedData:
            return None
        held = self._current
        return None if held is None else held.snapshot.version

    def close(self) -> None:
        """Retire the current snapshot (closed now, or when its last lease ends)."""
        with self._lock:
            old, self._current = self._current, None
        self._retire(old)

    def _acquire(self) -> _Held:
        self._refresh_if_due()
        with self._lock:
            if self._current is None:
                raise NoPublishedData(f"nothing published yet in {self.lake.uri('published')} (run `cryptopulse run`)")
            self._current.leases += 1
            return self._current

    def _release(self, held: _Held) -> None:
        with self._lock:
            held.leases -= 1
            close = held.retired and held.leases == 0
        if close:
            self._close(held)

    def _refresh_if_due(self) -> None:
        """Read the commit point if due; open a newer version in the background (the current one serves meanwhile),
        or here when there is none yet."""
        if time.monotonic() < self._next_check:
            return
        # With a snapshot in hand, a request never waits for another thread's check: it uses the current one.
        if not self._refreshing.acquire(blocking=self._current is None):
            return
        opening = False
        try:
            if time.monotonic() < self._next_check:
                return
            version = current_version(self.lake)
            self._next_check = time.monotonic() + self.check_every
            if version is None and self._current is None:
                raise NoPublishedData(f"nothing published yet in {self.lake.uri('published')} (run `cryptopulse run`)")
            if version is None or (self._current is not None and self._current.snapshot.version == version):
                return
            if self._current is None:
                self._swap(self._open())
                return
            opening = True
            threading.Thread(target=self._open_in_background, name=f"open-version-{version}", daemon=True).start()
        finally:
            if not opening:
                self._refreshing.release()

    def _open_in_background(self) -> None:
        try:
            self._swap(self._open())
        except Exception:  # the current version keeps serving; the next check tries again
            log.exception("could not open the newly published version")
        finally:
            self._refreshing.release()

    def _open(self) -> Snapshot:
        """The current version, its `memory_tables` copied into memory (before any request sees it)."""
        snapshot = open_snapshot(self.lake, self.threads)
        try:
            cursor = snapshot.cursor()
            for name in self.memory_tables:
                if name in snapshot.tables:
                    cursor.execute(f'CREATE TABLE "{name}__memory" AS SELECT * FROM "{name}"')
                    cursor.execute(f'DROP VIEW "{name}"')
                    cursor.execute(f'ALTER TABLE "{name}__memory" RENAME TO "{name}"')
            cursor.close()
        except BaseException:
            snapshot.close()
            raise
        return snapshot

    def _swap(self, snapshot: Snapshot) -> None:
        with self._lock:
            old, self._current = self._current, _Held(snapshot)
            self.opened += 1
        self._retire(old)

    def _retire(self, held: _Held | None) -> None:
        if held is None:
            return
        with self._lock:
            held.retired = True
            close = held.leases == 0
        if close:
            self._close(held)

    def _close(self, held: _Held) -> None:
        held.snapshot.close()
        with self._lock:
            self.closed += 1
