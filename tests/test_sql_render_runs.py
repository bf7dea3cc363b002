"""`cryptopulse sql-render` prints what runs: its DuckDB script executed by the DuckDB client, and its PostgreSQL
script executed by psql, over a staged zone give the tables a normal `cryptopulse run` gives over that zone."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb

from conftest import table_hashes
from cryptopulse.config import load_settings
from cryptopulse.lake import Lake
from cryptopulse.pipeline import run, staged_interval
from cryptopulse.sql_render import render_script
from pgtables import postgres_hashes


def test_the_duckdb_script_run_by_the_duckdb_client_gives_the_run_tables(small_built, tmp_path):
    lake = Lake(small_built.lake)
    script = render_script("duckdb", staged_interval(lake, None), lake.uri(), lake=lake)
    warehouse = str(tmp_path / "from-script.duckdb")
    con = duckdb.connect(warehouse)
    try:
        con.execute(script)  # every statement of the text, in order, as the client runs a script
    finally:
        con.close()

    expected = table_hashes(small_built.warehouse)
    assert table_hashes(warehouse) == expected
    assert expected["fct_post"][0] > 10_000 and expected["quarantine"][0] > 0  # the comparison is over real data


def test_the_postgres_script_run_by_psql_gives_the_run_tables(tiny, postgres_server, tmp_path):
    """On the tiny lake: psql's `\\copy` starts one converter process per staged file (the small lake has ~130)."""
    settings = load_settings(lake=tiny.lake, warehouse=postgres_server.create_database())
    report = run(settings)
    lake = Lake(settings.lake)
    script = tmp_path / "script.sql"
    script.write_text(render_script("postgres", report.interval, lake.uri(), lake=lake))

    from_script = postgres_server.create_database()
    venv = {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}  # psql's \copy runs python3
    done = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", str(script), from_script],
                          env={**os.environ, **venv}, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr

    expected = postgres_hashes(settings.warehouse)
    assert postgres_hashes(from_script) == expected
    assert all(expected[t][0] > 0 for t in ("fct_coin_hourly", "fct_post", "bridge_post_coin", "quarantine", "staging_stats"))
