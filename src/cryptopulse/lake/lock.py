"""The run lock: one writer per lake at a time, taken before any work and released by the OS if the holder dies.

A local lake keeps the lock file in the lake (`ops/run.lock`); an object-store lake, which has no file locks,
keeps it in the system temp folder under a name derived from the lake's URL (one host runs the pipeline — the
Airflow deployment's single scheduler, see docs/RELIABILITY.md). The lock is `flock`: a killed holder's lock is
released by the kernel, so no stale lock is ever left behind. Re-entrant within a process, so `run` can call
steps that take it too.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import os
import socket
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from cryptopulse.lake.store import Lake, LakeError

LOCK_FILE = "ops/run.lock"

_held: dict[str, int] = {}  # lock path -> depth, for this process
_guard = threading.Lock()


class RunLocked(LakeError):
    """Another run holds the lake."""


def lock_path(lake: Lake) -> Path:
    if lake.is_local:
        return Path(lake.path(LOCK_FILE))
    digest = hashlib.sha256(lake.url.encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"cryptopulse-run-{digest}.lock"


@contextlib.contextmanager
def run_lock(lake: Lake, run_id: str, wait: bool = False) -> Iterator[None]:
    """Hold the lake's run lock; RunLocked naming the holder when another process has it (unless `wait`)."""
    path = lock_path(lake)
    if lake.is_local:
        lake.require()  # never create a lake by locking it
    key = str(path)
    with _guard:
        if _held.get(key):
            _held[key] += 1
            reentrant = True
        else:
            reentrant = False
    if reentrant:
        try:
            yield
        finally:
            with _guard:
                _held[key] -= 1
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        raise LakeError(f"cannot create the run lock {path}: {e.strerror}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise RunLocked(f"another run holds the lake ({_holder(fd)}); retry later or pass --wait") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"run_id": run_id, "pid": os.getpid(), "host": socket.gethostname(),
                                  "since": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}).encode(), 0)
        with _guard:
            _held[key] = 1
        try:
            yield
        finally:
            with _guard:
                _held.pop(key, None)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _holder(fd: int) -> str:
    try:
        info = json.loads(os.pread(fd, 4096, 0) or b"{}")
    except ValueError:
        return "holder unknown"
    if not info:
        return "holder unknown"
    return f"run {info.get('run_id')}, pid {info.get('pid')} on {info.get('host')}, since {info.get('since')}"
