"""Bot and spam flags for posts: copy storms, hyperactive accounts, giveaway/airdrop/shill patterns."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

COPY_MIN_AUTHORS = 10  # the same normalized text from this many accounts within two clock hours is a copy storm
RATE_MAX_PER_HOUR = 10  # an account posting more than this in one hour is flagged for that hour
SPAM = (  # RE2 syntax, applied to the lower-cased text
    r"giveaway|giving away|airdrop|free \$?\w+ (?:tokens?|coins?)|claim (?:now|your|rewards?|it)|promo ?code|#promo"
    r"|\bdm me\b|retweet (?:&|and|\+) (?:like|follow)|follow (?:&|and|\+) (?:retweet|rt)\b|lucky winners?|referral"
)
FLAGS = ("is_copy_storm", "is_high_rate", "is_spam_pattern")


@dataclass(frozen=True)
class FlagThresholds:
    copy_min_authors: int = COPY_MIN_AUTHORS
    rate_max_per_hour: int = RATE_MAX_PER_HOUR


def flag_posts(posts: pd.DataFrame | pa.Table, thresholds: FlagThresholds = FlagThresholds()) -> pd.DataFrame:
    """The three flags for `posts` (columns text, author_id, created_at), in the order of its rows (and with its index).

    Posting rates are counted per clock hour; copies per clock hour, a post's hour adding the busier
    of its two neighbours in the same UTC day (a storm straddling the hour still counts whole). A day's
    flags thus depend on that day's posts only: enriching days one at a time (the daily DAG) or many
    together (`cryptopulse enrich`) gives the same flags.
    Runs in an in-process DuckDB over the frame (RE2 regexes, all cores).
    """
    con = duckdb.connect()
    try:
        con.register("posts", _numbered(posts))
        flags = con.execute(FLAG_SQL.format(normalized=NORMALIZED_SQL, copies=thresholds.copy_min_authors,
                                            rate=thresholds.rate_max_per_hour, spam=_quote(SPAM))).df()
    finally:
        con.close()
    if isinstance(posts, pd.DataFrame):
        flags.index = posts.index
    return flags


def _numbered(posts: pd.DataFrame | pa.Table) -> pd.DataFrame | pa.Table:
    """The columns the flags read, and each row's number `i` (Arrow tables are scanned without a copy)."""
    columns = ["text", "author_id", "created_at"]
    if isinstance(posts, pa.Table):
        return posts.select(columns).append_column("i", pa.array(np.arange(posts.num_rows)))
    frame = posts[columns].reset_index(drop=True)
    return frame.assign(i=range(len(frame)))


def normalize(text: str) -> str:
    """One text as copies share it (the SQL of `flag_posts`, for reports and tests)."""
    con = duckdb.connect()
    try:
        return con.execute(f"SELECT {NORMALIZED_SQL.replace('text', '?')}", [text] * 1).fetchone()[0]
    finally:
        con.close()


def _quote(pattern: str) -> str:
    return "'" + pattern.replace("'", "''") + "'"


# the retweet prefix, URLs and @mentions removed; lower case; runs of non-word characters to one space
NORMALIZED_SQL = (
    "trim(regexp_replace(regexp_replace(regexp_replace(lower(regexp_replace(text, '^RT @\\w+:?\\s*', '')), "
    "'https?://\\S+|www\\.\\S+|@\\w+', ' ', 'g'), '&amp;', '&', 'g'), '[^\\w$#]+', ' ', 'g'))"
)
FLAG_SQL = """
with p as (
    select i, author_id, cast(created_at as timestamp) as created_at,
           {normalized} as normalized, lower(text) as lower_text
    from posts
),
copies as (
    select normalized, date_trunc('hour', created_at) as hour, count(distinct author_id) as authors
    from p group by all
),
rates as (
    select author_id, date_trunc('hour', created_at) as hour, count(*) as posts
    from p where author_id is not null group by all
)
select
    coalesce(c.authors + greatest(coalesce(b.authors, 0), coalesce(a.authors, 0)) >= {copies} and p.normalized <> '', false)
        as is_copy_storm,
    coalesce(r.posts > {rate}, false) as is_high_rate,
    regexp_matches(p.lower_text, {spam}) as is_spam_pattern
from p
left join copies as c on c.normalized = p.normalized and c.hour = date_trunc('hour', p.created_at)
left join copies as b on b.normalized = p.normalized and b.hour = date_trunc('hour', p.created_at) - interval 1 hour
    and date_trunc('day', b.hour) = date_trunc('day', p.created_at)
left join copies as a on a.normalized = p.normalized and a.hour = date_trunc('hour', p.created_at) + interval 1 hour
    and date_trunc('day', a.hour) = date_trunc('day', p.created_at)
left join rates as r on r.author_id = p.author_id and r.hour = date_trunc('hour', p.created_at)
order by p.i
"""
