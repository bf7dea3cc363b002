"""CSV presets (which header columns feed which field) and the generic `--map col=field,…` mapping."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cryptopulse.sources.importers.errors import ImportFileError

# The fields an imported post or price point can carry; presets and `--map` name these.
POST_FIELDS = (
    "id", "text", "title", "body", "created_at", "author", "author_id", "like_count", "retweet_count",
    "reply_count", "quote_count", "score", "num_comments", "channel", "url", "lang",
)  # fmt: skip
PRICE_FIELDS = ("timestamp", "price", "market_cap", "volume", "volume_base", "symbol")
# Mapped fields that make a generic post file Reddit-like (landed as a Listing, channel kept) rather than X-like.
REDDIT_FIELDS = {"title", "body", "score", "num_comments", "channel"}


@dataclass(frozen=True)
class CsvPreset:
    """A known CSV layout: for each field, the header names (case-insensitive, in order of preference) that feed it."""

    name: str
    dataset: str  # "posts" or "prices"
    shape: str  # "x" | "reddit" (posts), "chart" (prices)
    columns: dict[str, tuple[str, ...]]
    required: tuple[str, ...]

    def resolve(self, header: list[str]) -> dict[str, str] | None:
        """field → the header column that feeds it, or None when a required field has no column."""
        by_lower = {c.lower(): c for c in header if c}
        chosen = {}
        for field_name, candidates in self.columns.items():
            column = next((by_lower[c] for c in candidates if c in by_lower), None)
            if column is not None:
                chosen[field_name] = column
        return chosen if all(f in chosen for f in self.required) else None


CSV_PRESETS = (
    CsvPreset(
        "praw-csv", "posts", "reddit",
        {
            "id": ("id", "post_id", "name"),
            "title": ("title",),
            "body": ("selftext", "body", "description", "text"),
            "created_at": ("created_utc", "created", "time", "timestamp", "date"),
            "score": ("score", "ups"),
            "num_comments": ("num_comments", "no_comments", "comments", "comms_num"),
            "channel": ("subreddit",),
            "author": ("author",),
            "url": ("url", "permalink"),
        },
        ("title", "created_at"),
    ),
    CsvPreset(
        "id-created_at-text", "posts", "x",
        {
            "id": ("id", "tweet_id", "id_str"),
            "created_at": ("created_at",),
            "text": ("text", "full_text", "tweet"),
            "author": ("screen_name", "username", "user_name", "author"),
            "author_id": ("author_id", "user_id"),
            "like_count": ("like_count", "likes", "favorite_count", "favorites"),
            "retweet_count": ("retweet_count", "retweets", "retweet"),
            "reply_count": ("reply_count", "replies"),
            "quote_count": ("quote_count", "quotes"),
            "lang": ("lang", "language"),
        },
        ("id", "created_at", "text"),
    ),
    CsvPreset(
        "kaggle-bitcoin-tweets", "posts", "x",
        {
            "author": ("user_name", "author", "username"),
            "created_at": ("date",),
            "text": ("text",),
            "id": ("id", "tweet_id"),
            "like_count": ("likes", "like_count"),
            "retweet_count": ("retweets", "retweet_count"),
        },
        ("author", "created_at", "text"),
    ),
    CsvPreset(
        "ohlcv-csv", "prices", "chart",
        {
            "timestamp": ("unix", "unix_timestamp", "timestamp", "open_time", "date", "time", "datetime"),
            "price": ("close", "price", "adj close"),
            "volume": ("volume usd", "volume usdt", "volume_usd", "quote_volume", "volume"),
            "market_cap": ("market cap", "market_cap", "marketcap"),
            "symbol": ("symbol",),
        },
        ("timestamp", "price"),
    ),
)


def parse_mapping(spec: str, dataset: str, path: object) -> dict[str, str]:
    """`col=field,col2=field2` → {column: field}; fields must be ones the dataset knows."""
    allowed = POST_FIELDS if dataset == "posts" else PRICE_FIELDS
    mapping: dict[str, str] = {}
    for item in spec.split(","):
        if not item.strip():
            continue
        column, sep, field_name = item.partition("=")
        column, field_name = column.strip(), field_name.strip()
        if not sep or not column or not field_name:
            raise ImportFileError(f"{path}: --map item {item.strip()!r} must look like column=field")
        if field_name not in allowed:
            raise ImportFileError(f"{path}: --map {column}={field_name}: unknown field {field_name!r} (known: {', '.join(allowed)})")
        if field_name in mapping.values() or column in mapping:
            twice = f"field {field_name!r}" if field_name in mapping.values() else f"column {column!r}"
            raise ImportFileError(f"{path}: --map names {twice} twice")
        mapping[column] = field_name
    if not mapping:
        raise ImportFileError(f"{path}: --map is empty (expected col=field,…)")
    return mapping


def mapped_shape(dataset: str, mapping: dict[str, str], path: object) -> str:
    """The raw shape a generic mapping lands in; fails when a field every record needs is not mapped."""
    fields = set(mapping.values())
    if missing := sorted(_needed(dataset, fields) - fields):
        raise ImportFileError(f"{path}: --map must name a column for {', '.join(missing)}")
    if dataset == "prices":
        return "chart"
    return "reddit" if fields & REDDIT_FIELDS else "x"


def _needed(dataset: str, fields: set[str]) -> set[str]:
    if dataset == "prices":
        return {"timestamp", "price"}
    return {"created_at"} if fields & {"title", "body"} else {"created_at", "text"}


def lookup(record: Any, column: str) -> Any:
    """A CSV cell or a JSON value by dotted path (`user.username`); None when absent."""
    if isinstance(record, dict) and column in record:
        return record[column]
    value = record
    for part in column.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value
