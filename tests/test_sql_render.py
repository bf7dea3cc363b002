"""`cryptopulse sql-render`: the script per dialect matches its golden file, Redshift's parses, and the model
changes made for portability leave DuckDB's results as they were.

After an intended change to a model or to the script, refresh the golden files with
`CRYPTOPULSE_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_sql_render.py` (each rewritten file fails its
test and names itself; unchanged ones pass), review the diff, and rerun without the variable.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import duckdb
import pytest
import sqlglot
from sqlglot import exp

from cryptopulse.cli import app
from cryptopulse.interval import Interval
from cryptopulse.lake import Lake
from cryptopulse.models.registry import load_models, render
from cryptopulse.pipeline import run, stage_step
from cryptopulse.sql_render import DIALECTS, EXAMPLE_IAM_ROLE, render_script

GOLDEN = Path(__file__).parent / "golden"
INTERVAL = Interval.parse("2024-01-01", "2024-01-03")
LAKE = "s3://example-bucket/cryptopulse"


def rendered(dialect: str) -> str:
    return render_script(dialect, INTERVAL, LAKE)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_rendered_sql_matches_its_golden_file(dialect):
    golden, script = GOLDEN / f"{dialect}.sql", rendered(dialect)
    before = golden.read_text() if golden.exists() else None
    if os.environ.get("CRYPTOPULSE_UPDATE_GOLDEN") and script != before:
        golden.write_text(script)
        pytest.fail(f"{golden} rewritten: review `git diff {golden}`, then rerun without CRYPTOPULSE_UPDATE_GOLDEN", pytrace=False)
    assert script == before, f"{golden} differs from the rendered script (refresh: see the module docstring)"


PSQL_COPY = re.compile(r"^\\copy (\S+) \(.*\) FROM PROGRAM '(.*)' WITH \(FORMAT csv\);$", re.M)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_statement_parses_in_its_dialect(dialect):
    script = rendered(dialect)
    statements = sqlglot.parse(PSQL_COPY.sub("", script), read=dialect)  # psql's \copy is a client command, not SQL
    unparsed = [s.sql(dialect, comments=False) for s in statements if isinstance(s, exp.Command)]
    assert unparsed in ([], ["SET search_path TO published, internal, staging"])  # sqlglot keeps SET search_path as text
    tables = {t.name for s in statements for t in s.find_all(exp.Table)}
    assert {m.name for m in load_models()} <= tables


def test_postgres_streams_each_staged_file_through_psqls_copy_from_the_converter():
    copies = PSQL_COPY.findall(rendered("postgres"))
    programs = {program for _, program in copies}
    posts = f"python3 -m cryptopulse.engines.pgcopy stg_posts {LAKE} staged/posts/date=2024-01-02/part-0.parquet"
    scores = f"python3 -m cryptopulse.engines.pgcopy enriched_post_sentiment {LAKE} enriched/post_sentiment/date=2024-01-02/part-0.parquet"
    assert ("staging.stg_posts", posts) in copies and ("staging.enriched_post_sentiment", scores) in copies
    # coins; 3 datasets × 2 days; the side files (quarantine, stats) of the 2 staged datasets × 2 days
    assert len(programs) == len(copies) == 1 + 3 * 2 + 2 * 2 * 2


def test_redshift_loads_the_staged_zone_from_s3_with_copy():
    statements = sqlglot.parse(rendered("redshift"), read="redshift")
    copies = [s for s in statements if isinstance(s, exp.Copy)]
    sources = {c.args["files"][0].name for c in copies}
    assert f"{LAKE}/staged/posts/date=2024-01-02/part-0.parquet" in sources
    assert f"{LAKE}/staged/coin_hourly/date=2024-01-01/part-0.csv" in sources
    text = rendered("redshift")
    assert f"IAM_ROLE '{EXAMPLE_IAM_ROLE}' FORMAT AS PARQUET" in text
    assert "FORMAT AS CSV IGNOREHEADER 1" in text
    assert "LISTAGG(alias, ' ') WITHIN GROUP (ORDER BY alias)" in text  # string_agg … ORDER BY, translated
    assert " WINDOW " not in text  # named windows inlined: Redshift has no WINDOW clause
    assert text.count("NOT RUNNABLE ON REDSHIFT") == 4  # dim_time and bridge_post_coin, create and insert


def test_cli_prints_the_script_of_the_staged_files_and_refuses_bad_options(cli, tiny):
    stage_step(tiny, None)
    lake = Lake(tiny.lake)
    args = ["sql-render", "--start", "2024-01-01", "--end", "2024-01-03"]
    result = cli.invoke(app, [*args, "--dialect", "postgres", "--lake", tiny.lake])
    assert result.exit_code == 0, result.output
    assert result.output == render_script("postgres", INTERVAL, lake.uri(), lake=lake)
    assert result.output.count("\\copy staging.stg_posts ") == len(lake.glob("staged/posts/date=*/part-0.parquet")) == 2
    assert "enriched/post_sentiment/date=" not in result.output  # only the files a run reads: nothing is enriched yet

    result = cli.invoke(app, [*args, "--dialect", "redshift", "--lake", tiny.lake])
    assert result.exit_code == 2
    assert "s3://" in result.output

    result = cli.invoke(app, [*args, "--dialect", "oracle", "--lake", LAKE])
    assert result.exit_code == 2
    assert "unknown dialect" in result.output


FRAME = "\n            rows between unbounded preceding and unbounded following"
COUNT_CASE = re.compile(r"count\(case when (.*?) then 1 end\)")
# Portable rewrites of models (new form → the form they replaced): the explicit frame that Redshift needs for
# first_value, and count(…) for sum(case … 1 else 0), which DuckDB typed HUGEINT and published as DOUBLE.
REWRITES = {
    "agg_coin_monthly": lambda sql: sql.replace(FRAME, ""),
    "mart_coin_daily": lambda sql: COUNT_CASE.sub(r"sum(case when \1 then 1 else 0 end)", sql),
    "mart_coin_hourly": lambda sql: COUNT_CASE.sub(r"sum(case when \1 then 1 else 0 end)", sql),
}


def test_portable_rewrites_leave_duckdbs_results_unchanged(tiny):
    run(tiny)
    models = {m.name: m for m in load_models()}
    con = duckdb.connect(tiny.warehouse, read_only=True)
    try:
        for name, previous_form in REWRITES.items():
            model = models[name]
            assert previous_form(model.sql) != model.sql, name  # the rewrite is still there
            scope = model.model_interval(Interval.parse("2024-01-01", "2024-01-03"))
            now = con.execute(f"SELECT * FROM ({render(model.sql, 'duckdb', scope)}) ORDER BY ALL").fetchall()
            before = con.execute(f"SELECT * FROM ({render(previous_form(model.sql), 'duckdb', scope)}) ORDER BY ALL").fetchall()
            assert now == before, name
            assert len(now) > 0, name
    finally:
        con.close()
