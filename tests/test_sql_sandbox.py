"""`cryptopulse sql` is a sandbox over the published version: queries only, no file outside the published zone,
nothing written; its CSV output cannot smuggle a spreadsheet formula."""

from __future__ import annotations

import csv
import hashlib
import io
import os
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from conftest import settings_for
from cryptopulse.cli import app
from cryptopulse.lake import Lake
from cryptopulse.pipeline import run
from cryptopulse.read import open_snapshot
from cryptopulse.status import csv_cell
from rawfiles import write_tiny_lake


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """The tiny lake, run once: a published version, a warehouse beside it, and a second DuckDB file to attack."""
    root = tmp_path_factory.mktemp("sandbox")
    settings = settings_for(root)
    write_tiny_lake(Lake(settings.lake))
    run(settings)
    other = root / "other.duckdb"
    con = duckdb.connect(str(other))
    con.execute("CREATE TABLE fct_post AS SELECT 1 AS x")
    con.close()
    return settings, other


def tree_hashes(*roots: Path) -> dict[str, str]:
    """sha256 of every file under `roots` (what an attack must not change)."""
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for root in roots for p in sorted(root.rglob("*")) if p.is_file()}


def sql(settings, *args: str):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRYPTOPULSE_")}
    return CliRunner().invoke(app, ["sql", *args, "--lake", settings.lake], env=env)


def published_file(settings) -> str:
    with open_snapshot(Lake(settings.lake)) as snapshot:
        return Lake(settings.lake).uri(snapshot.tables["dim_coin"].files[0])


ATTACKS = {
    "copy over a published file": "COPY (SELECT 'x' AS coin_id) TO '{published_file}' (FORMAT parquet)",
    "copy into the published zone": "COPY (SELECT 1) TO '{lake}/published/dim_coin/evil.csv'",
    "export the database": "EXPORT DATABASE '{lake}/published/export'",
    "attach another database writable, then drop": "ATTACH '{other}' AS v (READ_ONLY false); DROP TABLE v.fct_post",
    "attach the warehouse": "ATTACH '{warehouse}' AS w",
    "install an extension": "INSTALL httpfs",
    "load an extension": "LOAD httpfs",
    "change a setting": "SET enable_external_access = true",
    "reset a setting": "RESET allowed_directories",
    "pragma": "PRAGMA enable_profiling",
    "create a table": "CREATE TABLE t AS SELECT 1",
    "create a macro": "CREATE MACRO m() AS 1",
    "insert": "INSERT INTO dim_coin SELECT * FROM dim_coin",
    "drop a view": "DROP VIEW dim_coin",
    "a query smuggling a copy": "SELECT 1; COPY (SELECT 1) TO '{lake}/published/evil.csv'",
    "explain analyze of a copy": "EXPLAIN ANALYZE COPY (SELECT 1) TO '{lake}/published/evil.csv'",
    "checkpoint": "CHECKPOINT",
    "transaction": "BEGIN TRANSACTION",
}


@pytest.mark.parametrize("attack", ATTACKS.values(), ids=ATTACKS.keys())
def test_statements_that_are_not_queries_are_refused_and_change_nothing(published, attack):
    settings, other = published
    statement = attack.format(published_file=published_file(settings), lake=settings.lake, other=other, warehouse=settings.warehouse)
    before = tree_hashes(Path(settings.lake), other.parent)
    result = sql(settings, statement)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: refused: `sql` is read-only") and len(result.stderr.strip().splitlines()) == 1
    assert tree_hashes(Path(settings.lake), other.parent) == before


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * FROM read_text('/etc/shadow')",
        "SELECT * FROM read_text('/etc/passwd')",
        "SELECT * FROM read_csv('{warehouse}')",
        "SELECT * FROM glob('/etc/*')",
        "SELECT * FROM read_json('{lake}/raw/test/coingecko/coins_list.json')",
        "SELECT * FROM read_text('{lake}/published/../raw/test/coingecko/coins_list.json')",
        "SELECT * FROM read_parquet('http://127.0.0.1:9/x.parquet')",
    ],
)
def test_no_file_outside_the_published_zone_is_readable(published, query):
    settings, _ = published
    result = sql(settings, query.format(lake=settings.lake, warehouse=settings.warehouse))
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: query failed:") and len(result.stderr.strip().splitlines()) == 1
    assert "root:" not in result.output  # nothing of /etc/passwd leaked


@pytest.mark.parametrize("query", ["", "   ", ";", "/* only a comment */"])
def test_an_empty_query_is_one_line(published, query):
    settings, _ = published
    result = sql(settings, query)
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: no query given: pass a SELECT statement, e.g. cryptopulse sql 'SELECT count(*) FROM fct_post'"


def test_queries_read_the_published_tables(published):
    settings, _ = published
    result = sql(settings, "SELECT coin_id, count(*) AS n FROM bridge_post_coin GROUP BY 1 ORDER BY 1", "--csv")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == ["coin_id,n", "bitcoin,3", "bitcoin-cash,2", "ethereum,2", "harmony,1"]


@pytest.mark.parametrize(
    "query",
    [
        "WITH c AS (SELECT * FROM dim_coin) SELECT count(*) FROM c",
        "FROM dim_coin SELECT count(*)",
        "DESCRIBE dim_coin",
        "EXPLAIN SELECT count(*) FROM fct_post",
        "SELECT 1; SELECT count(*) FROM fct_post",
        "SELECT count(*) FROM read_parquet('{lake}/published/*/*.parquet', union_by_name = true)",
    ],
)
def test_select_like_statements_run(published, query):
    settings, _ = published
    result = sql(settings, query.format(lake=settings.lake))
    assert result.exit_code == 0, result.stderr


def test_sql_never_opens_the_warehouse(published):
    """The writer holds the warehouse: a reader that needed it would block or be blocked."""
    settings, _ = published
    writer = duckdb.connect(settings.warehouse)  # an exclusive lock on the file, as a running build holds
    try:
        result = sql(settings, "SELECT count(*) AS n FROM fct_post", "--csv")
    finally:
        writer.close()
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == ["n", "7"]


def test_sql_on_a_lake_with_nothing_published_is_one_line(tmp_path):
    settings = settings_for(tmp_path)
    write_tiny_lake(Lake(settings.lake))
    result = sql(settings, "SELECT 1")
    assert result.exit_code == 2
    assert "nothing published yet" in result.stderr and "cryptopulse run" in result.stderr


FORMULAS = ["=cmd|' /C calc'!A0", "+1+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0",
            "\t=1+1", "\r=1+1"]


def test_csv_neutralises_formula_injection_in_cells_and_headers(published):
    settings, _ = published
    cells = ", ".join(f"'{f.replace(chr(39), chr(39) * 2)}'" for f in FORMULAS)
    result = sql(settings, f"SELECT {cells}, 1 AS \"=HYPERLINK()\"", "--csv")
    assert result.exit_code == 0, result.stderr
    header, row = list(csv.reader(io.StringIO(result.stdout)))
    assert row == [*("'" + f for f in FORMULAS), "1"]
    assert header[-1] == "'=HYPERLINK()"


def test_csv_leaves_numbers_and_plain_text_alone(published):
    settings, _ = published
    result = sql(settings, "SELECT -5 AS a, -1.5 AS b, 'bitcoin' AS c, 'a=b' AS d, NULL AS e, DATE '2024-01-01' AS f", "--csv")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == ["a,b,c,d,e,f", "-5,-1.5,bitcoin,a=b,,2024-01-01"]


@pytest.mark.parametrize(("value", "safe"), [("=1", "'=1"), ("-x", "'-x"), (-5, -5), (2.5, 2.5), (None, None), ("ok", "ok"), ("", "")])
def test_csv_cell(value, safe):
    assert csv_cell(value) == safe
