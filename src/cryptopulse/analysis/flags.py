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


# What stands between the words that copies share: URLs, @mentions and '&amp;' (which may hold word characters), and
# any other character but a word character, '$' or '#'.
_SKIPPED = r"https?://\S+|www\.\S+|@\w+|&amp;"
# The retweet prefix removed; lower case; each run of what stands between words made one space; trimmed. A run that
# is one space already is left alone (a run starts with anything but a space, or with a space and goes on): the same
# text, with far fewer replacements (one per word before). No part of the pattern has to match a least number of
# times: `https?://\S+` would then give characters back to let a run count more.
NORMALIZED_SQL = (
    r"trim(regexp_replace(lower(regexp_replace(text, '^RT @\w+:?\s*', '')), "
    rf"'(?:{_SKIPPED}|[^\w$# ])(?:{_SKIPPED}|[^\w$#])*| (?:{_SKIPPED}|[^\w$#])+', ' ', 'g'))"
)
FLAG_SQL = """
with texts as (  -- each distinct text once (posts repeat texts): what copies share, and whether it reads as spam
    select text, {normalized} as normalized, regexp_matches(lower(text), {spam}) as is_spam_pattern
    from (select distinct text from posts)
),
p as (
    select p.i, p.author_id, date_trunc('hour', cast(p.created_at as timestamp)) as hour, t.normalized, t.is_spam_pattern
    from posts as p
    left join texts as t on t.text = p.text
),
-- copies from enough accounts within two hours of a day are at least as many posts in that day: the (few) texts posted
-- that often in a day are the only ones whose accounts are counted
candidates as (
    select normalized, date_trunc('day', hour) as day
    from p where normalized <> '' group by all having count(*) >= {copies}
),
copies as (
    select p.normalized, p.hour, count(distinct p.author_id) as authors
    from p semi join candidates as c on c.normalized = p.normalized and c.day = date_trunc('day', p.hour)
    group by all
),
-- the hours whose copies, with the busier of the hours before and after in the same UTC day, come from enough accounts
storms as (
    select normalized, hour
    from (
        select normalized, hour, authors,
               lag(hour) over w as hour_before, lag(authors) over w as authors_before,
               lead(hour) over w as hour_after, lead(authors) over w as authors_after
        from copies
        window w as (partition by normalized, date_trunc('day', hour) order by hour)
    )
    where authors + greatest(
        case when hour_before = hour - interval 1 hour then authors_before else 0 end,
        case when hour_after = hour + interval 1 hour then authors_after else 0 end
    ) >= {copies}
),
busy as (
    select author_id, hour
    from p where author_id is not null group by all having count(*) > {rate}
)
select
    s.hour is not null as is_copy_storm,
    b.hour is not null as is_high_rate,
    p.is_spam_pattern
from p
left join storms as s on s.normalized = p.normalized and s.hour = p.hour
left join busy as b on b.author_id = p.author_id and b.hour = p.hour
order by p.i
"""
