"""X API v2 clients (live and replay) for `GET /2/tweets/search/recent`, and the query built for a coin."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import re
from pathlib import Path
from typing import Any

import httpx

from cryptopulse.sources.http import ApiClient, Fetched, SourceError
from cryptopulse.sources.landing import REQUEST_KEY
from cryptopulse.sources.x import settings as s


def coin_query(symbol: str, name: str) -> str:
    """`($BTC OR #bitcoin OR #btc) -is:retweet lang:en`: the coin's cashtag, name hashtag and symbol hashtag."""
    symbol = re.sub(r"[^a-z0-9]", "", symbol.lower())
    tag = re.sub(r"[^a-z0-9]", "", name.lower())
    terms = list(dict.fromkeys(t for t in (f"${symbol.upper()}" if symbol else "", f"#{tag}" if tag else "",
                                           f"#{symbol}" if symbol else "") if t))
    if not terms:
        raise SourceError(f"x: cannot build a query from symbol {symbol!r} and name {name!r}")
    return f"({' OR '.join(terms)}) {s.QUERY_SUFFIX}"


def iso(ts: dt.datetime) -> str:
    return ts.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def search_params(query: str, start_time: dt.datetime | None, end_time: dt.datetime | None, since_id: str | None,
                  until_id: str | None, next_token: str | None) -> dict[str, Any]:
    return {
        "query": query,
        "max_results": s.MAX_RESULTS,
        "tweet.fields": s.TWEET_FIELDS,
        "expansions": s.EXPANSIONS,
        "start_time": iso(start_time) if start_time else None,
        "end_time": iso(end_time) if end_time else None,
        "since_id": since_id,
        "until_id": until_id,
        "next_token": next_token,
    }


class XClient(ApiClient):
    """Live recent search with an app-only bearer token (`token`, else `X_BEARER_TOKEN`), paced by X's quota headers."""

    source = s.SOURCE

    def __init__(self, base_url: str | None = None, calls_per_minute: float = s.CALLS_PER_MINUTE, token: str | None = None,
                 **options: Any) -> None:
        token = token or os.environ.get(s.TOKEN_ENV, "")
        if not token:
            raise SourceError(f"x: {s.TOKEN_ENV} is not set (an app-only bearer token from the X developer portal)")
        options.setdefault("timeout", s.TIMEOUT_S)
        super().__init__(
            base_url or os.environ.get(s.BASE_URL_ENV) or s.BASE_URL,
            secret_headers={"authorization": f"Bearer {token}"},
            calls_per_minute=calls_per_minute,
            rate_headers=s.RATE_HEADERS,
            **options,
        )
        self.add_secret(token)

    def search_recent(self, query: str, *, start_time: dt.datetime | None = None, end_time: dt.datetime | None = None,
                      since_id: str | None = None, until_id: str | None = None, next_token: str | None = None) -> Fetched:
        return self.get_json(s.SEARCH_PATH, search_params(query, start_time, end_time, since_id, until_id, next_token))

    def classify(self, response: httpx.Response, method: str, path: str) -> SourceError | None:
        if response.status_code in (401, 403):
            return SourceError(
                f"x: {method} {path} refused (HTTP {response.status_code}): check {s.TOKEN_ENV} and that your plan includes recent search"
            )
        return None


class ReplayClient:
    """Serves recorded X search pages (JSONL, optionally gzipped, e.g. a lake's `raw/x/x/posts`) as if live.

    Tweets are grouped by the query in each page's `_request` (pages without one answer every query), then
    filtered and paged like the API: newest first, `since_id`/`until_id`/`start_time`/`end_time`, `next_token`.
    """

    source = s.SOURCE

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.retries = 0
        self.requests = 0
        self._tweets: dict[str, dict[str, dict[str, Any]]] = {}
        self._users: dict[str, dict[str, Any]] = {}
        for path in sorted(Path(folder).rglob("*.jsonl*")):
            data = path.read_bytes()
            for line in (gzip.decompress(data) if path.suffix == ".gz" else data).splitlines():
                if line.strip():
                    self._load(json.loads(line))

    def _load(self, page: dict[str, Any]) -> None:
        query = (page.get(REQUEST_KEY) or {}).get("params", {}).get("query", "*")
        bucket = self._tweets.setdefault(query, {})
        for tweet in page.get("data") or []:
            bucket[str(tweet.get("id"))] = tweet
        for user in (page.get("includes") or {}).get("users") or []:
            self._users[str(user.get("id"))] = user

    def search_recent(self, query: str, *, start_time: dt.datetime | None = None, end_time: dt.datetime | None = None,
                      since_id: str | None = None, until_id: str | None = None, next_token: str | None = None) -> Fetched:
        self.requests += 1
        tweets = {**self._tweets.get("*", {}), **self._tweets.get(query, {})}
        lo, hi = (iso(start_time) if start_time else ""), (iso(end_time) if end_time else "~")
        chosen = sorted(
            (t for i, t in tweets.items() if i.isdigit() and (not since_id or int(i) > int(since_id))
             and (not until_id or int(i) < int(until_id)) and lo <= t.get("created_at", "")[:19] + "Z" < hi),
            key=lambda t: -int(t["id"]),
        )
        offset = int(next_token or 0)
        data = chosen[offset : offset + s.MAX_RESULTS]
        body: dict[str, Any] = {"meta": {"result_count": len(data)}}
        if data:
            authors = {t.get("author_id") for t in data}
            body["data"] = data
            body["includes"] = {"users": [u for i, u in sorted(self._users.items()) if i in authors]}
            body["meta"].update(newest_id=data[0]["id"], oldest_id=data[-1]["id"])
        if offset + s.MAX_RESULTS < len(chosen):
            body["meta"]["next_token"] = str(offset + s.MAX_RESULTS)
        params = search_params(query, start_time, end_time, since_id, until_id, next_token)
        return Fetched(body, 200, httpx.Headers(), s.SEARCH_PATH, {k: v for k, v in params.items() if v is not None},
                       dt.datetime.now(dt.UTC), "x-replay")

    def close(self) -> None:
        pass
