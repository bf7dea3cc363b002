"""Pages of a coin's posts: an opaque keyset cursor (the last post served: its time, source and id)."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json

import duckdb
import pyarrow as pa

from cryptopulse.api.errors import ApiError
from cryptopulse.api.versions import Versions
from cryptopulse.read import Snapshot, queries

POST_TABLES = ("bridge_post_coin", "fct_post", "fct_post_sentiment")


def posts_page(
    cur: duckdb.DuckDBPyConnection, coin_id: str, start: dt.date, end: dt.date, limit: int, cursor: str | None,
    files: dict[str, list[str] | None],
) -> tuple[pa.Table, str | None]:
    """Up to `limit` posts of [start, end) after `cursor`, oldest first, and the cursor of the next page (None at the end).

    Posts are ordered by (created_at, source, post_id), a unique key, so pages never lose or repeat a post, even
    when many share one instant. `files`: per table of POST_TABLES, its files for the range (see `day_files`).
    """
    scope = [coin_id, start.isoformat(), end.isoformat()]
    after = _decode(cursor, scope) if cursor else None
    rows = queries.coin_posts_after(cur, coin_id, _midnight(start), _midnight(end), after, limit + 1, files)
    if rows.num_rows <= limit:
        return rows, None
    page = rows.slice(0, limit)
    last = page.slice(limit - 1).to_pylist()[0]
    return page, _encode((last["created_at"], last["source"], last["post_id"]), scope)


def day_files(versions: Versions, snapshot: Snapshot, table: str, start: dt.date, end: dt.date) -> list[str] | None:
    """`table`'s files for the days of [start, end), as URIs: reading them is much cheaper than the view over every
    day. None (read the view) when the table is held in memory or not stored one file per day, or has no such files."""
    published = snapshot.tables[table]
    if published.partitioned_by != "date" or table in versions.memory_tables:
        return None
    first, last = f"date={start.isoformat()}", f"date={end.isoformat()}"
    return [versions.lake.uri(f) for f in published.files if first <= _partition(f) < last] or None


def _partition(path: str) -> str:
    return next((part for part in path.split("/") if part.startswith("date=")), "")


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time())


def _encode(after: tuple[dt.datetime, str, str], scope: list[str]) -> str:
    raw = json.dumps({"k": [after[0].isoformat(), after[1], after[2]], "q": scope}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, scope: list[str]) -> tuple[dt.datetime, str, str]:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        created, source, post_id = data["k"]
        after, given = dt.datetime.fromisoformat(created), data["q"]
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError):
        raise ApiError(422, "query parameter 'cursor': not a cursor this API gave out", "cursor") from None
    if given != scope or after.tzinfo is not None or not isinstance(source, str) or not isinstance(post_id, str):
        raise ApiError(422, "query parameter 'cursor': it belongs to another coin or date range", "cursor")
    return after, source, post_id
