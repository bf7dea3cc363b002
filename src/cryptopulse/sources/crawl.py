"""The newest-first crawl that X and Reddit share: follow a page link, land each page's new posts per day, keep a cursor."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from cryptopulse.lake import Lake
from cryptopulse.sources.cursors import CursorStore, crawl_with_cursor
from cryptopulse.sources.http import Fetched
from cryptopulse.sources.landing import IngestReport, PageBatcher, with_request

MAX_SAME_LINK = 3  # a listing that points at the same next page this often is stuck, not repeating once

OnFlush = Callable[[Any, str], None]
CrawlOne = Callable[[Any, "str | None", OnFlush, IngestReport], Any]


class Counted(Protocol):
    """A client that counts its requests and retries (the report gives this crawl's share)."""

    retries: int
    requests: int


@dataclass
class Page:
    """What one fetched page lands: (day, body, file key, resume marker) per day, newest record first; whether paging stops."""

    parts: list[tuple[dt.date, dict[str, Any], str, str]] = field(default_factory=list)
    newest: Any = None
    records: int = 0
    repeated: int = 0
    done: bool = False


def ingest_crawls(lake: Lake, source: str, client: Counted, crawls: Iterable[tuple[str, CrawlOne]]) -> IngestReport:
    """Run each `(cursor key, crawl)` under its cursor (`crawl_with_cursor`); report pages, records, files, requests, time."""
    report = IngestReport(source=source)
    started, retries0, requests0 = time.perf_counter(), client.retries, client.requests
    cursors = CursorStore(lake, source)
    for key, crawl in crawls:
        crawl_with_cursor(cursors, key, lambda stop, resume, on_flush, crawl=crawl: crawl(stop, resume, on_flush, report))
    report.retries, report.requests = client.retries - retries0, client.requests - requests0
    report.seconds = time.perf_counter() - started
    return report


def follow(fetch: Callable[[str | None], Fetched], link: Callable[[dict[str, Any]], str | None],
           first: str | None = None) -> Iterator[Fetched]:
    """Every page from `fetch(first)` on, following `link(body)` until it ends (or keeps pointing at the same page)."""
    seen: Counter[str | None] = Counter()
    anchor = first
    while True:
        fetched = fetch(anchor)
        yield fetched
        anchor = link(fetched.body)
        seen[anchor] += 1
        if not anchor or seen[anchor] > MAX_SAME_LINK:
            return


def land_crawl(lake: Lake, folder: str, prefix: str, pages_per_file: int, pages: Iterable[Fetched],
               select: Callable[[Fetched, set[str]], Page], on_flush: OnFlush, report: IngestReport) -> Any:
    """Land what `select` keeps of each page (it sees the ids landed so far); return the newest record landed."""
    newest: Any = None
    seen: set[str] = set()
    batcher = PageBatcher(lake, folder, prefix, lambda marker: on_flush(newest, marker), pages_per_file)
    for fetched in pages:
        page = select(fetched, seen)
        report.repeated += page.repeated
        if page.parts:
            newest = newest or page.newest
            for day, body, key, marker in page.parts:
                batcher.add(day, with_request(body, fetched.request), key=key, marker=marker)
            report.pages += 1
            report.records += page.records
        if page.done:
            break
    batcher.flush()
    report.files.extend(batcher.files)
    return newest


def log_report(log: logging.Logger, report: IngestReport, crawls: int, what: str) -> None:
    log.info("%s: %d %s, %d pages, %d posts, %d files, %d retries in %.1f s", report.source, crawls, what,
             report.pages, report.records, len(report.files), report.retries, report.seconds)
