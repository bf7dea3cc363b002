"""Reddit source: `/r/{sub}/new` listings per subreddit, landed per day, paging stopped at the newest post already seen."""

from __future__ import annotations

import datetime as dt
import logging
from functools import partial
from typing import Any, Protocol

from cryptopulse.lake import Lake
from cryptopulse.sources.crawl import OnFlush, Page, follow, ingest_crawls, land_crawl, log_report
from cryptopulse.sources.http import Fetched, SourceError
from cryptopulse.sources.landing import IngestReport, group_by_day
from cryptopulse.sources.reddit import settings as s
from cryptopulse.sources.reddit.helpers import RedditClient, ReplayClient, resolve_user_agent

__all__ = ["RedditClient", "ReplayClient", "ingest_reddit", "resolve_user_agent"]

log = logging.getLogger("cryptopulse.sources.reddit")


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
    subs = [sub.removeprefix("r/") for sub in subreddits]
    report = ingest_crawls(lake, s.SOURCE, client, [(sub.lower(), partial(_crawl, lake, client, sub, window)) for sub in subs])
    log_report(log, report, len(subreddits), "subreddits")
    return report


def _epoch(day: dt.date | None, default: float) -> float:
    return dt.datetime.combine(day, dt.time(), dt.UTC).timestamp() if day else default


def _crawl(lake: Lake, client: Client, sub: str, window: tuple[float, float], stop: dict[str, Any] | None,
           resume: str | None, on_flush: OnFlush, report: IngestReport) -> dict[str, Any] | None:
    """Land the listing's posts newer than `stop` (and older than `resume`); return the newest post landed."""
    pages = follow(lambda after: client.new(sub, after), lambda body: (body.get("data") or {}).get("after"), resume)
    return land_crawl(lake, s.POSTS_DIR, sub.lower(), s.PAGES_PER_FILE, pages,
                      lambda fetched, seen: _page(fetched, window, stop, seen), on_flush, report)


def _page(fetched: Fetched, window: tuple[float, float], stop: dict[str, Any] | None, seen: set[str]) -> Page:
    """The listing page's children to land, per day, and whether paging can stop."""
    kept, repeated, done = _select(fetched.body["data"].get("children") or [], window, stop, seen)
    if not kept:
        return Page(repeated=repeated, done=done)
    parts = [(day, {**fetched.body, "data": {**fetched.body["data"], "children": children}},
              children[0]["data"]["name"], children[-1]["data"]["name"])
             for day, children in group_by_day(kept, _created_day, fetched.fetched_at.date())]
    first = kept[0]["data"]
    newest = {"name": first["name"], "created_utc": first.get("created_utc")}
    return Page(parts, newest=newest, records=len(kept), repeated=repeated, done=done)


def _select(children: list[dict[str, Any]], window: tuple[float, float], stop: dict[str, Any] | None,
            seen: set[str]) -> tuple[list[dict[str, Any]], int, bool]:
    """The children to land, how many were landed already, and whether paging can stop (the cursor or `start` was reached)."""
    kept, repeated = [], 0
    for child in children:
        d = child.get("data") or {}
        name, created = d.get("name"), d.get("created_utc")
        timed = isinstance(created, int | float)
        if stop and (name == stop["name"] or (timed and stop.get("created_utc") is not None and created < stop["created_utc"])):
            return kept, repeated, True
        if timed and created < window[0]:
            return kept, repeated, True
        if (timed and created >= window[1]) or not name:
            continue
        if name in seen:
            repeated += 1
            continue
        seen.add(name)
        kept.append(child)
    return kept, repeated, False


def _created_day(child: dict[str, Any]) -> dt.date | None:
    created = (child.get("data") or {}).get("created_utc")
    return dt.datetime.fromtimestamp(created, dt.UTC).date() if isinstance(created, int | float) and created > 0 else None
