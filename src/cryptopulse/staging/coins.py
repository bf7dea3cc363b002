"""Stage the coin list: CoinGecko `/coins/list` and `/coins/markets` snapshots → one Parquet file of coins."""

from __future__ import annotations

import duckdb

from cryptopulse.lake import Lake
from cryptopulse.staging.common import StageResult, relative_path_sql, sql_list

DATASET = "coins"
LIST_PATTERN = "raw/*/coingecko/coins_list.json"
MARKETS_PATTERN = "raw/*/coingecko/coins_markets.json"
STAGED_PATH = "staged/coins/part-0.parquet"


def stage_coins(lake: Lake, con: duckdb.DuckDBPyConnection, write: bool = True) -> StageResult:
    """Merge every source's coin list into one row per coin id (table `coins_staged`; written to the staged zone
    unless `write` is false); tracked coins are those with market data."""
    lists = [lake.uri(f) for f in lake.glob(LIST_PATTERN)]
    markets = [lake.uri(f) for f in lake.glob(MARKETS_PATTERN)]
    empty_list = "SELECT NULL::VARCHAR AS id, NULL::VARCHAR AS symbol, NULL::VARCHAR AS name, NULL::VARCHAR AS raw_file WHERE false"
    list_sql = (
        f"SELECT id, symbol, name, {relative_path_sql(lake)} AS raw_file FROM read_json({sql_list(lists)}, "
        "columns = {id: 'VARCHAR', symbol: 'VARCHAR', name: 'VARCHAR'}, format = 'array', filename = true)"
        if lists
        else empty_list
    )
    markets_sql = (
        f"SELECT id, market_cap_rank FROM read_json({sql_list(markets)}, "
        "columns = {id: 'VARCHAR', market_cap_rank: 'BIGINT'}, format = 'array')"
        if markets
        else "SELECT NULL::VARCHAR AS id, NULL::BIGINT AS market_cap_rank WHERE false"
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE coins_staged AS
        WITH listed AS ({list_sql}),
             ranked AS (SELECT id, min(market_cap_rank) AS market_cap_rank FROM ({markets_sql}) GROUP BY id)
        SELECT
            l.id AS coin_id,
            lower(min(l.symbol)) AS symbol,
            min(l.name) AS name,
            min(r.market_cap_rank) AS market_cap_rank,
            min(r.id) IS NOT NULL AS is_tracked,
            min(regexp_extract(l.raw_file, 'raw/([^/]+)/', 1)) AS source
        FROM listed l
        LEFT JOIN ranked r ON r.id = l.id
        WHERE l.id IS NOT NULL AND trim(l.id) <> ''
        GROUP BY l.id
        """
    )
    received = con.execute(f"SELECT count(*) FROM ({list_sql})").fetchone()[0]
    staged = con.execute("SELECT count(*) FROM coins_staged").fetchone()[0]
    if write:
        with lake.writing(STAGED_PATH) as out:
            con.execute(f"COPY (SELECT * FROM coins_staged ORDER BY coin_id) TO '{out}' (FORMAT parquet)")
    return StageResult(dataset=DATASET, received=received, staged=staged, duplicates=received - staged,
                       files_read=len(lists) + len(markets))
