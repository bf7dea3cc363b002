"""The command line: summaries, exit codes (0 ok, 1 gate failed, 2 user error) and one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from cryptopulse.cli import app

CRYPTOPULSE = str(Path(sys.executable).with_name("cryptopulse"))


def invoke(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRYPTOPULSE_")}
    return subprocess.run([CRYPTOPULSE, *args], capture_output=True, text=True, env=env, timeout=300)


def test_run_prints_counts_checks_times_and_locations(tiny, cli):
    result = cli.invoke(app, ["run", "--lake", tiny.lake, "--warehouse", tiny.warehouse])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "fct_post" in out and "bridge_post_coin" in out
    assert "quality checks passed" in out
    assert "stage" in out and "publish" in out and " s" in out
    assert tiny.warehouse in out.replace("\n", "")


def test_sql_prints_csv(tiny, cli):
    cli.invoke(app, ["run", "--lake", tiny.lake, "--warehouse", tiny.warehouse])
    result = cli.invoke(app, ["sql", "SELECT coin_id, count(*) AS n FROM bridge_post_coin GROUP BY 1 ORDER BY 1", "--csv",
                              "--warehouse", tiny.warehouse])
    assert result.exit_code == 0
    assert result.output.splitlines() == ["coin_id,n", "bitcoin,3", "bitcoin-cash,2", "ethereum,2", "harmony,1"]


def test_status_lists_tables_runs_and_checks(tiny, cli):
    cli.invoke(app, ["run", "--lake", tiny.lake, "--warehouse", tiny.warehouse])
    result = cli.invoke(app, ["status", "--lake", tiny.lake, "--warehouse", tiny.warehouse])
    assert result.exit_code == 0
    assert "fct_coin_hourly" in result.output and "96" in result.output
    assert "ok" in result.output and "passed" in result.output


def test_json_report(tiny, cli):
    import json

    result = cli.invoke(app, ["run", "--json", "--lake", tiny.lake, "--warehouse", tiny.warehouse])
    report = json.loads(result.output)
    assert report["status"] == "ok"
    assert report["models"]["fct_post"] == 7
    assert report["interval"] == ["2024-01-01", "2024-01-03"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "--lake", "/nonexistent/lake"], "lake not found at /nonexistent/lake"),
        (["run", "--start", "2024-02-30", "--end", "2024-03-01"], "--start '2024-02-30' is not a date"),
        (["run", "--start", "2024-03-01", "--end", "2024-03-01"], "empty interval"),
        (["run", "--start", "2024-03-01"], "give both --start and --end"),
        (["sql", "SELECT 1", "--warehouse", "/nonexistent/w.duckdb"], "warehouse not found"),
        (["generate", "--scale", "-1", "--lake", "/tmp/x"], "--scale must be positive"),
        (["run", "--batch-days", "0", "--start", "2024-03-01", "--end", "2024-03-02"], "--batch-days must be at least 1"),
    ],
)
def test_user_errors_exit_2_with_one_line(args, message, tmp_path):
    result = invoke(*args)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
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
    result = invoke("sql", "SELECT nope FROM fct_post", "--warehouse", tiny.warehouse)
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


def test_run_in_batches_prints_one_line_per_batch_then_the_report(small, cli):
    result = cli.invoke(app, ["run", "--batch-days", "8", "--lake", small.lake, "--warehouse", small.warehouse])
    assert result.exit_code == 0, result.output
    assert result.output.count("✓ [2024-05-") == 3  # 21 days: 8 + 8 + 5
    assert "quality checks passed" in result.output
