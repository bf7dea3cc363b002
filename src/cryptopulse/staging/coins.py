"""Stage the coin list: CoinGecko `/coins/list` and `/coins/markets` snapshots → one Parquet file of coins."""

from __future__ import annotations

import duckdb

from cryptopulse.lake import Lake
from cryptopulse.sqltext import sql_list
from cryptopulse.staging.common import StageResult, relative_path_sql
from cryptopulse.staging.jsonfields import Field, RecordType
from cryptopulse.staging.loading import load_tolerant
from cryptopulse.staging.zone import COINS_FILE

DATASET = "coins"
LIST_PATTERN = "raw/*/coingecko/coins_list.json"
MARKETS_PATTERN = "raw/*/coingecko/coins_markets.json"
QUARANTINE_PATH = "staged/coins/_quarantine.parquet"

LISTED = RecordType((Field("id"), Field("symbol")), extra=(("name", "VARCHAR"),))  # a coin needs an id and a symbol
MARKET = RecordType((Field("id"), Field("market_cap_rank", "BIGINT")))

EMPTY_DOCS = "SELECT NULL::VARCHAR AS raw_file, NULL::VARCHAR AS problem, NULL::JSON AS doc WHERE false"


def _docs_sql(lake: Lake, uris: list[str]) -> str:
    """One row per file: the whole JSON document, or the `problem` that makes it no list of coins."""
    return f"""
        SELECT raw_file, CASE WHEN json IS NULL THEN 'bad_json' WHEN json_type(json) <> 'ARRAY' THEN 'not_a_list' END AS problem,
               json AS doc
        FROM (SELECT {relative_path_sql(lake)} AS raw_file, json
              FROM read_json_objects({sql_list(uris)}, format = 'unstructured', filename = true, ignore_errors = true,
                                     maximum_object_size = 268435456))
        """


def _judge(con: duckdb.DuckDBPyConnection, docs: str, kind: RecordType, extra: str) -> None:
    """Temp table `{docs}_records`: every element of the documents in `docs` (and each unusable file), with its
    `reason` (NULL = good), its `record` when rejected, `id` and the `extra` select items. Every text field of
    `kind` is required (`missing_<field>`)."""
    missing = " ".join(f"WHEN trim(coalesce({kind.value_sql(f.path)}, '')) = '' THEN 'missing_{f.path}'" for f in kind.fields if f.is_text)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {docs}_records AS
        WITH parsed AS (
            SELECT raw_file, j, {kind.parse_sql('j')}
            FROM (SELECT raw_file, unnest(json_extract(doc, '$[*]')) AS j FROM {docs} WHERE problem IS NULL)
        ),
        judged AS (
            SELECT *, {kind.value_sql('id')} AS id,
                   coalesce({kind.reason_sql('j')}, CASE {missing} END) AS reason
            FROM parsed
        )
        SELECT raw_file, id, {extra}, reason, CASE WHEN reason IS NOT NULL THEN CAST(j AS VARCHAR) END AS record FROM judged
        UNION ALL BY NAME
        SELECT raw_file, problem AS reason, CAST(doc AS VARCHAR) AS record FROM {docs} WHERE problem IS NOT NULL
        UNION ALL BY NAME
        SELECT raw_file, reason, record FROM {docs}_unreadable
        """
    )


def stage_coins(lake: Lake, con: duckdb.DuckDBPyConnection, write: bool = True) -> StageResult:
    """Merge every source's coin list into one row per coin id (table `coins_staged`; written to the staged zone
    unless `write` is false); tracked coins are those with market data.

    Received: every coin-list record, and every market record (or file) that could not be used; the unusable ones
    are quarantined (`staged/coins/_quarantine.parquet`), the repeated ids are duplicates."""
    lists, markets = lake.glob(LIST_PATTERN), lake.glob(MARKETS_PATTERN)
    load_tolerant(con, lake, "coin_lists", lists, lambda uris: _docs_sql(lake, uris), EMPTY_DOCS)
    load_tolerant(con, lake, "coin_markets", markets, lambda uris: _docs_sql(lake, uris), EMPTY_DOCS)
    _judge(con, "coin_lists", LISTED, f"{LISTED.value_sql('symbol')} AS symbol, v.name AS name")
    _judge(con, "coin_markets", MARKET, f"{MARKET.value_sql('market_cap_rank')} AS market_cap_rank")
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE coins_staged AS
        WITH ranked AS (SELECT id, min(market_cap_rank) AS market_cap_rank FROM coin_markets_records WHERE reason IS NULL GROUP BY id)
        SELECT
            l.id AS coin_id,
            lower(min(l.symbol)) AS symbol,
            min(l.name) AS name,
            min(r.market_cap_rank) AS market_cap_rank,
            min(r.id) IS NOT NULL AS is_tracked,
            min(regexp_extract(l.raw_file, 'raw/([^/]+)/', 1)) AS source
        FROM coin_lists_records AS l
        LEFT JOIN ranked AS r ON r.id = l.id
        WHERE l.reason IS NULL
        GROUP BY l.id
        """
    )
    rejected = (
        f"SELECT '{DATASET}' AS dataset, NULL::DATE AS date, regexp_extract(raw_file, 'raw/([^/]+)/', 1) AS source, "
        "raw_file, reason, record FROM (SELECT * FROM coin_lists_records UNION ALL BY NAME SELECT * FROM coin_markets_records) "
        "WHERE reason IS NOT NULL"
    )
    con.execute(f"CREATE OR REPLACE TEMP VIEW coins_quarantine AS {rejected}")
    listed, good, unusable_markets, staged, held = con.execute(
        "SELECT (SELECT count(*) FROM coin_lists_records), (SELECT count(*) FROM coin_lists_records WHERE reason IS NULL), "
        "(SELECT count(*) FROM coin_markets_records WHERE reason IS NOT NULL), "
        "(SELECT count(*) FROM coins_staged), (SELECT count(*) FROM coins_quarantine)"
    ).fetchone()
    if write:
        _write(lake, con, held)
    reasons = dict(con.execute("SELECT reason, count(*) FROM coins_quarantine GROUP BY reason ORDER BY reason").fetchall())
    return StageResult(dataset=DATASET, received=listed + unusable_markets, staged=staged, duplicates=good - staged,
                       quarantined=held, files_read=len(lists) + len(markets), reasons=reasons)


def _write(lake: Lake, con: duckdb.DuckDBPyConnection, held: int) -> None:
    with lake.writing(COINS_FILE) as out:
        con.execute(f"COPY (SELECT * FROM coins_staged ORDER BY coin_id) TO '{out}' (FORMAT parquet)")
    if not held:
        lake.remove(QUARANTINE_PATH)
        return
    with lake.writing(QUARANTINE_PATH) as out:
        con.execute(f"COPY (SELECT * FROM coins_quarantine ORDER BY raw_file, reason, record) TO '{out}' (FORMAT parquet)")
