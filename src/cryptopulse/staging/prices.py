"""Stage coin stats: CoinGecko `market_chart` JSON ([ms, value] pairs) → one row per coin-hour, as day-partitioned CSV."""

from __future__ import annotations

import duckdb

from cryptopulse.interval import Interval
from cryptopulse.lake import Lake
from cryptopulse.staging.common import Dataset, RawShape, relative_path_sql, split_duplicates, sql_list

# Unix milliseconds between 2009-01-03 (the first Bitcoin block) and 2100-01-01: anything else is not a timestamp.
MIN_MS, MAX_MS = 1230940800000, 4102444800000


EMPTY_POINTS = (
    "SELECT NULL::VARCHAR AS raw_file, NULL::VARCHAR AS coin_id, NULL::BIGINT AS pos, NULL::VARCHAR AS ts_text, "
    "NULL::VARCHAR AS price_text, NULL::VARCHAR AS cap_ts_text, NULL::VARCHAR AS market_cap_text, "
    "NULL::VARCHAR AS vol_ts_text, NULL::VARCHAR AS volume_text, NULL::BOOLEAN AS caps_absent WHERE false"
)


def _points_sql(lake: Lake, uris: list[str]) -> str:
    """One row per point: the three arrays of a chart zipped by position, values kept as text.

    A chart without a `market_caps` array (imported OHLCV files have none) gives NULL market caps; the file
    name is `<coin_id>.json.gz` or `<coin_id>@<anything>.json.gz` (imports append the source file's slug)."""
    return f"""
        WITH charts AS (
            SELECT {relative_path_sql(lake)} AS raw_file, prices, market_caps, total_volumes
            FROM read_json({sql_list(uris)}, format = 'auto', compression = 'gzip', filename = true,
                           columns = {{prices: 'VARCHAR[][]', market_caps: 'VARCHAR[][]', total_volumes: 'VARCHAR[][]'}},
                           maximum_object_size = 268435456)
        ),
        zipped AS (
            SELECT raw_file,
                   unnest(range(1, greatest(len(prices), len(market_caps), len(total_volumes)) + 1)) AS pos,
                   prices, market_caps, total_volumes
            FROM charts
        )
        SELECT
            raw_file,
            regexp_extract(raw_file, '/([^/@]+)(@[^/]*)?\\.json(\\.gz)?$', 1) AS coin_id,
            pos,
            prices[pos][1] AS ts_text,
            prices[pos][2] AS price_text,
            CASE WHEN market_caps IS NULL THEN prices[pos][1] ELSE market_caps[pos][1] END AS cap_ts_text,
            market_caps[pos][2] AS market_cap_text,
            total_volumes[pos][1] AS vol_ts_text,
            total_volumes[pos][2] AS volume_text,
            market_caps IS NULL AS caps_absent
        FROM zipped
        """


def _classify(con: duckdb.DuckDBPyConnection, interval: Interval) -> None:
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE price_records AS
        WITH typed AS (
            SELECT
                p.*,
                try_cast(ts_text AS BIGINT) AS ts_ms,
                try_cast(price_text AS DOUBLE) AS price_usd,
                try_cast(market_cap_text AS DOUBLE) AS market_cap_usd,
                try_cast(volume_text AS DOUBLE) AS volume_usd,
                c.coin_id IS NOT NULL AS known_coin,
                regexp_extract(raw_file, 'raw/([^/]+)/', 1) AS source,
                cast(regexp_extract(raw_file, 'month=([0-9-]{{7}})', 1) || '-01' AS DATE) AS file_date
            FROM price_points p
            LEFT JOIN coins_staged c USING (coin_id)
        ),
        timed AS (
            SELECT *,
                   CASE WHEN ts_ms BETWEEN {MIN_MS} AND {MAX_MS} THEN make_timestamp(ts_ms * 1000) END AS ts
            FROM typed
        )
        SELECT
            *,
            date_trunc('hour', ts) AS ts_hour,
            -- a point without a usable timestamp belongs to the first day its file covers
            coalesce(cast(ts AS DATE), min(cast(ts AS DATE)) OVER (PARTITION BY raw_file), file_date) AS date,
            CASE
                WHEN NOT known_coin THEN 'unknown_coin'
                WHEN ts IS NULL THEN 'bad_timestamp'
                WHEN cap_ts_text IS DISTINCT FROM ts_text OR vol_ts_text IS DISTINCT FROM ts_text THEN 'misaligned_arrays'
                -- an absent market_caps array means "no market cap" (NULL); a null inside a present array is bad data
                WHEN price_usd IS NULL OR (market_cap_usd IS NULL AND NOT caps_absent) OR volume_usd IS NULL THEN 'null_value'
                WHEN price_usd < 0 OR coalesce(market_cap_usd < 0, false) OR volume_usd < 0 THEN 'negative_value'
                WHEN NOT (isfinite(price_usd) AND coalesce(isfinite(market_cap_usd), true) AND isfinite(volume_usd))
                    THEN 'non_finite_value'
            END AS reason
        FROM timed
        QUALIFY date >= DATE '{interval.start}' AND date < DATE '{interval.end}'
        UNION ALL BY NAME
        SELECT raw_file, date, reason, record FROM price_points_unreadable
        WHERE date >= DATE '{interval.start}' AND date < DATE '{interval.end}'
        """
    )
    split_duplicates(con, "price_records", "coin_id, ts_hour", "r.ts_ms DESC, r.raw_file DESC, r.pos DESC")
    con.execute(
        """
        CREATE OR REPLACE TEMP VIEW price_staged AS
        SELECT coin_id, ts_hour, ts_ms, price_usd, market_cap_usd, volume_usd, source, raw_file, date
        FROM price_records
        WHERE reason IS NULL AND rowid NOT IN (SELECT rid FROM price_records_losers)
        """
    )
    con.execute("CREATE OR REPLACE TEMP VIEW price_duplicates AS SELECT date FROM price_records_losers")
    con.execute(
        """
        CREATE OR REPLACE TEMP VIEW price_quarantine AS
        SELECT 'coin_hourly' AS dataset, date, regexp_extract(raw_file, 'raw/([^/]+)/', 1) AS source, raw_file, reason,
               coalesce(record, to_json({coin_id: coin_id, pos: pos, ts: ts_text, price: price_text,
                        market_cap: market_cap_text, volume: volume_text})::VARCHAR) AS record
        FROM price_records WHERE reason IS NOT NULL
        """
    )


# Needs `coins_staged` (from `stage_coins`) in the connection to recognise unknown coin ids.
PRICES = Dataset(
    name="coin_hourly",
    shapes=(RawShape("raw/*/coingecko/market_chart/month=*/*.json.gz", "price_points", _points_sql, EMPTY_POINTS),),
    prefix="price",
    classify=_classify,
    order_by="coin_id, ts_hour",
    fmt="csv",
)
