"""Stage posts: X API v2 search pages and Reddit listings (raw JSONL) → typed, deduplicated, day-partitioned Parquet."""

from __future__ import annotations

import duckdb

from cryptopulse.interval import Interval
from cryptopulse.lake import Lake
from cryptopulse.staging.common import Dataset, RawShape, relative_path_sql, split_duplicates, sql_list

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


# The fields of a Reddit `t3` (link) listing child we keep.
REDDIT_TYPE = (
    "STRUCT(kind VARCHAR, data STRUCT(name VARCHAR, title VARCHAR, selftext VARCHAR, author VARCHAR, "
    "author_fullname VARCHAR, created_utc DOUBLE, score BIGINT, num_comments BIGINT, subreddit VARCHAR))"
)
EMPTY_LISTINGS = (
    f"SELECT NULL::{REDDIT_TYPE}[] AS children, NULL::VARCHAR AS raw_file, "
    "NULL::VARCHAR AS source, NULL::DATE AS file_date WHERE false"
)


def _listings_sql(lake: Lake, uris: list[str]) -> str:
    return f"""
        SELECT data.children AS children, raw_file,
               regexp_extract(raw_file, 'raw/([^/]+)/', 1) AS source,
               cast(regexp_extract(raw_file, 'date=([0-9-]{{10}})', 1) AS DATE) AS file_date
        FROM (SELECT data, {relative_path_sql(lake)} AS raw_file
        FROM read_json({sql_list(uris)}, format = 'newline_delimited', compression = 'gzip',
                       columns = {{data: 'STRUCT(children {REDDIT_TYPE}[])'}},
                       filename = true, maximum_object_size = 67108864))
        """


REASON = """CASE
                    WHEN post_id IS NULL OR trim(post_id) = '' THEN 'missing_id'
                    WHEN created_at IS NULL THEN 'bad_timestamp'
                    WHEN text IS NULL OR trim(text) = '' THEN 'empty_text'
                END"""


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
        x_posts AS (
            SELECT
                t AS raw,
                t.id AS post_id,
                source,
                {PARSE_TIMESTAMP.format(column='t.created_at')} AS created_at,
                t.author_id,
                NULL::VARCHAR AS author_name,
                t.text,
                t.lang,
                t.public_metrics.like_count AS like_count,
                t.public_metrics.retweet_count AS retweet_count,
                t.public_metrics.reply_count AS reply_count,
                t.public_metrics.quote_count AS quote_count,
                NULL::BIGINT AS score,
                NULL::BIGINT AS num_comments,
                NULL::VARCHAR AS channel,
                raw_file,
                file_date
            FROM tweets
        ),
        reddit_posts AS (
            SELECT
                c AS raw,
                c.data.name AS post_id,
                source,
                CASE WHEN isfinite(c.data.created_utc) AND c.data.created_utc > 0
                     THEN make_timestamp(CAST(c.data.created_utc * 1000000 AS BIGINT)) END AS created_at,
                coalesce(c.data.author_fullname, c.data.author) AS author_id,
                c.data.author AS author_name,
                coalesce(c.data.title, '')
                    || CASE WHEN coalesce(c.data.selftext, '') <> '' THEN chr(10) || chr(10) || c.data.selftext ELSE '' END AS text,
                NULL::VARCHAR AS lang,
                NULL::BIGINT AS like_count,
                NULL::BIGINT AS retweet_count,
                NULL::BIGINT AS reply_count,
                NULL::BIGINT AS quote_count,
                c.data.score AS score,
                c.data.num_comments AS num_comments,
                c.data.subreddit AS channel,
                raw_file,
                file_date
            FROM (SELECT raw_file, source, file_date, unnest(children) AS c FROM reddit_pages)
        ),
        judged AS (
            -- each shape judged on its own, so the raw record is serialised only for rejected rows
            SELECT * EXCLUDE (raw), CASE WHEN reason IS NOT NULL THEN CAST(to_json(raw) AS VARCHAR) END AS record_json
            FROM (SELECT *, {REASON} AS reason FROM x_posts)
            UNION ALL
            SELECT * EXCLUDE (raw), CASE WHEN reason IS NOT NULL THEN CAST(to_json(raw) AS VARCHAR) END AS record_json
            FROM (SELECT *, {REASON} AS reason FROM reddit_posts)
        ),
        dated AS (
            SELECT *, coalesce(cast(created_at AS DATE), file_date) AS date FROM judged
        )
        SELECT
            j.post_id, j.source, j.created_at, j.author_id, coalesce(j.author_name, u.author) AS author, j.text, j.lang,
            j.like_count, j.retweet_count, j.reply_count, j.quote_count, j.score, j.num_comments, j.channel,
            j.raw_file, j.date, j.reason,
            j.record_json AS record
        FROM dated AS j
        LEFT JOIN users AS u USING (author_id)
        WHERE j.date >= DATE '{interval.start}' AND j.date < DATE '{interval.end}'
        UNION ALL BY NAME
        SELECT raw_file, date, reason, record FROM post_pages_unreadable
        WHERE date >= DATE '{interval.start}' AND date < DATE '{interval.end}'
        UNION ALL BY NAME
        SELECT raw_file, date, reason, record FROM reddit_pages_unreadable
        WHERE date >= DATE '{interval.start}' AND date < DATE '{interval.end}'
        """
    )
    split_duplicates(
        con, "post_records", "source, post_id", "r.raw_file DESC, r.like_count DESC NULLS LAST, r.score DESC NULLS LAST, r.text"
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP VIEW post_staged AS
        SELECT post_id, source, created_at, author_id, author, text, lang,
               like_count, retweet_count, reply_count, quote_count, score, num_comments, channel, date
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
    shapes=(
        RawShape("raw/*/x/posts/date=*/*.jsonl.gz", "post_pages", _pages_sql, EMPTY_PAGES),
        RawShape("raw/*/reddit/posts/date=*/*.jsonl.gz", "reddit_pages", _listings_sql, EMPTY_LISTINGS),
    ),
    prefix="post",
    classify=_classify,
    order_by="source, post_id",
    fmt="parquet",
)
