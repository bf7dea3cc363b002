"""Stage posts: X API v2 search pages (raw JSONL) → typed, deduplicated rows as day-partitioned Parquet."""

from __future__ import annotations

import duckdb

from cryptopulse.interval import Interval
from cryptopulse.lake import Lake
from cryptopulse.staging.common import Dataset, relative_path_sql, split_duplicates, sql_list

# The fields of an X API v2 tweet we keep, read as text first so that bad values are quarantined, not fatal.
TWEET_TYPE = (
    "STRUCT(id VARCHAR, text VARCHAR, created_at VARCHAR, author_id VARCHAR, lang VARCHAR, "
    "public_metrics STRUCT(retweet_count BIGINT, reply_count BIGINT, like_count BIGINT, quote_count BIGINT))"
)
USERS_TYPE = "STRUCT(users STRUCT(id VARCHAR, username VARCHAR, name VARCHAR)[])"
# ISO 8601 in UTC ('…Z', the X API's form) is cast directly; other offsets go through TIMESTAMPTZ to UTC.
PARSE_TIMESTAMP = (
    "CASE WHEN {column} LIKE '%Z' OR NOT regexp_matches({column}, '[+-][0-9][0-9]:?[0-9][0-9]$') "
    "THEN try_cast({column} AS TIMESTAMP) ELSE try_cast(try_cast({column} AS TIMESTAMPTZ) AS TIMESTAMP) END"
)


EMPTY_PAGES = (
    f"SELECT NULL::{TWEET_TYPE}[] AS data, NULL::{USERS_TYPE} AS includes, NULL::VARCHAR AS raw_file, "
    "NULL::VARCHAR AS source, NULL::DATE AS file_date WHERE false"
)


def _pages_sql(lake: Lake, uris: list[str]) -> str:
    return f"""
        SELECT data, includes, raw_file,
               regexp_extract(raw_file, 'raw/([^/]+)/', 1) AS source,
               cast(regexp_extract(raw_file, 'date=([0-9-]{{10}})', 1) AS DATE) AS file_date
        FROM (SELECT data, includes, {relative_path_sql(lake)} AS raw_file
        FROM read_json({sql_list(uris)}, format = 'newline_delimited', compression = 'gzip',
                       columns = {{data: '{TWEET_TYPE}[]', includes: '{USERS_TYPE}'}},
                       filename = true, maximum_object_size = 67108864))
        """


def _classify(con: duckdb.DuckDBPyConnection, interval: Interval) -> None:
    """Split records of the interval into staged, quarantined (with a reason) and duplicate rows.

    One materialised table: each record gets its reason (NULL = good); among good records with the same
    (source, post_id) the one from the latest file (then most likes) is staged, the others are duplicates.
    """
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE post_records AS
        WITH tweets AS (
            SELECT raw_file, source, file_date, unnest(data) AS t
            FROM post_pages
        ),
        users AS (
            SELECT u.id AS author_id, min(u.username) AS author
            FROM (SELECT unnest(includes.users) AS u FROM post_pages)
            GROUP BY u.id
        ),
        parsed AS (
            SELECT
                t,
                t.id AS post_id,
                source,
                {PARSE_TIMESTAMP.format(column='t.created_at')} AS created_at,
                t.author_id,
                t.text,
                t.lang,
                t.public_metrics.like_count AS like_count,
                t.public_metrics.retweet_count AS retweet_count,
                t.public_metrics.reply_count AS reply_count,
                t.public_metrics.quote_count AS quote_count,
                raw_file,
                file_date
            FROM tweets
        ),
        judged AS (
            SELECT
                *,
                coalesce(cast(created_at AS DATE), file_date) AS date,
                CASE
                    WHEN post_id IS NULL OR trim(post_id) = '' THEN 'missing_id'
                    WHEN created_at IS NULL THEN 'bad_timestamp'
                    WHEN text IS NULL OR trim(text) = '' THEN 'empty_text'
                END AS reason
            FROM parsed
        )
        SELECT
            j.post_id, j.source, j.created_at, j.author_id, u.author, j.text, j.lang,
            j.like_count, j.retweet_count, j.reply_count, j.quote_count, j.raw_file, j.date, j.reason,
            CASE WHEN j.reason IS NOT NULL THEN CAST(to_json(j.t) AS VARCHAR) END AS record
        FROM judged AS j
        LEFT JOIN users AS u USING (author_id)
        WHERE j.date >= DATE '{interval.start}' AND j.date < DATE '{interval.end}'
        UNION ALL BY NAME
        SELECT raw_file, date, reason, record FROM post_pages_unreadable
        WHERE date >= DATE '{interval.start}' AND date < DATE '{interval.end}'
        """
    )
    split_duplicates(con, "post_records", "source, post_id", "r.raw_file DESC, r.like_count DESC NULLS LAST, r.text")
    con.execute(
        """
        CREATE OR REPLACE TEMP VIEW post_staged AS
        SELECT post_id, source, created_at, author_id, author, text, lang,
               like_count, retweet_count, reply_count, quote_count, date
        FROM post_records
        WHERE reason IS NULL AND rowid NOT IN (SELECT rid FROM post_records_losers)
        """
    )
    con.execute("CREATE OR REPLACE TEMP VIEW post_duplicates AS SELECT date FROM post_records_losers")
    con.execute(
        """
        CREATE OR REPLACE TEMP VIEW post_quarantine AS
        SELECT 'posts' AS dataset, date, regexp_extract(raw_file, 'raw/([^/]+)/', 1) AS source, raw_file, reason, record
        FROM post_records WHERE reason IS NOT NULL
        """
    )


POSTS = Dataset(
    name="posts",
    raw_pattern="raw/*/x/posts/date=*/*.jsonl.gz",
    prefix="post",
    loaded_table="post_pages",
    select_for=_pages_sql,
    empty=EMPTY_PAGES,
    classify=_classify,
    order_by="source, post_id",
    fmt="parquet",
)
