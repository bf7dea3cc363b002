"""X (Twitter) API v2 source: recent-search pages per coin query, landed per day with a `since_id` cursor per query."""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from cryptopulse.lake import Lake
from cryptopulse.sources.cursors import CursorStore, crawl_with_cursor
from cryptopulse.sources.http import Fetched, SourceError
from cryptopulse.sources.landing import IngestReport, PageBatcher, group_by_day, with_request
from cryptopulse.sources.x import settings as s
from cryptopulse.sources.x.helpers import ReplayClient, XClient, coin_query

__all__ = ["ReplayClient", "XClient", "coin_queries", "coin_query", "ingest_x"]

log = logging.getLogger("cryptopulse.sources.x")
MAX_SAME_TOKEN = 3  # a search that returns the same next_token this often is stuck, not repeating once


class Client(Protocol):
    retries: int
    requests: int

    def search_recent(self, query: str, *, start_time: dt.datetime | None = None, end_time: dt.datetime | None = None,
                      since_id: str | None = None, until_id: str | None = None, next_token: str | None = None) -> Fetched: ...


def ingest_x(
    lake: Lake,
    coins: list[str] | None = None,
    queries: dict[str, str] | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    client: Client | None = None,
    now: dt.datetime | None = None,
) -> IngestReport:
    """Land recent-search pages for each coin's query (or each of `queries`, name → query) over [start, end).

    Coins are looked up in the CoinGecko files already in the lake (run the CoinGecko ingest first).
    Recent search reaches back 7 days, so `start` is moved up to that limit. Each query keeps a cursor:
    a rerun fetches only newer posts, and finishes what an interrupted run left.
    """
    targets = {**coin_queries(lake, coins or []), **(queries or {})}
    if not targets:
        raise SourceError("x: name the coins (or queries) to search for")
    now = now or dt.datetime.now(dt.UTC)
    if client is None:
        with XClient() as live:
            return ingest_x(lake, coins, queries, start, end, live, now)
    start_time, end_time = _window(start, end, now)
    if start and start_time > dt.datetime.combine(start, dt.time(), dt.UTC):
        log.warning("x: recent search reaches back %d days only; starting at %s instead of %s", s.RECENT_DAYS, start_time, start)
    report = IngestReport(source=s.SOURCE)
    started, retries0, requests0 = time.perf_counter(), client.retries, client.requests
    cursors = CursorStore(lake, s.SOURCE)
    if start_time < end_time:
        for name, query in targets.items():
            crawl_with_cursor(cursors, query, lambda stop, resume, on_flush, name=name, query=query: _crawl(
                lake, client, name, query, (start_time, end_time), stop, resume, on_flush, report))
    else:
        log.warning("x: [%s, %s) is outside recent search's last %d days; nothing to fetch", start, end, s.RECENT_DAYS)
    report.retries, report.requests = client.retries - retries0, client.requests - requests0
    report.seconds = time.perf_counter() - started
    log.info("x: %d queries, %d pages, %d posts, %d files, %d retries in %.1f s",
             len(targets), report.pages, report.records, len(report.files), report.retries, report.seconds)
    return report


def coin_queries(lake: Lake, coins: list[str]) -> dict[str, str]:
    """coin id → search query, from the symbols and names in the lake's CoinGecko markets and coin lists."""
    known: dict[str, dict[str, Any]] = {}
    for pattern in ("raw/*/coingecko/coins_list.json", "raw/*/coingecko/coins_markets.json"):
        for path in lake.glob(pattern):
            body = json.loads(lake.read_bytes(path))
            known.update((c["id"], c) for c in body if isinstance(c, dict) and c.get("id"))
    missing = [c for c in coins if c not in known]
    if missing:
        raise SourceError(f"x: no symbol known for {', '.join(missing)} (ingest CoinGecko first, or pass queries)")
    return {c: coin_query(known[c].get("symbol", ""), known[c].get("name", "")) for c in coins}


def _window(start: dt.date | None, end: dt.date | None, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    earliest = now - dt.timedelta(days=s.RECENT_DAYS) + dt.timedelta(minutes=1)
    latest = now - dt.timedelta(seconds=s.END_LAG_S)
    lo = dt.datetime.combine(start, dt.time(), dt.UTC) if start else earliest
    hi = dt.datetime.combine(end, dt.time(), dt.UTC) if end else latest
    return max(lo, earliest), min(hi, latest)


def _pages(client: Client, query: str, window: tuple[dt.datetime, dt.datetime], since_id: str | None,
           until_id: str | None) -> Iterator[Fetched]:
    """Every page of one search, following `next_token` until it ends (or keeps pointing at the same page)."""
    token: str | None = None
    tokens: Counter[str] = Counter()
    while True:
        fetched = client.search_recent(query, start_time=window[0], end_time=window[1], since_id=since_id,
                                       until_id=until_id, next_token=token)
        yield fetched
        token = (fetched.body.get("meta") or {}).get("next_token")
        tokens[token] += 1
        if not token or tokens[token] > MAX_SAME_TOKEN:
            return


def _crawl(lake: Lake, client: Client, name: str, query: str, window: tuple[dt.datetime, dt.datetime],
           stop: str | None, resume: str | None, on_flush: Callable[[Any, str], None], report: IngestReport) -> str | None:
    """Land one search's pages newer than `stop` (and older than `resume`); return the newest post id landed."""
    newest: str | None = None
    seen: set[str] = set()
    batcher = PageBatcher(lake, s.POSTS_DIR, name, lambda marker: on_flush(newest, marker), s.PAGES_PER_FILE)
    for fetched in _pages(client, query, window, stop, resume):
        page = _unseen(fetched.body, seen, report)
        if page is None:
            continue
        for day, part in _parts_by_day(page, fetched.fetched_at.date()):
            ids = _ids(part) or _ids(page)
            newest = newest or str(ids[-1])
            batcher.add(day, with_request(part, fetched.request), key=str(ids[-1]), marker=str(ids[0]))
        report.pages += 1
        report.records += len(page["data"])
    batcher.flush()
    report.files.extend(batcher.files)
    return newest


def _unseen(body: dict[str, Any], seen: set[str], report: IngestReport) -> dict[str, Any] | None:
    """The page without posts this run already landed (an API that repeats a page), or None if nothing is new.

    Posts without a numeric id cannot be placed in the id order, so they are landed with the page for
    staging to quarantine, but a page of only such posts is dropped.
    """
    tweets = body.get("data") or []
    fresh = [t for t in tweets if str(t.get("id", "")) not in seen]
    report.repeated += len(tweets) - len(fresh)
    if not any(str(t.get("id", "")).isdigit() for t in fresh):
        return None
    seen.update(str(t.get("id", "")) for t in fresh)
    return {**body, "data": fresh, "meta": {**(body.get("meta") or {}), "result_count": len(fresh)}}


def _ids(page: dict[str, Any]) -> list[int]:
    return sorted(int(t["id"]) for t in page["data"] if str(t.get("id", "")).isdigit())


def _parts_by_day(page: dict[str, Any], fetched_on: dt.date) -> list[tuple[dt.date, dict[str, Any]]]:
    """The page as one part per UTC day of its posts (newest day first), each with its own users and meta."""
    users = (page.get("includes") or {}).get("users") or []
    parts = []
    for day, tweets in group_by_day(page["data"], _created_day, fetched_on):
        authors = {t.get("author_id") for t in tweets}
        ids = _ids({"data": tweets})
        meta = {**(page.get("meta") or {}), "result_count": len(tweets)}
        if ids:
            meta.update(newest_id=str(ids[-1]), oldest_id=str(ids[0]))
        includes = {**(page.get("includes") or {}), "users": [u for u in users if u.get("id") in authors]}
        parts.append((day, {**page, "data": tweets, "includes": includes, "meta": meta}))
    return parts


def _created_day(tweet: dict[str, Any]) -> dt.date | None:
    try:
        return dt.datetime.fromisoformat(str(tweet.get("created_at")).replace("Z", "+00:00")).astimezone(dt.UTC).date()
    except ValueError:
        return None
