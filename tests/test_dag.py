"""The Airflow DAG under real Airflow 3: it imports, it has the intended shape, and `dag.test()` runs produce the right days.

Offline runs land the session's small synthetic dataset; live runs call the fake APIs on 127.0.0.1.
"""

from __future__ import annotations

import collections
import datetime as dt
import gzip
import json
import math
import shutil
from pathlib import Path

import duckdb
import pytest

from conftest import DATA_TABLES, published_hashes, settings_for, table_hashes
from cryptopulse.analysis.enrich import enrich
from cryptopulse.config import ConfigError
from cryptopulse.interval import Interval
from cryptopulse.lake import Lake
from cryptopulse.lake.manifest import read_manifest
from cryptopulse.orchestration.options import read_run_options, read_schedule_options
from cryptopulse.pipeline import run as pipeline_run
from cryptopulse.sources.x import coin_query
from dagrun import asset_events, load_dag, logical_date_for, run_day
from fakeapi import SECRET, FakeAPI, Faults, chart_points, coingecko_routes, make_reddit_posts, make_tweets, reddit_routes, x_routes

DAY = dt.date(2024, 5, 20)  # inside the small synthetic dataset (2024-05-11 … 2024-05-31)
REF = "raw/synthetic"
INGEST = ("ingest.coingecko_catalog", "ingest.x_posts", "ingest.reddit_posts")
PIPELINE = ("stage", "score_posts", "build_and_audit", "publish")


@pytest.fixture(scope="module")
def dag(airflow_home):
    return load_dag()


# -- shape ---------------------------------------------------------------------------------------------
def test_the_dag_imports_without_errors_and_is_scheduled_daily_at_7_over_the_previous_day(dag):
    from airflow.sdk import CronDataIntervalTimetable
    from airflow.serialization.encoders import coerce_to_core_timetable

    from cryptopulse.orchestration.tasks import day_interval

    assert isinstance(dag.timetable, CronDataIntervalTimetable)
    interval = coerce_to_core_timetable(dag.timetable).infer_manual_data_interval(run_after=logical_date_for(DAY))
    assert (interval.start, interval.end) == (
        dt.datetime(2024, 5, 20, 7, tzinfo=dt.UTC), dt.datetime(2024, 5, 21, 7, tzinfo=dt.UTC))
    assert day_interval(interval.start, interval.end) == Interval(DAY, DAY + dt.timedelta(days=1))
    assert dag.max_active_runs == 1 and dag.catchup is False
    assert {"cryptopulse", "daily"} <= set(dag.tags)
    assert "07:00 UTC" in dag.doc_md


def test_the_tasks_mirror_the_pipeline_and_depend_on_each_other_in_order(dag):
    upstream = {t.task_id: set(t.upstream_task_ids) for t in dag.tasks}
    assert upstream == {
        "ingest.coingecko_catalog": set(),
        "ingest.coingecko_history": {"ingest.coingecko_catalog"},
        "ingest.x_posts": {"ingest.coingecko_catalog"},
        "ingest.reddit_posts": set(),
        "sources_failed": {"ingest.coingecko_history", "ingest.x_posts", "ingest.reddit_posts"},
        "stage": {"ingest.coingecko_history", "ingest.x_posts", "ingest.reddit_posts"},
        "score_posts": {"stage"},
        "build_and_audit": {"score_posts"},
        "publish": {"build_and_audit"},
    }
    rules = {t.task_id: str(t.trigger_rule.value) for t in dag.tasks}
    assert rules["stage"] == "all_done" and rules["ingest.x_posts"] == "all_done" and rules["sources_failed"] == "one_failed"
    assert rules["score_posts"] == rules["build_and_audit"] == rules["publish"] == "all_success"
    history = dag.task_dict["ingest.coingecko_history"]
    assert history.is_mapped and history.op_kwargs_expand_input.value.keys() == {"coin_id"}


def test_every_task_retries_with_exponential_backoff_and_publish_emits_one_asset_per_table(dag):
    for task in dag.tasks:
        if task.task_id != "sources_failed":
            assert task.retries >= 2 and task.retry_exponential_backoff == 2.0, task.task_id
    outlets = {a.uri for a in dag.task_dict["publish"].outlets}
    assert {"cryptopulse://published/fct_post", "cryptopulse://published/fct_coin_hourly", "cryptopulse://published/dim_coin"} <= outlets


def test_schedule_options_default_to_no_catchup_and_come_from_the_environment(monkeypatch):
    for name in ("CATCHUP", "RETRIES", "RETRY_DELAY_S", "END_DATE"):
        monkeypatch.delenv(f"CRYPTOPULSE_AIRFLOW_{name}", raising=False)
    assert read_schedule_options().catchup is False and read_schedule_options().retry_delay_s == 300
    monkeypatch.setenv("CRYPTOPULSE_AIRFLOW_CATCHUP", "true")
    monkeypatch.setenv("CRYPTOPULSE_AIRFLOW_END_DATE", "2024-05-31")
    schedule = read_schedule_options()
    assert schedule.catchup is True and schedule.dag_end == dt.datetime(2024, 5, 31, 7, tzinfo=dt.UTC)


def test_a_bad_option_is_one_line_naming_the_variable_and_the_airflow_variable():
    with pytest.raises(ConfigError, match=r"^option top = 'many' \(from CRYPTOPULSE_TOP or Variable cryptopulse_top\): .*integer"):
        read_run_options({"top": "many"}.get)
    with pytest.raises(ConfigError, match="CRYPTOPULSE_AIRFLOW_RETRIES"), pytest.MonkeyPatch.context() as mp:
        mp.setenv("CRYPTOPULSE_AIRFLOW_RETRIES", "1")  # at least 2
        read_schedule_options()


# -- offline runs ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def offline(dag, small_raw, tmp_path_factory):
    """DAY, DAY again, then the next two days, offline; after each run: the run, table and published hashes, a warehouse copy."""
    root = tmp_path_factory.mktemp("offline")
    settings = settings_for(root)
    snapshots = {}
    with pytest.MonkeyPatch.context() as mp:
        run_offline(mp, small_raw, settings)
        for label, day in (("first", DAY), ("rerun", DAY), ("day2", DAY + dt.timedelta(1)), ("day3", DAY + dt.timedelta(2))):
            run = run_day(dag, day)
            copy = shutil.copy(settings.warehouse, root / f"warehouse-{label}.duckdb")
            snapshots[label] = (run, table_hashes(settings.warehouse), published_hashes(settings.lake), copy)
    return settings, small_raw, snapshots


def run_offline(mp: pytest.MonkeyPatch, reference: Path, settings) -> None:
    """DAG runs from now on land `reference` offline into the lake and warehouse of `settings`."""
    for name, value in {"REFERENCE": str(reference), "LAKE": settings.lake, "WAREHOUSE": settings.warehouse}.items():
        mp.setenv(f"CRYPTOPULSE_{name}", value)
    mp.delenv("CRYPTOPULSE_OFFLINE", raising=False)
    mp.setenv("AIRFLOW_VAR_CRYPTOPULSE_OFFLINE", "true")  # the Airflow Variable (defined here as AIRFLOW_VAR_*) switches


def test_an_offline_run_succeeds_with_every_task_and_skips_reddit(offline):
    _, _, snapshots = offline
    run = snapshots["first"][0]
    assert run.state == "success"
    assert {t: run.state_of(t) for t in PIPELINE} == dict.fromkeys(PIPELINE, "success")
    assert run.state_of("ingest.reddit_posts") == "skipped" and run.state_of("sources_failed") == "skipped"
    assert sum(k.startswith("ingest.coingecko_history[") for k in run.tasks) == 5  # one mapped task per coin


def test_publish_emits_an_asset_event_per_table_with_the_rows_of_the_day(offline):
    _, reference, snapshots = offline
    events = asset_events("cryptopulse://published/fct_post", snapshots["first"][0].run_id)
    assert [(e["rows"], e["interval"]) for e in events] == [(len(expected_posts(reference, DAY)), [str(DAY), str(DAY + dt.timedelta(1))])]
    assert events[0]["location"].endswith("published/fct_post")


def test_an_offline_run_loads_exactly_its_day(offline):
    _, reference, snapshots = offline
    con = duckdb.connect(str(snapshots["first"][3]), read_only=True)
    hours = con.execute("SELECT min(ts_hour), max(ts_hour), count(*) FROM dim_time").fetchone()
    assert hours == (dt.datetime(2024, 5, 20), dt.datetime(2024, 5, 20, 23), 24)
    posts = {r[0] for r in con.execute("SELECT post_id FROM fct_post").fetchall()}
    assert posts == expected_posts(reference, DAY)
    prices = dict(((c, t), p) for c, t, p in con.execute("SELECT coin_id, ts_hour, price_usd FROM fct_coin_hourly").fetchall())
    assert prices == pytest.approx(expected_prices(reference, DAY), rel=1e-12)
    for table in ("fct_coin_hourly", "fct_post", "bridge_post_coin", "fct_post_sentiment", "mart_coin_hourly"):
        assert con.execute(f"SELECT DISTINCT date FROM {table}").fetchall() == [(DAY,)], table
    # score_posts scored every post of the day before the build, and the hourly mart counts them
    assert {r[0] for r in con.execute("SELECT post_id FROM fct_post_sentiment").fetchall()} == posts
    posts_counted, scored = con.execute("SELECT sum(posts), sum(scored_posts) FROM mart_coin_hourly").fetchone()
    assert posts_counted == scored > 0


def test_rerunning_a_day_leaves_tables_and_published_files_identical(offline):
    _, _, snapshots = offline
    _, tables, published, _ = snapshots["first"]
    assert snapshots["rerun"][0].state == "success"
    assert snapshots["rerun"][1] == tables and snapshots["rerun"][2] == published


def test_three_consecutive_days_equal_one_cryptopulse_run_over_them(offline, tmp_path):
    settings, _, snapshots = offline
    assert [snapshots[k][0].state for k in ("day2", "day3")] == ["success", "success"]
    con = duckdb.connect(settings.warehouse, read_only=True)
    days = [r[0] for r in con.execute("SELECT DISTINCT date FROM fct_post ORDER BY 1").fetchall()]
    con.close()
    assert days == [DAY, DAY + dt.timedelta(1), DAY + dt.timedelta(2)]
    once = settings_for(tmp_path)
    shutil.copytree(Path(settings.lake) / "raw", Path(once.lake) / "raw")
    pipeline_run(once, Interval(DAY, DAY + dt.timedelta(3)))
    enrich(once, Interval(DAY, DAY + dt.timedelta(3)))  # the three days scored and flagged together, as one chunk
    assert table_hashes(once.warehouse) == snapshots["day3"][1]
    assert published_hashes(once.lake) == snapshots["day3"][2]


def test_days_run_in_reverse_order_equal_them_run_in_order(dag, offline, tmp_path, monkeypatch):
    """A day built after the days that follow it rebuilds their sentiment marts too (its scores are in their baselines)."""
    _, reference, snapshots = offline
    here = settings_for(tmp_path)
    run_offline(monkeypatch, reference, here)
    assert [run_day(dag, DAY + dt.timedelta(n)).state for n in (2, 1, 0)] == ["success"] * 3
    assert table_hashes(here.warehouse) == snapshots["day3"][1]
    assert published_hashes(here.lake) == snapshots["day3"][2]


def test_a_failed_gate_leaves_the_warehouse_and_the_published_version_as_they_were(dag, offline, tmp_path, monkeypatch):
    """A source delivers a negative like count for a day already built: staging and scoring take it, the gate fails
    in build_and_audit, and the rerun of that day leaves no trace but the failure in quality_results."""
    settings, reference, _ = offline
    bad_day = DAY + dt.timedelta(1)
    here = settings_for(tmp_path)
    shutil.copytree(settings.lake, here.lake)
    shutil.copy(settings.warehouse, here.warehouse)
    shutil.copytree(reference, tmp_path / "reference")
    post_id = give_negative_likes(tmp_path / "reference", bad_day)
    tables, published, manifest = warehouse_hashes(here.warehouse), published_hashes(here.lake), read_manifest(Lake(here.lake))
    run_offline(monkeypatch, tmp_path / "reference", here)

    run = run_day(dag, bad_day)
    assert run.state == "failed"
    assert {t: run.state_of(t) for t in PIPELINE} == {
        "stage": "success", "score_posts": "success", "build_and_audit": "failed", "publish": "upstream_failed"}
    assert run.tasks["build_and_audit"][1] == 1  # failed at once: a retry would fail the same way
    assert warehouse_hashes(here.warehouse) == tables
    assert published_hashes(here.lake) == published and read_manifest(Lake(here.lake)) == manifest
    con = duckdb.connect(here.warehouse, read_only=True)
    failed = con.execute("SELECT model, check_name, failing_rows, interval_start, example FROM quality_results WHERE NOT passed").fetchall()
    con.close()
    assert [row[:4] for row in failed] == [("fct_post", "range(like_count in [0, inf])", 1, bad_day)]
    assert f"post_id='{post_id}'" in failed[0][4]


def warehouse_hashes(warehouse: str) -> dict[str, tuple[int, str]]:
    """`table_hashes` of every table in the warehouse but the two logs, quality_results and pipeline_runs."""
    con = duckdb.connect(warehouse, read_only=True)
    names = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    con.close()
    assert set(DATA_TABLES) <= names
    return table_hashes(warehouse, tuple(sorted(names - {"quality_results", "pipeline_runs"})))


def give_negative_likes(reference: Path, day: dt.date) -> str:
    """Set like_count = -1 on one post of the day in the reference's X pages; return its id. The post occurs once, and
    has other engagement (the marts' weight ln(1 + likes + reposts + …) of a lone -1 would stop the build before the gates)."""
    files = sorted((reference / REF / "x" / "posts" / f"date={day}").glob("*.jsonl.gz"))
    pages = {path: [json.loads(line) for line in gzip.decompress(path.read_bytes()).splitlines()] for path in files}
    tweets = [(path, t) for path, lines in pages.items() for page in lines for t in page.get("data") or []]
    occurs = collections.Counter(str(t.get("id")) for _, t in tweets)
    path, tweet = next((p, t) for p, t in tweets if str(t.get("id")) in expected_posts(reference, day) and occurs[str(t["id"])] == 1
                       and sum(v for k, v in t["public_metrics"].items() if k != "like_count") > 0)
    tweet["public_metrics"]["like_count"] = -1
    path.write_bytes(gzip.compress(b"".join(json.dumps(page).encode() + b"\n" for page in pages[path])))
    return str(tweet["id"])


# -- what the raw files say, read without the pipeline ---------------------------------------------------------
def expected_posts(reference: Path, day: dt.date) -> set[str]:
    """Ids of the day's posts that have an id, a timestamp on that day and some text."""
    ids = set()
    for path in sorted((reference / REF / "x" / "posts" / f"date={day}").glob("*.jsonl.gz")):
        for line in gzip.decompress(path.read_bytes()).splitlines():
            for tweet in json.loads(line).get("data") or []:
                created = _parse(tweet.get("created_at"))
                if tweet.get("id") and created and created.date() == day and str(tweet.get("text") or "").strip():
                    ids.add(str(tweet["id"]))
    return ids


def expected_prices(reference: Path, day: dt.date) -> dict[tuple[str, dt.datetime], float]:
    """(coin, hour) → price of the hour's last valid point, for the tracked coins."""
    tracked = [row["id"] for row in json.loads((reference / REF / "coingecko" / "coins_markets.json").read_text())]
    prices = {}
    for coin in tracked:
        path = reference / REF / "coingecko" / "market_chart" / f"month={day:%Y-%m}" / f"{coin}.json.gz"
        chart = json.loads(gzip.decompress(path.read_bytes()))
        points = zip(chart["prices"], chart["market_caps"], chart["total_volumes"])
        valid = [(p[0], i, p[1]) for i, (p, m, v) in enumerate(points) if _valid(p, m, v)]
        for ts, _, price in sorted(valid):
            moment = dt.datetime.fromtimestamp(ts / 1000, dt.UTC).replace(tzinfo=None)
            if moment.date() == day:
                prices[(coin, moment.replace(minute=0, second=0, microsecond=0))] = price
    return prices


def _valid(*point: list) -> bool:
    stamps = {p[0] for p in point}
    values = [p[1] for p in point]
    return (len(stamps) == 1 and isinstance(point[0][0], int)
            and all(isinstance(v, int | float) and math.isfinite(v) and v >= 0 for v in values))


def _parse(text: object) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(str(text).replace("Z", "+00:00")).astimezone(dt.UTC)
    except ValueError:
        return None


# -- live runs against the fake APIs ------------------------------------------------------------------------
COINS = ["bitcoin", "ethereum"]
QUERIES = {coin_query("btc", "Bitcoin"), coin_query("eth", "Ethereum")}
CHART = r"/api/v3/coins/bitcoin/market_chart/range"


@pytest.fixture
def live_day() -> dt.date:
    """Two days ago: inside X's 7-day recent search and CoinGecko's 365-day free history."""
    return dt.datetime.now(dt.UTC).date() - dt.timedelta(days=2)


@pytest.fixture
def live(dag, tmp_path, monkeypatch, live_day):
    """A lake and warehouse for live runs, and one fake server for CoinGecko, X and Reddit."""
    api = FakeAPI()
    begin = dt.datetime.combine(live_day - dt.timedelta(days=1), dt.time(), dt.UTC)
    until = begin + dt.timedelta(days=3)
    coingecko_routes(api, COINS, key=SECRET)
    x_routes(api, {q: make_tweets(q, begin, until, every_minutes=30, salt=i) for i, q in enumerate(sorted(QUERIES))}, token=SECRET)
    reddit_routes(api, {"CryptoCurrency": make_reddit_posts("CryptoCurrency", begin, until, every_minutes=20)}, "reddit-id", SECRET)
    settings = settings_for(tmp_path)
    env = {
        "CRYPTOPULSE_LAKE": settings.lake, "CRYPTOPULSE_WAREHOUSE": settings.warehouse, "CRYPTOPULSE_OFFLINE": "0",
        "CRYPTOPULSE_COINS": ",".join(COINS), "CRYPTOPULSE_TOP": "0", "CRYPTOPULSE_SUBREDDITS": "CryptoCurrency",
        "CRYPTOPULSE_HTTP_ATTEMPTS": "2", "CRYPTOPULSE_CALLS_PER_MINUTE": "60000",
        "CRYPTOPULSE_COINGECKO_BASE_URL": api.url + "/api/v3", "CRYPTOPULSE_X_BASE_URL": api.url,
        "CRYPTOPULSE_REDDIT_BASE_URL": api.url, "CRYPTOPULSE_REDDIT_AUTH_URL": api.url + "/api/v1/access_token",
        # keys from Airflow connections (here defined as AIRFLOW_CONN_* variables), not from the sources' variables
        "AIRFLOW_CONN_CRYPTOPULSE_COINGECKO": json.dumps({"conn_type": "generic", "password": SECRET}),
        "AIRFLOW_CONN_CRYPTOPULSE_X": json.dumps({"conn_type": "generic", "password": SECRET}),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for name in ("COINGECKO_DEMO_API_KEY", "COINGECKO_PRO_API_KEY", "X_BEARER_TOKEN", "REDDIT_CLIENT_ID", "REDDIT_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    yield settings, api
    api.close()


def test_a_source_failing_with_503s_succeeds_on_retry_and_one_without_credentials_is_skipped(dag, live, live_day):
    settings, api = live
    api.inject(CHART, Faults.status(503, retry_after="0"), Faults.status(503, retry_after="0"))  # both attempts of try 1
    run = run_day(dag, live_day)
    assert run.state == "success"
    bitcoin = next(k for k in run.tasks if k.startswith("ingest.coingecko_history[") and run.tasks[k] == ("success", 2))
    assert bitcoin and sum(p == CHART for p in api.paths()) >= 3
    assert run.state_of("ingest.reddit_posts") == "skipped" and run.state_of("publish") == "success"
    con = duckdb.connect(settings.warehouse, read_only=True)
    hours = set(con.execute("SELECT coin_id, ts_hour FROM fct_coin_hourly").fetchall())
    sources = con.execute("SELECT DISTINCT source, date FROM fct_post").fetchall()
    con.close()
    assert hours == expected_fake_hours(live_day) and sources == [("x", live_day)]
    lake_text = b"".join(p.read_bytes() for p in Path(settings.lake).rglob("*") if p.is_file() and p.suffix == ".json")
    assert SECRET.encode() not in lake_text


def test_a_failing_source_does_not_stop_the_others_data_but_fails_the_run(dag, live, live_day, monkeypatch):
    settings, _ = live
    monkeypatch.setenv("AIRFLOW_CONN_CRYPTOPULSE_X", json.dumps({"conn_type": "generic", "password": "a-revoked-token"}))
    monkeypatch.setenv("REDDIT_CLIENT_ID", "reddit-id")
    monkeypatch.setenv("REDDIT_CLIENT_SECRET", SECRET)
    monkeypatch.setenv("CRYPTOPULSE_REDDIT_USER_AGENT", "cryptopulse-tests/1.0")
    run = run_day(dag, live_day)
    assert run.state_of("ingest.x_posts") == "failed" and run.tasks["ingest.x_posts"][1] == 3  # tried, then retried twice
    assert run.state_of("ingest.reddit_posts") == "success" and run.state_of("publish") == "success"
    assert run.state_of("sources_failed") == "failed" and run.state == "failed"
    con = duckdb.connect(settings.warehouse, read_only=True)
    assert con.execute("SELECT DISTINCT source FROM fct_post").fetchall() == [("reddit",)]


def expected_fake_hours(day: dt.date) -> set[tuple[str, dt.datetime]]:
    lo = int(dt.datetime.combine(day, dt.time(), dt.UTC).timestamp())
    return {(coin, dt.datetime.fromtimestamp(ms // 3_600_000 * 3600, dt.UTC).replace(tzinfo=None))
            for coin in COINS for ms in chart_points(coin, lo, lo + 86_399)}
