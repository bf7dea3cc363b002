"""Reddit source: `/r/{sub}/new` listings per subreddit, landed per day, paging stopped at the newest post already seen."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from cryptopulse.lake import Lake
from cryptopulse.sources.cursors import CursorStore, crawl_with_cursor
from cryptopulse.sources.http import Fetched, SourceError
from cryptopulse.sources.landing import IngestReport, PageBatcher, group_by_day, with_request
from cryptopulse.sources.reddit import settings as s
from cryptopulse.sources.reddit.helpers import RedditClient, ReplayClient, resolve_user_agent

__all__ = ["RedditClient", "ReplayClient", "ingest_reddit", "resolve_user_agent"]

log = logging.getLogger("cryptopulse.sources.reddit")
MAX_SAME_ANCHOR = 3  # a listing that points at the same page this often is stuck, not repeating once


class Client(Protocol):
    retries: int
    requests: int

    def new(self, subreddit: str, after: str | None = None) -> Fetched: ...


def ingest_reddit(
    lake: Lake,
    subreddits: list[str],
    start: dt.date | None = None,
    end: dt.date | None = None,
    client: Client | None = None,
) -> IngestReport:
    """Land the newest posts of each subreddit created in [start, end) (open-ended when None).

    Paging walks newest → oldest and stops at the subreddit's cursor (the newest post landed before),
    at `start`, or where the listing ends (Reddit keeps about 1000 posts per listing).
    """
    if not subreddits:
        raise SourceError("reddit: name at least one subreddit")
    if client is None:
        with RedditClient() as live:
            return ingest_reddit(lake, subreddits, start, end, live)
    window = (_epoch(start, float("-inf")), _epoch(end, float("inf")))
    report = IngestReport(source=s.SOURCE)
    started, retries0, requests0 = time.perf_counter(), client.retries, client.requests
    cursors = CursorStore(lake, s.SOURCE)
    for sub in subreddits:
        sub = sub.removeprefix("r/")
        crawl_with_cursor(cursors, sub.lower(), lambda stop, resume, on_flush, sub=sub: _crawl(
            lake, client, sub, window, stop, resume, on_flush, report))
    report.retries, report.requests = client.retries - retries0, client.requests - requests0
    report.seconds = time.perf_counter() - started
    log.info("reddit: %d subreddits, %d pages, %d posts, %d files, %d retries in %.1f s",
             len(subreddits), report.pages, report.records, len(report.files), report.retries, report.seconds)
    return report


def _epoch(day: dt.date | None, default: float) -> float:
    return dt.datetime.combine(day, dt.time(), dt.UTC).timestamp() if day else default


def _pages(client: Client, sub: str, after: str | None) -> Iterator[Fetched]:
    """Every page of the listing, following `after` until it ends (or keeps pointing at the same page)."""
    anchors: Counter[str] = Counter()
    while True:
        fetched = client.new(sub, after)
        yield fetched
        after = (fetched.body.get("data") or {}).get("after")
        anchors[after] += 1
        if not after or anchors[after] > MAX_SAME_ANCHOR:
            return


def _crawl(lake: Lake, client: Client, sub: str, window: tuple[float, float], stop: dict[str, Any] | None,
           resume: str | None, on_flush: Callable[[Any, str], None], report: IngestReport) -> dict[str, Any] | None:
    """Land the listing's posts newer than `stop` (and older than `resume`); return the newest post landed."""
    newest: dict[str, Any] | None = None
    seen: set[str] = set()
    batcher = PageBatcher(lake, s.POSTS_DIR, sub.lower(), lambda marker: on_flush(newest, marker), s.PAGES_PER_FILE)
    for fetched in _pages(client, sub, resume):
        kept, done = _select(fetched.body["data"].get("children") or [], window, stop, seen, report)
        if kept:
            first = kept[0]["data"]
            newest = newest or {"name": first["name"], "created_utc": first.get("created_utc")}
            for day, children in group_by_day(kept, _created_day, fetched.fetched_at.date()):
                part = {**fetched.body, "data": {**fetched.body["data"], "children": children}}
                batcher.add(day, with_request(part, fetched.request), key=children[0]["data"]["name"],
                            marker=children[-1]["data"]["name"])
            report.pages += 1
            report.records += len(kept)
        if done:
            break
    batcher.flush()
    report.files.extend(batcher.files)
    return newest


def _select(children: list[dict[str, Any]], window: tuple[float, float], stop: dict[str, Any] | None, seen: set[str],
            report: IngestReport) -> tuple[list[dict[str, Any]], bool]:
    """The children to land, and whether paging can stop (the cursor or `start` was reached)."""
    kept = []
    for child in children:
        d = child.get("data") or {}
        name, created = d.get("name"), d.get("created_utc")
        timed = isinstance(created, int | float)
        if stop and (name == stop["name"] or (timed and stop.get("created_utc") is not None and created < stop["created_utc"])):
            return kept, True
        if timed and created < window[0]:
            return kept, True
        if (timed and created >= window[1]) or not name:
            continue
        if name in seen:
            report.repeated += 1
            continue
        seen.add(name)
        kept.append(child)
    return kept, False


def _created_day(child: dict[str, Any]) -> dt.date | None:
    created = (child.get("data") or {}).get("created_utc")
    return dt.datetime.fromtimestamp(created, dt.UTC).date() if isinstance(created, int | float) and created > 0 else None
