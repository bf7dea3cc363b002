"""JSON presets: recognise an API body (X v2 pages, snscrape lines, Reddit listings, CoinGecko charts and coin lists)
and turn it into rows of importer fields. Each function returns None when the document is not its shape."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cryptopulse.sources.importers.presets import lookup
from cryptopulse.sources.importers.reading import FileContent, Row, is_unreadable


def unwrap(body: Any) -> Any:
    """`{"data": X}` (a common way to save an API answer) → X, when `data` is the only key."""
    if isinstance(body, dict) and set(body) == {"data"}:
        return body["data"]
    return body


def items(content: FileContent) -> list[Any]:
    """The document's top-level records: JSON Lines lines, an array's elements, or the one object."""
    if content.kind == "jsonl":
        return content.lines
    body = unwrap(content.body)
    return body if isinstance(body, list) else [body]


def _rows(found: list[tuple[Any, Any]]) -> list[Row]:
    """(fields, raw record) pairs → numbered rows; an unreadable JSON line becomes a row with a problem."""
    return [Row(n, values, None, raw) if not is_unreadable(values) else Row(n, {}, "unreadable_line", values.text)
            for n, (values, raw) in enumerate(found, start=1)]


def _dicts(objs: list[Any]) -> bool:
    readable = [o for o in objs if not is_unreadable(o)]
    return bool(readable) and all(isinstance(o, dict) for o in readable)


def x_api_v2(content: FileContent) -> list[Row] | None:
    """Search pages (`{"data": [tweets], "includes": {"users": …}}`), one per line, in an array, or alone."""
    pages = items(content) if content.kind == "jsonl" else _as_list(content.body)
    if not _dicts(pages) or not any(_is_tweet_page(p) for p in pages if isinstance(p, dict)):
        return None
    return _expand(pages, _page_tweets)


def _expand(objs: list[Any], records_of: Callable[[dict[str, Any]], list[tuple[Any, Any]]]) -> list[Row]:
    """Rows of every (fields, raw) record in `objs`; an unreadable line stays one row of its own."""
    found: list[tuple[Any, Any]] = []
    for obj in objs:
        found.extend([(obj, None)] if is_unreadable(obj) else records_of(obj))
    return _rows(found)


def _page_tweets(page: dict[str, Any]) -> list[tuple[Any, Any]]:
    users = {u.get("id"): u for u in (page.get("includes") or {}).get("users") or [] if isinstance(u, dict)}
    return [(_tweet_fields(tweet, users), tweet) for tweet in page.get("data") or []]


def _as_list(body: Any) -> list[Any]:
    return body if isinstance(body, list) else [body]


def _is_tweet_page(page: dict[str, Any]) -> bool:
    data = page.get("data")
    return isinstance(data, list) and (not data or (isinstance(data[0], dict) and "text" in data[0] and "id" in data[0]))


def _tweet_fields(tweet: Any, users: dict[Any, dict[str, Any]]) -> dict[str, Any]:
    if not isinstance(tweet, dict):
        return {"text": None, "_raw": tweet}
    metrics = tweet.get("public_metrics") or {}
    user = users.get(tweet.get("author_id")) or {}
    return {
        "id": tweet.get("id"), "text": tweet.get("text"), "created_at": tweet.get("created_at"),
        "author_id": tweet.get("author_id"), "author": user.get("username"), "lang": tweet.get("lang"),
        "like_count": metrics.get("like_count"), "retweet_count": metrics.get("retweet_count"),
        "reply_count": metrics.get("reply_count"), "quote_count": metrics.get("quote_count"),
    }  # fmt: skip


def snscrape(content: FileContent) -> list[Row] | None:
    """snscrape's `--jsonl` tweets: text in `rawContent` (newer versions) or `content` (older), `date`, `user`."""
    lines = items(content)
    if not _dicts(lines) or not any(isinstance(t, dict) and ("rawContent" in t or "content" in t) and "date" in t for t in lines):
        return None
    return _expand(lines, lambda t: [(_snscrape_fields(t), t)])


def _snscrape_fields(t: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": t.get("id") if t.get("id") is not None else t.get("id_str"),
        "text": t.get("rawContent") if t.get("rawContent") is not None else t.get("content"),
        "created_at": t.get("date"), "author": lookup(t, "user.username"), "author_id": lookup(t, "user.id"),
        "lang": t.get("lang"), "like_count": t.get("likeCount"), "retweet_count": t.get("retweetCount"),
        "reply_count": t.get("replyCount"), "quote_count": t.get("quoteCount"), "url": t.get("url"),
    }  # fmt: skip


def reddit_listing(content: FileContent) -> list[Row] | None:
    """`/r/{sub}/new` Listings (one per line, an array of them, or one), or bare `t3` things."""
    objs = items(content) if content.kind == "jsonl" else _as_list(content.body)
    if not _dicts(objs) or not any(isinstance(o, dict) and o.get("kind") in ("Listing", "t3") for o in objs):
        return None
    return _expand(objs, _listing_children)


def _listing_children(obj: dict[str, Any]) -> list[tuple[Any, Any]]:
    children = (obj.get("data") or {}).get("children") or [] if obj.get("kind") == "Listing" else [obj]
    return [(_reddit_fields((child.get("data") if isinstance(child, dict) else None) or {}), child) for child in children]


def _reddit_fields(post: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": post.get("name") or post.get("id"), "title": post.get("title"), "body": post.get("selftext"),
        "created_at": post.get("created_utc"), "author": post.get("author"), "author_id": post.get("author_fullname"),
        "score": post.get("score"), "num_comments": post.get("num_comments"), "channel": post.get("subreddit"),
        "url": post.get("permalink") or post.get("url"),
    }  # fmt: skip


def market_chart(content: FileContent) -> list[Row] | None:
    """`/coins/{id}/market_chart` (also `{"data": …}`): one row per price point, its cap and volume matched by timestamp."""
    body = unwrap(content.body) if content.kind == "json" else None
    if not isinstance(body, dict) or not isinstance(body.get("prices"), list):
        return None
    caps = _by_timestamp(body.get("market_caps"))
    volumes = _by_timestamp(body.get("total_volumes"))
    found = []
    for point in body["prices"]:
        ts, price = (point[0], point[1]) if isinstance(point, list) and len(point) == 2 else (None, None)
        key = _key(ts)
        found.append(({"timestamp": ts, "price": price, "market_cap": caps.get(key) if caps is not None else None,
                       "volume": volumes.get(key) if volumes is not None else None}, point))
    rows = _rows(found)
    if caps is None:
        for row in rows:
            row.values.pop("market_cap")
    return rows


def _key(ts: Any) -> str:
    return str(ts)


def _by_timestamp(pairs: Any) -> dict[str, Any] | None:
    if not isinstance(pairs, list):
        return None
    return {_key(p[0]): p[1] for p in pairs if isinstance(p, list) and len(p) == 2}


def coins_list(content: FileContent) -> list[Row] | None:
    """`/coins/list`: an array of `{id, symbol, name}`, or a dict keyed by id (as some tools save it)."""
    body = unwrap(content.body) if content.kind == "json" else None
    if isinstance(body, dict) and body and all(isinstance(v, dict) and "symbol" in v for v in body.values()):
        entries = [{"id": v.get("id", k), **{f: v.get(f) for f in ("symbol", "name")}} for k, v in body.items()]
    elif isinstance(body, list) and body and all(isinstance(v, dict) and "symbol" in v and "current_price" not in v for v in body):
        entries = [{f: v.get(f) for f in ("id", "symbol", "name")} for v in body]
    else:
        return None
    return _rows([(e, e) for e in entries])


def coins_markets(content: FileContent) -> list[Row] | None:
    """`/coins/markets`: an array (also `{"data": […]}`) of coins with `current_price` and `market_cap_rank`."""
    body = unwrap(content.body) if content.kind == "json" else None
    if not (isinstance(body, list) and body and all(isinstance(v, dict) and "current_price" in v for v in body)):
        return None
    return _rows([(dict(v), v) for v in body])


def generic_records(content: FileContent) -> list[Row]:
    """Any JSON array / JSON Lines of objects (or `{"data": […]}`), one row per object, for `--map`."""
    return _rows([(o if isinstance(o, dict) or is_unreadable(o) else {"_value": o}, o) for o in items(content)])
