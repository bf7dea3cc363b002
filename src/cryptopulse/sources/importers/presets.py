"""The importer's fields, the CSV `--format` names, and the generic `--map col=field,…` mapping."""

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
class CsvFormat:
    """A `--format` for CSV files: the dataset and raw shape it reads; its columns are recognised by meaning."""

    name: str
    dataset: str  # "posts" or "prices"
    shape: str  # "x" | "reddit" (posts), "chart" (prices)


CSV_FORMATS = (
    CsvFormat("tweets-csv", "posts", "x"),
    CsvFormat("reddit-csv", "posts", "reddit"),
    CsvFormat("ohlcv-csv", "prices", "chart"),
)
# Names the exact-header presets had before columns were recognised by meaning; still accepted by --format.
FORMAT_ALIASES = {"praw-csv": "reddit-csv", "id-created_at-text": "tweets-csv", "kaggle-bitcoin-tweets": "tweets-csv"}


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
