"""Stage coin stats: CoinGecko `market_chart` JSON ([ms, value] pairs) → one row per coin-hour, as day-partitioned CSV."""

from __future__ import annotations

import duckdb

from cryptopulse.lake import Lake
from cryptopulse.sqltext import sql_list
from cryptopulse.staging.common import Dataset, RawShape, files_sql, relative_path_sql, unreadable_sql
from cryptopulse.staging.loading import MARGIN_DAYS, Window

ARRAYS = ("prices", "market_caps", "total_volumes")
# Unix milliseconds of the years 1 … 9999, the timestamps DuckDB can make.
UNIX_MS = (-62135596800000, 253402300799000)

EMPTY_CHARTS = (
    "SELECT NULL::VARCHAR AS raw_file, NULL::VARCHAR AS problem, NULL::JSON AS chart, NULL::BOOLEAN AS caps_absent, "
    "NULL::STRUCT(prices VARCHAR[][], market_caps VARCHAR[][], total_volumes VARCHAR[][]) AS v WHERE false"
)


def _charts_sql(lake: Lake, uris: list[str]) -> str:
    """One row per chart file: its three arrays with every value as text, or the `problem` that makes it no chart.

    A chart without a `market_caps` array (imported OHLCV files have none) gives NULL market caps; a point that
    is not a [timestamp, value] pair reads as nulls (and is quarantined)."""
    structure = '{"prices": [["VARCHAR"]], "market_caps": [["VARCHAR"]], "total_volumes": [["VARCHAR"]]}'
    array_checks = " ".join(f"WHEN jt[{i}] NOT IN ('ARRAY', 'NULL') THEN 'bad_type:{a}'" for i, a in enumerate(ARRAYS, start=2))
    return f"""
        SELECT raw_file, problem, CASE WHEN problem IS NOT NULL THEN json END AS chart, jt[3] IS NULL AS caps_absent,
               CASE WHEN problem IS NULL THEN from_json(json, '{structure}') END AS v
        FROM (
            SELECT *, CASE WHEN json IS NULL THEN 'bad_json' WHEN jt[1] <> 'OBJECT' THEN 'not_an_object' {array_checks} END
                          AS problem
            FROM (SELECT {relative_path_sql(lake)} AS raw_file, json,
                         json_type(json, ['$', '$.prices', '$.market_caps', '$.total_volumes']) AS jt
                  FROM read_json_objects({sql_list(uris)}, format = 'unstructured', compression = 'gzip', filename = true,
                                         ignore_errors = true, maximum_object_size = 268435456))
        )
        """


COUNT_SQL = (
    "SELECT raw_file, CASE WHEN problem IS NOT NULL THEN 1 "
    "ELSE greatest(len(v.prices), len(v.market_caps), len(v.total_volumes), 0) END AS n FROM price_charts"
)


def _points_sql() -> str:
    """One row per point: the three arrays of a chart zipped by position, values kept as text; the coin id is the file
    name `<coin_id>.json.gz` or `<coin_id>@<anything>.json.gz` (imports append the source file's slug)."""
    return """
        SELECT
            raw_file,
            regexp_extract(raw_file, '/([^/@]+)(@[^/]*)?\\.json(\\.gz)?$', 1) AS coin_id,
            pos,
            v.prices[pos][1] AS ts_text,
            v.prices[pos][2] AS price_text,
            CASE WHEN caps_absent THEN v.prices[pos][1] ELSE v.market_caps[pos][1] END AS cap_ts_text,
            v.market_caps[pos][2] AS market_cap_text,
            v.total_volumes[pos][1] AS vol_ts_text,
            v.total_volumes[pos][2] AS volume_text,
            caps_absent
        FROM (SELECT raw_file, v, caps_absent,
                     unnest(range(1, greatest(len(v.prices), len(v.market_caps), len(v.total_volumes)) + 1)) AS pos
              FROM price_charts WHERE problem IS NULL)
        """


def _classify(con: duckdb.DuckDBPyConnection, window: Window) -> None:
    """Judge every point of the charts read: its reason (NULL = good) and its day.

    A point's day is its own (a plausible timestamp within its file's month, give or take the margin); any other
    point belongs to the first day its file covers (its earliest such point's day, else its partition's first day).
    """
    margin = f"INTERVAL {MARGIN_DAYS} DAY"
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
                c.coin_id IS NOT NULL AS known_coin
            FROM ({_points_sql()}) AS p
            LEFT JOIN coins_staged AS c USING (coin_id)
        ),
        timed AS (
            -- clamped: a number beyond the years 1 … 9999 is still a timestamp, out of range
            SELECT *, make_timestamp(least(greatest(ts_ms, {UNIX_MS[0]}), {UNIX_MS[1]}) * 1000) AS ts_value
            FROM typed
        ),
        placed AS (
            SELECT t.*, f.part_start, {window.sql('t.ts_value')} AS plausible,
                   f.part_start IS NULL OR (t.ts_value >= f.part_start - {margin} AND t.ts_value < f.part_end + {margin})
                       AS in_partition
            FROM timed AS t LEFT JOIN ({files_sql(PRICES)}) AS f USING (raw_file)
        ),
        judged AS (
            SELECT *,
                   CASE WHEN plausible AND in_partition THEN ts_value END AS ts,
                   CASE
                       WHEN NOT known_coin THEN 'unknown_coin'
                       WHEN ts_ms IS NULL THEN 'bad_timestamp'
                       WHEN NOT plausible THEN 'timestamp_out_of_range'
                       WHEN NOT in_partition THEN 'outside_partition'
                       WHEN cap_ts_text IS DISTINCT FROM ts_text OR vol_ts_text IS DISTINCT FROM ts_text THEN 'misaligned_arrays'
                       WHEN price_text IS NOT NULL AND price_usd IS NULL THEN 'bad_type:prices'
                       WHEN market_cap_text IS NOT NULL AND market_cap_usd IS NULL THEN 'bad_type:market_caps'
                       WHEN volume_text IS NOT NULL AND volume_usd IS NULL THEN 'bad_type:total_volumes'
                       -- an absent market_caps array means "no market cap" (NULL); a null inside a present array is bad data
                       WHEN price_usd IS NULL OR (market_cap_usd IS NULL AND NOT caps_absent) OR volume_usd IS NULL THEN 'null_value'
                       WHEN price_usd < 0 OR coalesce(market_cap_usd < 0, false) OR volume_usd < 0 THEN 'negative_value'
                       WHEN NOT (isfinite(price_usd) AND coalesce(isfinite(market_cap_usd), true) AND isfinite(volume_usd))
                           THEN 'non_finite_value'
                   END AS reason
            FROM placed
        )
        SELECT
            coin_id, date_trunc('hour', ts) AS ts_hour, ts_ms, price_usd, market_cap_usd, volume_usd,
            regexp_extract(raw_file, 'raw/([^/]+)/', 1) AS source, raw_file, pos, reason,
            coalesce(cast(ts AS DATE), min(cast(ts AS DATE)) OVER (PARTITION BY raw_file), part_start) AS date,
            CASE WHEN reason IS NOT NULL THEN to_json({{coin_id: coin_id, pos: pos, ts: ts_text, price: price_text,
                 market_cap: market_cap_text, volume: volume_text}})::VARCHAR END AS record
        FROM judged
        UNION ALL BY NAME
        SELECT c.raw_file, c.problem AS reason, CAST(c.chart AS VARCHAR) AS record, f.part_start AS date
        FROM price_charts AS c LEFT JOIN ({files_sql(PRICES)}) AS f USING (raw_file) WHERE c.problem IS NOT NULL
        UNION ALL BY NAME
        SELECT u.raw_file, u.reason, u.record, f.part_start AS date
        FROM ({unreadable_sql(PRICES)}) AS u LEFT JOIN ({files_sql(PRICES)}) AS f USING (raw_file)
        """
    )


# Needs `coins_staged` (from `stage_coins`) in the connection to recognise unknown coin ids.
PRICES = Dataset(
    name="coin_hourly",
    shapes=(RawShape("raw/*/coingecko/market_chart/month=*/*.json.gz", "price_charts", _charts_sql, EMPTY_CHARTS, COUNT_SQL),),
    prefix="price",
    classify=_classify,
    staged_columns="coin_id, ts_hour, ts_ms, price_usd, market_cap_usd, volume_usd, source, raw_file, date",
    key="coin_id, ts_hour",
    newest_first="r.ts_ms DESC, r.raw_file DESC, r.pos DESC",
    order_by="coin_id, ts_hour",
    fmt="csv",
)
