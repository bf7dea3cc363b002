"""The command line: summaries, exit codes (0 ok, 1 gate failed, 2 user error) and one-line errors."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from cryptopulse.cli import app
from cryptopulse.lake import Lake
from cryptopulse.read import open_snapshot

CRYPTOPULSE = str(Path(sys.executable).with_name("cryptopulse"))


def invoke(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRYPTOPULSE_")}
    return subprocess.run([CRYPTOPULSE, *args], capture_output=True, text=True, env=env, timeout=300)


# The tiny lake's literal rows (tests/rawfiles.py): 2 days × 24 hours, 2 priced coins, 7 valid posts naming coins 8 times.
TINY_ROWS = {"dim_time": 48, "fct_coin_hourly": 96, "fct_post": 7, "bridge_post_coin": 8}


def table_rows(output: str) -> dict[str, list[str]]:
    """The body rows of the Rich tables printed in `output`: first cell → the other cells."""
    rows = {}
    for line in output.splitlines():
        cells = [c.strip() for c in line.strip().strip("│").split("│")]
        if line.startswith("│") and cells[0]:
            rows[cells[0]] = cells[1:]
    return rows


def checks_of(warehouse: str, run_id: str) -> tuple[int, int]:
    """(passed, total) quality checks the warehouse recorded for a run."""
    con = duckdb.connect(warehouse, read_only=True)
    try:
        return con.execute("SELECT count(*) FILTER (WHERE passed), count(*) FROM quality_results WHERE run_id = ?", [run_id]).fetchone()
    finally:
        con.close()


def test_run_prints_counts_checks_times_and_locations(tiny, cli):
    result = cli.invoke(app, ["run", "--lake", tiny.lake, "--warehouse", tiny.warehouse])
    assert result.exit_code == 0, result.output
    out, flat = result.output, " ".join(result.output.split())  # Rich wraps long lines
    run_id = re.match(r"run (\S+) over days \[2024-01-01, 2024-01-03\)", out)[1]
    assert "staged coin_hourly: 101 received = 96 staged + 2 duplicates + 3 quarantined (unknown_coin 3)" in flat
    assert "staged posts: 11 received = 7 staged + 1 duplicates + 3 quarantined (bad_timestamp 1, empty_text 1, missing_id 1)" in flat
    rows = table_rows(out)  # table | rows (interval) | seconds | published rows | files
    assert {t: (int(rows[t][0]), int(rows[t][2])) for t in TINY_ROWS} == {t: (n, n) for t, n in TINY_ROWS.items()}
    passed, total = checks_of(tiny.warehouse, run_id)
    assert passed == total > 50 and f"✓ {passed}/{total} quality checks passed" in flat
    times = re.search(r"time: stage (\d+\.\d\d) s build (\d+\.\d\d) s publish (\d+\.\d\d) s \(total (\d+\.\d\d) s\)", flat)
    *steps, total_s = map(float, times.groups())
    assert min(steps) > 0 and sum(steps) <= total_s + 0.02
    assert f"warehouse: {tiny.warehouse}" in out.replace("\n", "")
    assert f"published: {Path(tiny.lake) / 'published'}" in out.replace("\n", "")


def test_sql_prints_csv(tiny, cli):
    cli.invoke(app, ["run", "--lake", tiny.lake, "--warehouse", tiny.warehouse])
    result = cli.invoke(app, ["sql", "SELECT coin_id, count(*) AS n FROM bridge_post_coin GROUP BY 1 ORDER BY 1", "--csv",
                              "--lake", tiny.lake])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["coin_id,n", "bitcoin,3", "bitcoin-cash,2", "ethereum,2", "harmony,1"]


def test_status_lists_tables_runs_and_checks(tiny, cli):
    run_id = json.loads(cli.invoke(app, ["run", "--json", "--lake", tiny.lake, "--warehouse", tiny.warehouse]).output)["run_id"]
    result = cli.invoke(app, ["status", "--lake", tiny.lake])
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())
    assert f"published version 1 in {Path(tiny.lake) / 'published'}: run {run_id} at " in result.output.replace("\n", "")
    assert "last days [2024-01-01, 2024-01-03)" in flat
    rows = table_rows(result.output)
    assert {t: int(rows[t][0]) for t in TINY_ROWS} == TINY_ROWS
    (last_run,) = [cells for name, cells in rows.items() if run_id.startswith(name.rstrip("…"))]
    assert (last_run[1], last_run[3]) == ("ok", "1")  # status, published version
    passed, total = checks_of(tiny.warehouse, run_id)
    assert passed == total > 50 and f"last checks (run {run_id}): {passed}/{total} passed" in flat


def test_json_report(tiny, cli):
    result = cli.invoke(app, ["run", "--json", "--lake", tiny.lake, "--warehouse", tiny.warehouse])
    report = json.loads(result.output)
    assert report["status"] == "ok"
    assert report["models"]["fct_post"] == 7
    assert report["interval"] == ["2024-01-01", "2024-01-03"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "--lake", "{tmp}/none/lake"], "lake not found at {tmp}/none/lake"),
        (["run", "--start", "2024-02-30", "--end", "2024-03-01"], "--start '2024-02-30' is not a date"),
        (["run", "--start", "2024-03-01", "--end", "2024-03-01"], "empty interval"),
        (["run", "--start", "2024-03-01"], "give both --start and --end"),
        (["sql", "SELECT 1", "--lake", "{tmp}/none/lake"], "lake not found at {tmp}/none/lake"),
        (["generate", "--scale", "-1", "--lake", "/tmp/x"], "--scale must be positive"),
        (["run", "--batch-days", "0", "--start", "2024-03-01", "--end", "2024-03-02"], "--batch-days must be at least 1"),
    ],
)
def test_user_errors_exit_2_with_one_line(args, message, tmp_path):
    result = invoke(*(a.format(tmp=tmp_path) for a in args))
    assert result.returncode == 2, result.stderr
    assert message.format(tmp=tmp_path) in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_unreadable_config_file_is_named(tmp_path):
    bad = tmp_path / "cryptopulse.toml"
    bad.write_text("lake = [unclosed")
    result = invoke("run", "--config", str(bad))
    assert result.returncode == 2
    assert str(bad) in result.stderr and "not valid TOML" in result.stderr


def test_bad_sql_is_a_user_error(tiny, cli):
    cli.invoke(app, ["run", "--lake", tiny.lake, "--warehouse", tiny.warehouse])
    result = invoke("sql", "SELECT nope FROM fct_post", "--lake", tiny.lake)
    assert result.returncode == 2
    assert "query failed" in result.stderr


def test_corrupt_raw_file_is_quarantined_not_fatal(tiny, cli):
    path = Path(tiny.lake) / "raw/test/x/posts/date=2024-01-02/part-0001.jsonl.gz"
    path.write_bytes(b"\x1f\x8b this is not gzip")
    result = cli.invoke(app, ["run", "--json", "--lake", tiny.lake, "--warehouse", tiny.warehouse])
    assert result.exit_code == 0, result.output
    import duckdb

    con = duckdb.connect(tiny.warehouse, read_only=True)
    rows = con.execute("SELECT raw_file, reason FROM quarantine WHERE reason = 'unreadable_file'").fetchall()
    con.close()
    assert rows == [("raw/test/x/posts/date=2024-01-02/part-0001.jsonl.gz", "unreadable_file")]


def test_gate_failure_exits_1_through_the_real_entry_point(tiny):
    assert invoke("run", "--lake", tiny.lake, "--warehouse", tiny.warehouse).returncode == 0
    staged = Path(tiny.lake) / "staged/coin_hourly/date=2024-01-01/part-0.csv"
    staged.write_text(staged.read_text() + "bitcoin,2024-01-01 05:00:00,1,-1.0,1.0,1.0,test,x,2024-01-01\n")
    result = invoke("build", "--lake", tiny.lake, "--warehouse", tiny.warehouse)
    assert result.returncode == 1
    assert "quality gate failed" in result.stderr


def test_demo_generates_runs_and_scores_so_the_sentiment_marts_are_filled(tmp_path):
    lake, warehouse = tmp_path / "lake", tmp_path / "warehouse.duckdb"
    result = invoke("demo", "--scale", "0.01", "--lake", str(lake), "--warehouse", str(warehouse))
    assert result.returncode == 0, result.stderr
    assert "quality checks passed" in result.stdout and "scored" in result.stdout
    con = duckdb.connect(str(warehouse), read_only=True)
    posts, scored = con.execute("SELECT sum(posts), sum(scored_posts) FROM mart_coin_hourly").fetchone()
    unscored = con.execute("SELECT count(*) FROM fct_post LEFT JOIN fct_post_sentiment USING (source, post_id) "
                           "WHERE fct_post_sentiment.post_id IS NULL").fetchone()[0]
    con.close()
    assert posts == scored > 0 and unscored == 0
    assert any((lake / "published" / "mart_coin_hourly").rglob("*.parquet"))
    assert_demo_says_what_to_look_at_next(result.stdout, lake)


def assert_demo_says_what_to_look_at_next(stdout: str, lake: Path) -> None:
    """The demo ends with the published paths, the analysis' finding (as published), the dashboard and the API."""
    tail = stdout[stdout.index("What to look at next"):].splitlines()[1:]
    said = dict(line.split(None, 1) for line in tail if line.strip())
    assert said["published"] == f"{lake / 'published'} (manifest: {lake / 'published' / '_manifest.json'})"
    assert (lake / "published" / "_manifest.json").is_file()
    with open_snapshot(Lake(str(lake))) as snapshot:
        coins, leading = snapshot.con.execute(
            "SELECT count(DISTINCT coin_id), count(DISTINCT coin_id) FILTER (WHERE significant) FROM analysis_lead_lag").fetchone()
    assert coins == 5  # scale 0.01: five coins, each with 504 hours
    expected = f"{leading} of {coins} coins show a lead or lag" if leading else f"for any of {coins} coins"
    assert expected in said["finding"]
    assert "make dashboard" in said["dashboard"] and "cryptopulse dashboard" in said["dashboard"]
    assert "make serve" in said["API"] and "cryptopulse serve" in said["API"]
    assert not (lake / "analysis" / "charts").exists()  # the demo's analyze draws no charts (cryptopulse analyze does)


def test_run_in_batches_prints_one_line_per_batch_then_the_report(small, cli):
    result = cli.invoke(app, ["run", "--batch-days", "8", "--lake", small.lake, "--warehouse", small.warehouse])
    assert result.exit_code == 0, result.output
    assert result.output.count("✓ [2024-05-") == 3  # 21 days: 8 + 8 + 5
    assert "quality checks passed" in result.output
