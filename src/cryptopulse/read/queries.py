"""The named queries over a published snapshot, shared by the dashboard and the read API.

Each function takes a cursor of `Snapshot` (one view per published table), binds every value as a `?`
parameter, and returns an Arrow table. Day ranges are half-open, `start ≤ day < end` (UTC), as on the
command line. A query names only the tables it reads; callers check that they are published first.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Sequence

import duckdb
import pyarrow as pa

# The baseline a value is compared with: the coin's own trailing 20 days (480 hours), as in mart_coin_daily;
# a z-score needs at least half of that window present and some spread.
BASELINE = {"day": 20, "hour": 480}
GRAINS = tuple(BASELINE)
Z95 = 1.959964  # two-sided 95 % normal quantile, for the confidence band of mean sentiment


# `execute` binds a statement once where `sql()` binds it twice (17.6 → 9.0 ms on a view over 520 day files); the
# price is one copy of a result that the API's limits keep small, which DuckDB warns about on every call.
warnings.filterwarnings("ignore", message="Arrow output on a DB-API result", category=UserWarning)


def _fetch(cur: duckdb.DuckDBPyConnection, sql: str, params: Sequence[object] = ()) -> pa.Table:
    return cur.execute(sql, list(params)).to_arrow_table()


def _grain(grain: str) -> str:
    if grain not in GRAINS:
        raise ValueError(f"grain must be one of {', '.join(GRAINS)}, got {grain!r}")
    return grain


def coins(cur: duckdb.DuckDBPyConnection) -> pa.Table:
    """The tracked coins (id, symbol, name, market-cap rank), largest first."""
    return _fetch(
        cur,
        "SELECT coin_id, symbol, name, market_cap_rank FROM dim_coin WHERE is_tracked "
        "ORDER BY market_cap_rank NULLS LAST, coin_id",
    )


def date_extent(cur: duckdb.DuckDBPyConnection) -> pa.Table:
    """One row: the first and last published day and the last published hour (from the calendar)."""
    return _fetch(cur, "SELECT min(date) AS first_day, max(date) AS last_day, max(ts_hour) AS last_hour FROM dim_time")


def market_hourly(cur: duckdb.DuckDBPyConnection, coin_id: str, start: dt.date, end: dt.date) -> pa.Table:
    """A coin's price, market cap and volume per UTC hour of [start, end)."""
    return _fetch(
        cur,
        "SELECT ts_hour, price_usd, market_cap_usd, volume_usd FROM fct_coin_hourly "
        "WHERE coin_id = ? AND date >= ? AND date < ? ORDER BY ts_hour",
        (coin_id, start, end),
    )


def market_daily(cur: duckdb.DuckDBPyConnection, coin_id: str, start: dt.date, end: dt.date) -> pa.Table:
    """A coin's daily rollup of [start, end): open/high/low/close price, market cap and 24 h volume at the close, hours."""
    return _fetch(
        cur,
        """
        SELECT date,
               arg_min(price_usd, ts_hour) AS open_usd,
               max(price_usd) AS high_usd,
               min(price_usd) AS low_usd,
               arg_max(price_usd, ts_hour) AS close_usd,
               arg_max(market_cap_usd, ts_hour) AS market_cap_usd,
               arg_max(volume_usd, ts_hour) AS volume_usd,
               count(*) AS hours
        FROM fct_coin_hourly
        WHERE coin_id = ? AND date >= ? AND date < ?
        GROUP BY date ORDER BY date
        """,
        (coin_id, start, end),
    )


def monthly_stats(cur: duckdb.DuckDBPyConnection, coin_ids: Sequence[str], start: dt.date, end: dt.date) -> pa.Table:
    """The monthly aggregate (min/max price, market cap, volume; first/last price; hours) of the coins, months meeting [start, end)."""
    return _fetch(
        cur,
        """
        SELECT c.symbol, m.*
        FROM agg_coin_monthly AS m JOIN dim_coin AS c USING (coin_id)
        WHERE list_contains(?, m.coin_id) AND m.month < ? AND m.month + INTERVAL 1 MONTH > ?
        ORDER BY m.coin_id, m.month
        """,
        (list(coin_ids), end, start),
    )


def top_movers(cur: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date, limit: int = 10) -> pa.Table:
    """Tracked coins by the size of their price change over [start, end): first and last price, change in %, last volume."""
    return _fetch(
        cur,
        """
        WITH ends AS (
            SELECT coin_id,
                   arg_min(price_usd, ts_hour) AS first_price_usd,
                   arg_max(price_usd, ts_hour) AS last_price_usd,
                   arg_max(volume_usd, ts_hour) AS volume_usd
            FROM fct_coin_hourly WHERE date >= ? AND date < ? GROUP BY coin_id
        )
        SELECT e.coin_id, c.symbol, c.name, e.first_price_usd, e.last_price_usd,
               100 * (e.last_price_usd / nullif(e.first_price_usd, 0) - 1) AS change_pct, e.volume_usd
        FROM ends AS e JOIN dim_coin AS c USING (coin_id)
        WHERE c.is_tracked
        ORDER BY abs(change_pct) DESC NULLS LAST, e.coin_id
        LIMIT ?
        """,
        (start, end, limit),
    )


_SOCIAL = {
    "day": ("mart_coin_daily", "date", "CAST(date AS TIMESTAMP)", "b.date"),
    "hour": ("mart_coin_hourly", "time_key", "ts_hour", "b.time_key"),
}


def social_series(cur: duckdb.DuckDBPyConnection, coin_id: str, start: dt.date, end: dt.date, grain: str = "day") -> pa.Table:
    """A coin's social measures per day or hour of [start, end), with a 95 % band of mean sentiment and z-scores against its own baseline.

    Columns: period, posts, flagged_posts, scored_posts, unique_authors, social_dominance, bot_share,
    sentiment_mean, sentiment_sd, sentiment_low, sentiment_high, and posts_z, sentiment_z, dominance_z,
    bot_share_z (each against the coin's trailing `BASELINE[grain]` periods before the period).
    Flagged (bot/spam) posts are left out of every measure but flagged_posts and bot_share.
    """
    table, key, period, band_key = _SOCIAL[_grain(grain)]
    window = BASELINE[grain]
    z = " ,\n".join(
        f"CASE WHEN count({c}) OVER w >= {window // 2} AND stddev_samp({c}) OVER w > 0 "
        f"THEN ({c} - avg({c}) OVER w) / stddev_samp({c}) OVER w END AS {name}_z"
        for c, name in (("posts", "posts"), ("sentiment_mean", "sentiment"), ("social_dominance", "dominance"), ("bot_share", "bot_share"))
    )
    sql = f"""
        WITH band AS (
            SELECT {band_key} AS k, count(*) AS n, avg(CAST(s.compound AS DOUBLE)) AS mean,
                   stddev_samp(CAST(s.compound AS DOUBLE)) AS sd
            FROM bridge_post_coin AS b
            JOIN fct_post_sentiment AS s ON s.source = b.source AND s.post_id = b.post_id AND s.date = b.date
            WHERE b.coin_id = ? AND b.date >= CAST(? AS DATE) - INTERVAL {BASELINE['day']} DAY AND b.date < ? AND NOT s.is_flagged
            GROUP BY ALL
        ),
        m AS (
            SELECT {key} AS k, {period} AS period, date, posts, flagged_posts, scored_posts, unique_authors, social_dominance,
                   CAST(flagged_posts AS DOUBLE) / nullif(posts + flagged_posts, 0) AS bot_share
            FROM {table}
            WHERE coin_id = ? AND date >= CAST(? AS DATE) - INTERVAL {BASELINE['day']} DAY AND date < ?
        ),
        zs AS (
            SELECT m.*, band.mean AS sentiment_mean, band.sd AS sentiment_sd,
                   band.mean - {Z95} * band.sd / sqrt(band.n) AS sentiment_low,
                   band.mean + {Z95} * band.sd / sqrt(band.n) AS sentiment_high
            FROM m LEFT JOIN band USING (k)
        )
        SELECT period, posts, flagged_posts, scored_posts, unique_authors, social_dominance, bot_share,
               sentiment_mean, sentiment_sd, sentiment_low, sentiment_high,
               {z}
        FROM zs
        WINDOW w AS (ORDER BY period ROWS BETWEEN {window} PRECEDING AND 1 PRECEDING)
        QUALIFY date >= ?
        ORDER BY period
    """
    return _fetch(cur, sql, (coin_id, start, end, coin_id, start, end, start))


def coin_posts(cur: duckdb.DuckDBPyConnection, coin_id: str, start: dt.datetime, end: dt.datetime, limit: int = 200) -> pa.Table:
    """Posts naming a coin created in [start, end) (timestamps, UTC), oldest first: author, text, sentiment and bot/spam flags."""
    return _fetch(
        cur,
        """
        SELECT p.created_at, p.source, p.author, p.text, CAST(s.compound AS DOUBLE) AS compound,
               s.is_flagged, s.is_copy_storm, s.is_high_rate, s.is_spam_pattern,
               p.like_count, p.retweet_count, p.channel, p.post_id
        FROM bridge_post_coin AS b
        JOIN fct_post AS p ON p.source = b.source AND p.post_id = b.post_id AND p.date = b.date
        LEFT JOIN fct_post_sentiment AS s ON s.source = b.source AND s.post_id = b.post_id AND s.date = b.date
        WHERE b.coin_id = ? AND b.date >= CAST(? AS DATE) AND b.date <= CAST(? AS DATE)
          AND p.created_at >= ? AND p.created_at < ?
        ORDER BY p.created_at, p.source, p.post_id
        LIMIT ?
        """,
        (coin_id, start, end, start, end, limit),
    )


def count_coin_posts(cur: duckdb.DuckDBPyConnection, coin_id: str, start: dt.datetime, end: dt.datetime) -> pa.Table:
    """One row: how many posts name a coin in [start, end) (timestamps, UTC), and how many of them are flagged."""
    return _fetch(
        cur,
        """
        SELECT count(*) AS posts, count(*) FILTER (WHERE s.is_flagged) AS flagged_posts
        FROM bridge_post_coin AS b
        JOIN fct_post AS p ON p.source = b.source AND p.post_id = b.post_id AND p.date = b.date
        LEFT JOIN fct_post_sentiment AS s ON s.source = b.source AND s.post_id = b.post_id AND s.date = b.date
        WHERE b.coin_id = ? AND b.date >= CAST(? AS DATE) AND b.date <= CAST(? AS DATE)
          AND p.created_at >= ? AND p.created_at < ?
        """,
        (coin_id, start, end, start, end),
    )


def returns_and_sentiment(cur: duckdb.DuckDBPyConnection, coin_id: str, start: dt.date, end: dt.date) -> pa.Table:
    """A coin's hours of [start, end): price, hourly log return, cumulative return, mean sentiment and its trailing 24 h mean, posts."""
    return _fetch(
        cur,
        """
        WITH h AS (
            SELECT ts_hour, date, price_usd, return_1h, posts, scored_posts, sentiment_mean,
                   sum(sentiment_mean * scored_posts) OVER d / nullif(sum(scored_posts) OVER d, 0) AS sentiment_24h
            FROM mart_coin_hourly
            WHERE coin_id = ? AND date >= CAST(? AS DATE) - INTERVAL 1 DAY AND date < ?
            WINDOW d AS (ORDER BY ts_hour ROWS BETWEEN 23 PRECEDING AND CURRENT ROW)
        )
        SELECT ts_hour, price_usd, return_1h,
               sum(coalesce(return_1h, 0)) OVER (ORDER BY ts_hour) AS cumulative_return,
               sentiment_mean, sentiment_24h, posts
        FROM h WHERE date >= ?
        ORDER BY ts_hour
        """,
        (coin_id, start, end, start),
    )


def lead_lag(cur: duckdb.DuckDBPyConnection, coin_id: str) -> pa.Table:
    """A coin's rows of the latest `cryptopulse analyze`: every cross-correlation lag and Granger test, with raw and corrected p-values."""
    return _fetch(
        cur,
        "SELECT series, test, lag, statistic, n, p_value, p_adjusted, significant, max_lag, alpha, shuffle_seed "
        "FROM analysis_lead_lag WHERE coin_id = ? ORDER BY series, test, lag",
        (coin_id,),
    )


def lead_lag_overview(cur: duckdb.DuckDBPyConnection) -> pa.Table:
    """Per analysed coin: tests run, tests significant after correction, the smallest corrected p-value, α and max lag."""
    return _fetch(
        cur,
        """
        SELECT coin_id, count(*) AS tests, count(*) FILTER (WHERE significant) AS significant_tests,
               min(p_adjusted) AS min_p_adjusted, any_value(alpha) AS alpha, any_value(max_lag) AS max_lag,
               any_value(shuffle_seed) AS shuffle_seed
        FROM analysis_lead_lag GROUP BY coin_id ORDER BY coin_id
        """,
    )


def quality_checks(cur: duckdb.DuckDBPyConnection, run_id: str | None = None) -> pa.Table:
    """The quality checks of one run (default: the latest checked), failing ones first, with their failing rows and an example."""
    return _fetch(
        cur,
        """
        SELECT run_id, checked_at, interval_start, interval_end, model, check_name, passed, failing_rows, example
        FROM quality_results
        WHERE run_id = coalesce(?, (SELECT arg_max(run_id, checked_at) FROM quality_results))
        ORDER BY passed, model, check_name
        """,
        (run_id,),
    )


def failed_checks(cur: duckdb.DuckDBPyConnection, limit: int = 100) -> pa.Table:
    """The failed quality checks of every recorded run, newest first, with their failing rows and an example."""
    return _fetch(
        cur,
        "SELECT run_id, checked_at, model, check_name, failing_rows, example FROM quality_results "
        "WHERE NOT passed ORDER BY checked_at DESC, run_id DESC, model, check_name LIMIT ?",
        (limit,),
    )


def quarantine_counts(cur: duckdb.DuckDBPyConnection) -> pa.Table:
    """Quarantined records per dataset, source and reason: how many, first and last day, and one example record."""
    return _fetch(
        cur,
        """
        SELECT dataset, source, reason, count(*) AS records, min(date) AS first_day, max(date) AS last_day,
               min(record) AS example
        FROM quarantine GROUP BY ALL ORDER BY records DESC, dataset, source, reason
        """,
    )


def freshness(cur: duckdb.DuckDBPyConnection) -> pa.Table:
    """Per dataset and source: the newest published timestamp and the rows published (prices by hour, posts by creation time)."""
    return _fetch(
        cur,
        """
        SELECT 'coin_hourly' AS dataset, source, max(ts_hour) AS newest, count(*) AS rows FROM fct_coin_hourly GROUP BY source
        UNION ALL
        SELECT 'posts', source, max(created_at), count(*) FROM fct_post GROUP BY source
        ORDER BY dataset, source
        """,
    )


def staging_summary(cur: duckdb.DuckDBPyConnection) -> pa.Table:
    """Per staged dataset: days, records received, staged, quarantined and duplicated, and the last day staged."""
    return _fetch(
        cur,
        """
        SELECT dataset, count(*) AS days, CAST(sum(received) AS BIGINT) AS received, CAST(sum(staged) AS BIGINT) AS staged,
               CAST(sum(quarantined) AS BIGINT) AS quarantined, CAST(sum(duplicates) AS BIGINT) AS duplicates,
               max(date) AS last_day
        FROM staging_stats GROUP BY dataset ORDER BY dataset
        """,
    )


def published_runs(cur: duckdb.DuckDBPyConnection, limit: int = 20) -> pa.Table:
    """The runs recorded in the published `pipeline_runs`, newest first (status, interval, duration)."""
    return _fetch(
        cur,
        "SELECT run_id, started_at, finished_at, interval_start, interval_end, status, seconds FROM pipeline_runs "
        "ORDER BY started_at DESC LIMIT ?",
        (limit,),
    )


def coin(cur: duckdb.DuckDBPyConnection, coin_id: str) -> pa.Table:
    """One coin of `dim_coin` by id, tracked or not (no row when the id is unknown)."""
    return _fetch(cur, "SELECT coin_id, symbol, name, market_cap_rank, is_tracked FROM dim_coin WHERE coin_id = ?", (coin_id,))


def social_dominance(cur: duckdb.DuckDBPyConnection, day: dt.date) -> pa.Table:
    """Each tracked coin's share of the day's unflagged posts naming any tracked coin, largest first, with its posts and mean sentiment."""
    return _fetch(
        cur,
        "SELECT m.coin_id, c.symbol, m.posts, m.social_dominance, m.sentiment_mean "
        "FROM mart_coin_daily AS m JOIN dim_coin AS c USING (coin_id) WHERE m.date = ? "
        "ORDER BY m.social_dominance DESC NULLS LAST, m.coin_id",
        (day,),
    )


_SENTIMENT = {  # the mart of a grain, and its columns that the other grain lacks
    "day": ("mart_coin_daily", "CAST(date AS TIMESTAMP)", "CAST(NULL AS DOUBLE)", "sentiment_z", "posts_z"),
    "hour": ("mart_coin_hourly", "ts_hour", "sentiment_weighted", "CAST(NULL AS DOUBLE)", "CAST(NULL AS DOUBLE)"),
}


def coin_sentiment(cur: duckdb.DuckDBPyConnection, coin_id: str, start: dt.date, end: dt.date, grain: str = "day") -> pa.Table:
    """A coin's published social measures per day or hour of [start, end), as the marts hold them (flagged posts left out
    of every measure but flagged_posts): posts, authors, dominance, mean sentiment, bullish/bearish shares; per day also
    the z-scores against the coin's trailing 20 days, per hour the engagement-weighted sentiment."""
    table, period, weighted, sentiment_z, posts_z = _SENTIMENT[_grain(grain)]
    return _fetch(
        cur,
        f"""
        SELECT {period} AS period, posts, flagged_posts, scored_posts, unique_authors, social_dominance, sentiment_mean,
               {weighted} AS sentiment_weighted, share_bullish, share_bearish, {sentiment_z} AS sentiment_z, {posts_z} AS posts_z
        FROM {table}
        WHERE coin_id = ? AND date >= ? AND date < ?
        ORDER BY period
        """,
        (coin_id, start, end),
    )


def coin_posts_after(
    cur: duckdb.DuckDBPyConnection,
    coin_id: str,
    start: dt.datetime,
    end: dt.datetime,
    after: tuple[dt.datetime, str, str] | None,
    limit: int,
    day_files: dict[str, list[str] | None],
) -> pa.Table:
    """`coin_posts` by keyset: the posts of [start, end) after the key (created_at, source, post_id), oldest first.

    `day_files` gives, per table (bridge_post_coin, fct_post, fct_post_sentiment), the files of the days in range to
    read instead of its whole view (far cheaper when a table is stored as one file per day), or None for the view.
    """
    source = {t: "read_parquet(?, hive_partitioning = true)" if files else t for t, files in day_files.items()}
    files = [day_files[t] for t in ("bridge_post_coin", "fct_post", "fct_post_sentiment") if day_files[t]]
    key = after or (None, None, None)
    return _fetch(
        cur,
        f"""
        SELECT p.created_at, p.source, p.author, p.text, CAST(s.compound AS DOUBLE) AS compound,
               s.is_flagged, s.is_copy_storm, s.is_high_rate, s.is_spam_pattern,
               p.like_count, p.retweet_count, p.channel, p.post_id
        FROM {source["bridge_post_coin"]} AS b
        JOIN {source["fct_post"]} AS p ON p.source = b.source AND p.post_id = b.post_id AND p.date = b.date
        LEFT JOIN {source["fct_post_sentiment"]} AS s ON s.source = b.source AND s.post_id = b.post_id AND s.date = b.date
        WHERE b.coin_id = ? AND b.date >= CAST(? AS DATE) AND b.date <= CAST(? AS DATE)
          AND p.created_at >= ? AND p.created_at < ?
          AND (CAST(? AS TIMESTAMP) IS NULL OR (p.created_at, p.source, p.post_id) > (CAST(? AS TIMESTAMP), ?, ?))
        ORDER BY p.created_at, p.source, p.post_id
        LIMIT ?
        """,
        (*files, coin_id, start, end, start, end, key[0], *key, limit),
    )
