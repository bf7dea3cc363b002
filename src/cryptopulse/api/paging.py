"""Pages of a coin's posts: an opaque cursor (the last timestamp served and how many posts of it were served)."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from cryptopulse.api.errors import ApiError
from cryptopulse.read import queries

MAX_SKIP = 1_000_000  # posts sharing one timestamp; a cursor claiming more was not made here


def posts_page(
    cur: duckdb.DuckDBPyConnection, coin_id: str, start: dt.date, end: dt.date, limit: int, cursor: str | None
) -> tuple[pa.Table, str | None]:
    """Up to `limit` posts of [start, end) after `cursor`, oldest first, and the cursor of the next page (None at the end).

    Posts are ordered by (created_at, source, post_id); a page resumes at the cursor's timestamp and skips the
    posts of that timestamp already served, so ties at one instant are never lost or repeated.
    """
    scope = [coin_id, start.isoformat(), end.isoformat()]
    after, skip = _decode(cursor, scope) if cursor else (_midnight(start), 0)
    rows = queries.coin_posts(cur, coin_id, after, _midnight(end), limit=skip + limit + 1).slice(skip)
    if rows.num_rows <= limit:
        return rows, None
    page = rows.slice(0, limit)
    last = page.column("created_at")[-1].as_py()
    served_at_last = pc.sum(pc.equal(page.column("created_at"), page.column("created_at")[-1])).as_py()
    skip = served_at_last + (skip if last == after else 0)
    return page, _encode(last, skip, scope)


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time())


def _encode(after: dt.datetime, skip: int, scope: list[str]) -> str:
    raw = json.dumps({"t": after.isoformat(), "k": skip, "q": scope}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, scope: list[str]) -> tuple[dt.datetime, int]:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        after, skip, given = dt.datetime.fromisoformat(data["t"]), int(data["k"]), data["q"]
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError):
        raise ApiError(422, "query parameter 'cursor': not a cursor this API gave out", "cursor") from None
    if given != scope or not 0 <= skip <= MAX_SKIP or after.tzinfo is not None:
        raise ApiError(422, "query parameter 'cursor': it belongs to another coin or date range", "cursor")
    return after, skip
