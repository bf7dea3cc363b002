"""X (Twitter) API v2 source: recent-search pages per coin query, landed per day with a `since_id` cursor per query."""

from __future__ import annotations

import datetime as dt
import json
import logging
from functools import partial
from typing import Any, Protocol

from cryptopulse.lake import Lake
from cryptopulse.sources.crawl import OnFlush, Page, follow, ingest_crawls, land_crawl, log_report
from cryptopulse.sources.http import Fetched, SourceError
from cryptopulse.sources.landing import IngestReport, group_by_day
from cryptopulse.sources.x import settings as s
from cryptopulse.sources.x.helpers import ReplayClient, XClient, coin_query

__all__ = ["ReplayClient", "XClient", "coin_queries", "coin_query", "ingest_x"]

log = logging.getLogger("cryptopulse.sources.x")


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
    crawls = [(query, partial(_crawl, lake, client, name, query, (start_time, end_time))) for name, query in targets.items()]
    if start_time >= end_time:
        log.warning("x: [%s, %s) is outside recent search's last %d days; nothing to fetch", start, end, s.RECENT_DAYS)
        crawls = []
    report = ingest_crawls(lake, s.SOURCE, client, crawls)
    log_report(log, report, len(targets), "queries")
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


def _crawl(lake: Lake, client: Client, name: str, query: str, window: tuple[dt.datetime, dt.datetime],
           stop: str | None, resume: str | None, on_flush: OnFlush, report: IngestReport) -> str | None:
    """Land one search's pages newer than `stop` (and older than `resume`); return the newest post id landed."""
    pages = follow(lambda token: client.search_recent(query, start_time=window[0], end_time=window[1], since_id=stop,
                                                      until_id=resume, next_token=token),
                   lambda body: (body.get("meta") or {}).get("next_token"))
    return land_crawl(lake, s.POSTS_DIR, name, s.PAGES_PER_FILE, pages, _page, on_flush, report)


def _page(fetched: Fetched, seen: set[str]) -> Page:
    """The page without posts this run already landed (an API that repeats a page), split per day.

    Posts without a numeric id cannot be placed in the id order, so they are landed with the page for
    staging to quarantine, but a page of only such posts is dropped.
    """
    tweets = fetched.body.get("data") or []
    fresh = [t for t in tweets if str(t.get("id", "")) not in seen]
    repeated = len(tweets) - len(fresh)
    if not any(str(t.get("id", "")).isdigit() for t in fresh):
        return Page(repeated=repeated)
    seen.update(str(t.get("id", "")) for t in fresh)
    page = {**fetched.body, "data": fresh, "meta": {**(fetched.body.get("meta") or {}), "result_count": len(fresh)}}
    parts = []
    for day, part in _parts_by_day(page, fetched.fetched_at.date()):
        ids = _ids(part) or _ids(page)
        parts.append((day, part, str(ids[-1]), str(ids[0])))
    return Page(parts, newest=parts[0][2], records=len(fresh), repeated=repeated)


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
