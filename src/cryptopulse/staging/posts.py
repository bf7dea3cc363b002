"""Stage posts: X API v2 search pages and Reddit listings (raw JSONL) → typed, deduplicated, day-partitioned Parquet."""

from __future__ import annotations

from collections.abc import Callable

import duckdb

from cryptopulse.lake import Lake
from cryptopulse.sqltext import sql_list
from cryptopulse.staging.common import Dataset, RawShape, files_sql, relative_path_sql, unreadable_sql
from cryptopulse.staging.jsonfields import Field, RecordType
from cryptopulse.staging.loading import MARGIN_DAYS, Window

# The fields of an X API v2 tweet we keep.
TWEET = RecordType(
    (
        Field("id"), Field("text"), Field("created_at"), Field("author_id"), Field("lang"),
        *(Field(f"public_metrics.{m}_count", "BIGINT") for m in ("retweet", "reply", "like", "quote")),
    )
)
# The fields of a Reddit `t3` (link) listing child we keep.
REDDIT_CHILD = RecordType(
    (
        *(Field(f"data.{f}") for f in ("name", "title", "selftext", "author", "author_fullname", "subreddit")),
        Field("data.created_utc", "DOUBLE"), Field("data.score", "BIGINT"), Field("data.num_comments", "BIGINT"),
    )
)
# ISO 8601 in UTC ('…Z', the X API's form) is cast directly; other offsets go through TIMESTAMPTZ to UTC.
PARSE_TIMESTAMP = (
    "CASE WHEN {column} LIKE '%Z' OR NOT regexp_matches({column}, '[+-][0-9][0-9]:?[0-9][0-9]$') "
    "THEN try_cast({column} AS TIMESTAMP) ELSE try_cast(try_cast({column} AS TIMESTAMPTZ) AS TIMESTAMP) END"
)
# Unix seconds of the years 1 … 9999, the timestamps DuckDB can make.
UNIX_SECONDS = (-62135596800, 253402300799)
# An X search page holds its tweets in `data`, and the authors' user names in `includes.users`.
X_PAGE = RecordType((Field("data", "LIST", TWEET),), extra=(("includes", {"users": [{"id": "VARCHAR", "username": "VARCHAR"}]}),))
# A Reddit listing holds its posts in `data.children`.
LISTING = RecordType((Field("data.children", "LIST", REDDIT_CHILD),))


def _lines_loader(page: RecordType) -> tuple[Callable[[Lake, list[str]], str], str]:
    """The loader of JSON Lines files whose every line is a `page` holding a list of records, and its empty table."""

    def select(lake: Lake, uris: list[str]) -> str:
        source = (f"read_ndjson_objects({sql_list(uris)}, compression = 'gzip', filename = true, ignore_errors = true, "
                  "maximum_object_size = 67108864)")
        return _pages_sql(page, source, relative_path_sql(lake))

    return select, _pages_sql(page, "(SELECT NULL::VARCHAR AS filename, NULL::JSON AS json WHERE false)", "filename")


def _pages_sql(page: RecordType, source: str, raw_file: str) -> str:
    """One row per line of `source` (`filename`, `json`): `problem` when the line is no page (`bad_json`,
    `not_an_object`, `bad_type:<path>`; then the line is one rejected record), else `records`, the page's records read
    as text in the same parse (and an X page's `users`). Only a page holding a doubtful record keeps its records' JSON
    too, in `items`."""
    (listed,) = page.fields
    records, kind = page.value_sql(listed.path), listed.element
    return f"""
        SELECT raw_file, problem, CASE WHEN problem IS NOT NULL THEN json END AS line,
               CASE WHEN problem IS NULL THEN {records} END AS records,
               CASE WHEN problem IS NULL AND list_bool_or(list_transform({records}, lambda t: {kind.doubt_sql('t')}))
                    THEN json_extract(json, '$.{listed.path}[*]') END AS items
               {", v.includes.users AS users" if page.extra else ""}
        FROM (
            SELECT *, CASE WHEN json IS NULL THEN 'bad_json' ELSE {page.reason_sql('json')} END AS problem
            FROM (SELECT {raw_file} AS raw_file, json, {page.parse_sql('json')} FROM {source})
        )
        """


def _count_sql(table: str) -> str:
    return f"SELECT raw_file, CASE WHEN problem IS NOT NULL THEN 1 ELSE coalesce(len(records), 0) END AS n FROM {table}"


def _x_posts(pages: str) -> str:
    """One row per tweet of the X pages: its values, typed, and why its shape is bad (if it is)."""
    def t(path: str) -> str:
        return TWEET.value_sql(path, "t")

    return f"""
        SELECT raw_file, source, part_start, part_end, t, j, {TWEET.reason_sql('j', 't')} AS type_reason, {t('id')} AS post_id,
               {PARSE_TIMESTAMP.format(column=t('created_at'))} AS ts_value,
               {t('author_id')} AS author_id, NULL::VARCHAR AS author_name, {t('text')} AS text, {t('lang')} AS lang,
               {t('public_metrics.like_count')} AS like_count, {t('public_metrics.retweet_count')} AS retweet_count,
               {t('public_metrics.reply_count')} AS reply_count, {t('public_metrics.quote_count')} AS quote_count,
               NULL::BIGINT AS score, NULL::BIGINT AS num_comments, NULL::VARCHAR AS channel
        FROM (SELECT raw_file, source, part_start, part_end, unnest(records) AS t, unnest(items) AS j FROM {pages})
        """


def _reddit_posts(pages: str) -> str:
    """One row per child of the Reddit listings: a post's values, typed, and why its shape is bad (if it is)."""
    def r(path: str) -> str:
        return REDDIT_CHILD.value_sql(path, "t")

    seconds = r("data.created_utc")
    return f"""
        SELECT raw_file, source, part_start, part_end, t, j, {REDDIT_CHILD.reason_sql('j', 't')} AS type_reason,
               {r('data.name')} AS post_id,
               CASE WHEN isfinite({seconds})  -- clamped: a number beyond the years 1 … 9999 is still out of range
                    THEN make_timestamp(CAST(least(greatest({seconds}, {UNIX_SECONDS[0]}), {UNIX_SECONDS[1]}) * 1000000 AS BIGINT))
               END AS ts_value,
               coalesce({r('data.author_fullname')}, {r('data.author')}) AS author_id, {r('data.author')} AS author_name,
               coalesce({r('data.title')}, '') || CASE WHEN coalesce({r('data.selftext')}, '') <> ''
                                                      THEN chr(10) || chr(10) || {r('data.selftext')} ELSE '' END AS text,
               NULL::VARCHAR AS lang, NULL::BIGINT AS like_count, NULL::BIGINT AS retweet_count,
               NULL::BIGINT AS reply_count, NULL::BIGINT AS quote_count,
               {r('data.score')} AS score, {r('data.num_comments')} AS num_comments, {r('data.subreddit')} AS channel
        FROM (SELECT raw_file, source, part_start, part_end, unnest(records) AS t, unnest(items) AS j FROM {pages})
        """


def _classify(con: duckdb.DuckDBPyConnection, window: Window) -> None:
    """Judge every post of the files read: its reason (NULL = good) and its day."""
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE post_records AS
        WITH users AS (
            SELECT u.id AS author_id, min(u.username) AS author
            FROM (SELECT unnest(users) AS u FROM post_pages)
            GROUP BY u.id
        ),
        x_pages AS ({_with_partition("post_pages")}),
        listing_pages AS ({_with_partition("reddit_pages")}),
        received AS (
            {_judged(_x_posts("x_pages"), window)}
            UNION ALL BY NAME
            {_judged(_reddit_posts("listing_pages"), window)}
            UNION ALL BY NAME
            SELECT raw_file, source, part_start AS date, problem AS reason, CAST(line AS VARCHAR) AS record
            FROM (SELECT * FROM x_pages UNION ALL BY NAME SELECT * FROM listing_pages) WHERE problem IS NOT NULL
            UNION ALL BY NAME
            SELECT u.raw_file, regexp_extract(u.raw_file, 'raw/([^/]+)/', 1) AS source, f.part_start AS date, u.reason, u.record
            FROM ({unreadable_sql(POSTS)}) AS u LEFT JOIN ({files_sql(POSTS)}) AS f USING (raw_file)
        )
        SELECT
            r.post_id, r.source, r.created_at, r.author_id, coalesce(r.author_name, u.author) AS author, r.text, r.lang,
            r.like_count, r.retweet_count, r.reply_count, r.quote_count, r.score, r.num_comments, r.channel,
            r.raw_file, r.date, r.reason, r.record
        FROM received AS r
        LEFT JOIN users AS u USING (author_id)
        """
    )


def _judged(posts: str, window: Window) -> str:
    """The `posts` of one shape judged: reason (NULL = good), day, and the raw record of a rejected one.

    A post's day is its own (a plausible timestamp within its file's partition, give or take the margin);
    any other post belongs to its file's partition day, so every run that reads the file places it alike.
    """
    margin = f"INTERVAL {MARGIN_DAYS} DAY"
    return f"""
        SELECT * EXCLUDE (t, j, type_reason, ts_value, plausible, in_partition, part_start, part_end),
               coalesce(cast(created_at AS DATE), part_start) AS date,
               CASE WHEN reason IS NOT NULL THEN CAST(coalesce(j, to_json(t)) AS VARCHAR) END AS record
        FROM (
            SELECT *,
                   CASE WHEN plausible AND in_partition THEN ts_value END AS created_at,
                   coalesce(type_reason, CASE
                       WHEN post_id IS NULL OR trim(post_id) = '' THEN 'missing_id'
                       WHEN ts_value IS NULL THEN 'bad_timestamp'
                       WHEN NOT plausible THEN 'timestamp_out_of_range'
                       WHEN NOT in_partition THEN 'outside_partition'
                       WHEN text IS NULL OR trim(text) = '' THEN 'empty_text'
                   END) AS reason
            FROM (
                SELECT *, {window.sql('ts_value')} AS plausible,
                       part_start IS NULL OR (ts_value >= part_start - {margin} AND ts_value < part_end + {margin}) AS in_partition
                FROM ({posts})
            )
        )
        """


def _with_partition(pages: str) -> str:
    """The loaded pages of one shape with their file's source and partition days (joined per page, not per post)."""
    return (f"SELECT p.*, regexp_extract(p.raw_file, 'raw/([^/]+)/', 1) AS source, f.part_start, f.part_end "
            f"FROM {pages} AS p LEFT JOIN {pages}_files AS f USING (raw_file)")


_pages, EMPTY_PAGES = _lines_loader(X_PAGE)
_listings, EMPTY_LISTINGS = _lines_loader(LISTING)

POSTS = Dataset(
    name="posts",
    shapes=(
        RawShape("raw/*/x/posts/date=*/*.jsonl.gz", "post_pages", _pages, EMPTY_PAGES, _count_sql("post_pages")),
        RawShape("raw/*/reddit/posts/date=*/*.jsonl.gz", "reddit_pages", _listings, EMPTY_LISTINGS, _count_sql("reddit_pages")),
    ),
    prefix="post",
    classify=_classify,
    staged_columns="post_id, source, created_at, author_id, author, text, lang, like_count, retweet_count, reply_count, "
    "quote_count, score, num_comments, channel, date",
    key="source, post_id",
    newest_first="r.raw_file DESC, r.like_count DESC NULLS LAST, r.score DESC NULLS LAST, r.text",
    order_by="source, post_id",
    fmt="parquet",
)
