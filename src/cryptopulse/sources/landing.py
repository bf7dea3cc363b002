"""Land API bodies in the raw zone: JSON files and JSONL pages with their `_request` metadata, written atomically."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import posixpath
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from cryptopulse.lake import Lake

REQUEST_KEY = "_request"


@dataclass
class IngestReport:
    """What one ingest did: pages fetched and landed, records in them, files written, retries, time taken."""

    source: str
    pages: int = 0
    records: int = 0
    files: list[str] = field(default_factory=list)
    retries: int = 0
    requests: int = 0
    skipped: int = 0  # units (coin-months, pages) the cursor said were already landed
    repeated: int = 0  # records dropped because the API served them twice in one run
    seconds: float = 0.0

    @property
    def files_written(self) -> int:
        return len(self.files)

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "files": list(self.files), "files_written": self.files_written, "seconds": round(self.seconds, 3)}


def encode(data: bytes, relpath: str) -> bytes:
    """`data` gzip-compressed (deterministically) when `relpath` ends in `.gz`."""
    return gzip.compress(data, mtime=0) if relpath.endswith(".gz") else data


def land_json(lake: Lake, relpath: str, body: Any, request: dict[str, Any]) -> None:
    """Write one API body to `relpath` with its request metadata.

    An object body gets a top-level `_request` key. An array body (`/coins/list`) stays as it is, since
    staging reads it as an array; its metadata goes beside it to `<folder>/_requests/<name>`, which the
    lake's globs (and so staging) skip.
    """
    if isinstance(body, dict):
        lake.write_bytes(relpath, encode(_dumps({**body, REQUEST_KEY: request}), relpath))
        return
    lake.write_bytes(relpath, encode(_dumps(body), relpath))
    folder, name = posixpath.split(relpath)
    lake.write_bytes(f"{folder}/_requests/{name.removesuffix('.gz')}", _dumps(request))


def land_pages(lake: Lake, relpath: str, pages: Iterable[dict[str, Any]]) -> int:
    """Write pages (each already carrying its `_request`) as one JSONL file; returns the number of lines."""
    lines = [_dumps(p) for p in pages]
    lake.write_bytes(relpath, encode(b"\n".join(lines) + b"\n", relpath))
    return len(lines)


def with_request(body: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    return {**body, REQUEST_KEY: request}


def strip_request(body: Any) -> Any:
    """A landed body without its `_request` key (what the API returned)."""
    return {k: v for k, v in body.items() if k != REQUEST_KEY} if isinstance(body, dict) else body


def group_by_day(items: list[Any], day_of: Callable[[Any], dt.date | None], fallback: dt.date) -> list[tuple[dt.date, list[Any]]]:
    """Items grouped by UTC day, days in order of first appearance (newest first for a newest-first page).

    An item without a readable day joins the group of the item before it (leading ones join the first
    group; `fallback` if no item has a day). Sources land a page that spans several days (a quiet
    query) as one part per day, so that staging, which prunes partitions by day, never misses a post.
    """
    groups: dict[dt.date, list[Any]] = {}
    leading: list[Any] = []
    current: dt.date | None = None
    for item in items:
        current = day_of(item) or current
        if current is None:
            leading.append(item)
            continue
        if leading:
            groups.setdefault(current, []).extend(leading)
            leading = []
        groups.setdefault(current, []).append(item)
    return list(groups.items()) or ([(fallback, leading)] if leading else [])


class PageBatcher:
    """Land the consecutive pages of one crawl as JSONL files: one file per day and run of pages.

    Pages arrive newest first. A file is written when the day changes, after `max_pages` pages, or on
    `flush()`; then `on_flush(marker)` receives the resume marker of the last page written, so the
    caller can record how far the landed data reaches. The file is named after the first page's key,
    so landing the same pages again overwrites instead of duplicating.
    """

    def __init__(self, lake: Lake, folder: str, prefix: str, on_flush: Callable[[str], None], max_pages: int = 50) -> None:
        self.lake = lake
        self.folder = folder
        self.prefix = prefix
        self.on_flush = on_flush
        self.max_pages = max_pages
        self.files: list[str] = []
        self._pages: list[dict[str, Any]] = []
        self._day: dt.date | None = None
        self._key = ""
        self._marker = ""

    def add(self, day: dt.date, page: dict[str, Any], key: str, marker: str) -> None:
        if self._pages and (day != self._day or len(self._pages) >= self.max_pages):
            self.flush()
        if not self._pages:
            self._day, self._key = day, key
        self._pages.append(page)
        self._marker = marker

    def flush(self) -> None:
        if not self._pages:
            return
        relpath = f"{self.folder}/date={self._day}/{self.prefix}-{self._key}.jsonl.gz"
        land_pages(self.lake, relpath, self._pages)
        self.files.append(relpath)
        self._pages = []
        self.on_flush(self._marker)


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
