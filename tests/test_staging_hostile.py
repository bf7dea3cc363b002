"""Hostile raw input (issue 13): a record that does not fit is quarantined with its reason, the rest is staged, and
no run aborts; every record received is staged, a duplicate or quarantined, and implausible timestamps place nothing."""

from __future__ import annotations

import dataclasses
import datetime as dt
import gzip
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from conftest import settings_for, table_hashes
from cryptopulse.interval import Interval
from cryptopulse.lake import Lake
from cryptopulse.pipeline import GateFailed, run, stage_step
from cryptopulse.staging import stage
from cryptopulse.staging.common import UNDATED_FILE
from cryptopulse.staging.loading import Window
from cryptopulse.staging.posts import POSTS
from cryptopulse.staging.run import raw_extent
from rawfiles import T0, chart, reddit_child, tweet

DAY1, DAY2 = "2024-01-01", "2024-01-02"


def put(lake: Lake, relpath: str, lines: list[object]) -> None:
    """A gzip JSON Lines file of `lines` (strings are written as they are, anything else as JSON)."""
    text = "\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines)
    lake.write_bytes(relpath, gzip.compress(text.encode(), mtime=0))


def x_file(day: str, name: str = "hostile") -> str:
    return f"raw/test/x/posts/date={day}/{name}.jsonl.gz"


def held(settings, raw_file: str, dataset: str = "posts") -> list[tuple[str, str, str]]:
    """(day, reason, record) of every record of `raw_file` quarantined in the staged zone, sorted."""
    files = sorted(str(p) for p in Path(settings.lake).glob(f"staged/{dataset}/date=*/_quarantine.parquet"))
    return duckdb.execute(
        f"SELECT date::VARCHAR, reason, record FROM read_parquet({files}) WHERE raw_file = ? ORDER BY ALL", [raw_file]
    ).fetchall()


def staged_posts(settings) -> dict[str, tuple]:
    """post_id → (day, like_count, score, created_at) of every staged post."""
    rows = duckdb.sql(
        f"SELECT post_id, date::VARCHAR, like_count, score, created_at::VARCHAR "
        f"FROM read_parquet('{settings.lake}/staged/posts/date=*/part-0.parquet')"
    ).fetchall()
    return {r[0]: r[1:] for r in rows}


def result(results, dataset: str):
    return next(r for r in results if r.dataset == dataset)


def assert_accounted(results, settings) -> None:
    """Per run and per staged day: received = staged + duplicates + quarantined."""
    for r in results:
        assert r.received == r.staged + r.duplicates + r.quarantined, r
    for path in Path(settings.lake).glob("staged/*/date=*/_stats.json"):
        s = json.loads(path.read_text())
        assert s["received"] == s["staged"] + s["duplicates"] + s["quarantined"], (path, s)


def test_a_field_of_the_wrong_type_quarantines_its_post_and_the_rest_of_the_page_is_staged(tiny):
    lake = Lake(tiny.lake)
    odd = {  # post id → the fields it gets, and the reason expected (None: it fits)
        "21": ({"public_metrics": {"like_count": "lots"}}, "bad_type:public_metrics.like_count"),
        "22": ({"public_metrics": {"like_count": 1e30}}, "bad_type:public_metrics.like_count"),
        "23": ({"text": {"a": 1}}, "bad_type:text"),
        "24": ({"public_metrics": "many"}, "bad_type:public_metrics"),
        "25": ({"author_id": True}, "bad_type:author_id"),
        "26": ({"public_metrics": {"like_count": "12"}}, None),  # a count written as a numeric string fits
        "27": ({"public_metrics": {"like_count": 12.0}}, None),
        "28": ({"text": "[thread] $btc", "lang": 7}, None),  # text that looks like a list; a number as text
    }
    tweets = [tweet("20", "fine $btc", f"{DAY1}T05:00:00.000Z")]
    tweets += [{**tweet(i, f"post {i} $btc", f"{DAY1}T06:00:00.000Z"), **fields} for i, (fields, _) in odd.items()]
    put(lake, x_file(DAY1), [{"data": tweets}])
    results, covered = stage(lake, None)
    assert sorted((json.loads(rec)["id"], reason) for _, reason, rec in held(tiny, x_file(DAY1))) == sorted(
        (i, reason) for i, (_, reason) in odd.items() if reason
    )
    posts = staged_posts(tiny)
    assert [posts[i][:2] for i in ("20", "26", "27", "28")] == [(DAY1, 2), (DAY1, 12), (DAY1, 12), (DAY1, 2)]
    assert covered == Interval.parse(DAY1, "2024-01-03")
    assert_accounted(results, tiny)


def test_lines_that_are_no_page_are_each_one_quarantined_record(tiny):
    lake = Lake(tiny.lake)
    good = tweet("30", "good $eth", f"{DAY1}T07:00:00.000Z")
    put(lake, x_file(DAY1), ["[1,2]", {"data": "notalist"}, "3", '"str"', '{"data": [{"id": ', "", {"data": [good, 1, "x", None]},
                             {"meta": {"result_count": 0}}, {"data": None}])
    results, _ = stage(lake, None)
    assert sorted(r for _, r, _ in held(tiny, x_file(DAY1))) == ["bad_json", "bad_type:data"] + ["not_an_object"] * 6
    assert "30" in staged_posts(tiny)
    assert result(results, "posts").received == 11 + 1 + 8  # the tiny lake's 11, the good post, 8 rejected lines and elements
    assert_accounted(results, tiny)


def test_reddit_fields_given_as_strings(tiny):
    lake = Lake(tiny.lake)
    ts = 1704110400.0  # 2024-01-01 12:00 UTC
    children = [reddit_child("t3_ok", "fine", "", ts), reddit_child("t3_t", "time", "", "abc"),
                reddit_child("t3_s", "score", "", ts, score="many"), reddit_child("t3_n", "numeric", "", str(ts + 60)),
                reddit_child("t3_z", "epoch", "", 0), reddit_child("t3_big", "far", "", 1e300), 5]
    put(lake, f"raw/reddit/reddit/posts/date={DAY1}/p.jsonl.gz",
        [{"kind": "Listing", "data": {"children": children}}, {"kind": "Listing", "data": {"children": "x"}},
         {"kind": "Listing", "data": "x"}])
    results, _ = stage(lake, None)
    reddit = sorted(r for _, r, _ in held(tiny, f"raw/reddit/reddit/posts/date={DAY1}/p.jsonl.gz"))
    assert reddit == sorted(["bad_type:data.created_utc", "bad_type:data.score", "timestamp_out_of_range",
                             "timestamp_out_of_range", "not_an_object", "bad_type:data.children", "bad_type:data"])
    posts = staged_posts(tiny)
    assert posts["t3_ok"][0] == DAY1 and posts["t3_n"][3] == "2024-01-01 12:01:00"
    assert_accounted(results, tiny)


def test_market_charts_that_do_not_fit(tiny):
    lake = Lake(tiny.lake)
    month = "raw/test/coingecko/market_chart/month=2024-01"
    points = [(T0 + 7 * 60_000, 1.0, 2.0, 3.0), (T0 + 8 * 60_000, "abc", 2.0, 3.0)]
    bad_point = chart(points)
    bad_point["prices"].append(5)
    bad_point["market_caps"].append(5)
    bad_point["total_volumes"].append(5)
    lake.write_bytes(f"{month}/bitcoin@hostile.json.gz", gzip.compress(json.dumps(bad_point).encode()))
    lake.write_bytes(f"{month}/ethereum@notalist.json.gz", gzip.compress(json.dumps({"prices": "x"}).encode()))
    lake.write_bytes(f"{month}/ethereum@array.json.gz", gzip.compress(b"[1, 2]"))
    lake.write_bytes(f"{month}/ethereum@broken.json.gz", b"not gzip at all")
    results, _ = stage(lake, None)
    reasons = sorted(r for name in ("bitcoin@hostile", "ethereum@notalist", "ethereum@array", "ethereum@broken")
                     for _, r, _ in held(tiny, f"{month}/{name}.json.gz", "coin_hourly"))
    assert reasons == ["bad_timestamp", "bad_type:prices", "bad_type:prices", "not_an_object", "unreadable_file"]
    assert_accounted(results, tiny)


def test_an_unusable_coin_list_is_quarantined_and_the_others_still_count(tiny):
    lake = Lake(tiny.lake)
    lake.write_bytes("raw/broken/coingecko/coins_list.json", b'[{"id": "x"')
    Path(tiny.lake, "raw/folder/coingecko/coins_list.json").mkdir(parents=True)
    odd_list = [{"id": {"x": 1}}, 3, {"id": ""}, {"id": "odd"}, {"id": "even", "symbol": "evn"}]
    lake.write_bytes("raw/odd/coingecko/coins_list.json", json.dumps(odd_list).encode())
    lake.write_bytes("raw/odd/coingecko/coins_markets.json", json.dumps({"not": "a list"}).encode())
    report = run(tiny)  # no traceback, and the gates pass
    coins = result(report.staged, "coins")
    assert coins.reasons == {"bad_type:id": 1, "missing_id": 1, "missing_symbol": 1, "not_a_list": 1, "not_an_object": 1,
                             "unreadable_file": 2}
    # received: the tiny list's 5 and the odd list's 5, the broken list and the folder, the market file that is no list
    assert (coins.received, coins.staged, coins.quarantined) == (5 + 5 + 1 + 1 + 1, 5 + 1, 7)
    assert coins.received == coins.staged + coins.duplicates + coins.quarantined
    assert report.status == "ok"


def test_implausible_timestamps_are_quarantined_and_never_widen_the_run(tiny):
    lake = Lake(tiny.lake)
    dates = ["1900-01-01T00:00:00Z", "0001-01-01T00:00:00Z", "2100-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
             "2099-12-31T12:00:00Z", "2008-12-31T00:00:00Z"]
    put(lake, x_file(DAY2), [{"data": [tweet(f"4{i}", "when $btc", d) for i, d in enumerate(dates)]}])
    results, covered = stage(lake, None)
    assert covered == Interval.parse(DAY1, "2024-01-03")
    out = [(day, reason) for day, reason, _ in held(tiny, x_file(DAY2))]
    assert out == [(DAY2, "timestamp_out_of_range")] * len(dates)
    assert_accounted(results, tiny)


def test_the_plausible_window_is_configurable_and_ends_the_day_after_the_run():
    window = Window.until_tomorrow(dt.date(2015, 1, 1), now=dt.datetime(2024, 3, 10, 23, 59))
    assert (str(window.earliest), str(window.latest)) == ("2015-01-01", "2024-03-12")


def test_a_post_dated_far_from_its_file_is_quarantined_under_the_files_day(tiny):
    lake = Lake(tiny.lake)
    stray, edge = tweet("50", "late $btc", "2024-01-09T10:00:00.000Z"), tweet("51", "edge $btc", "2024-01-03T00:30:00.000Z")
    put(lake, x_file(DAY2), [{"data": [stray, edge]}])
    results, covered = stage(lake, None)
    assert [(d, r) for d, r, _ in held(tiny, x_file(DAY2))] == [(DAY2, "outside_partition")]
    assert staged_posts(tiny)["51"][0] == "2024-01-03"  # within a day of its file: placed on its own day
    assert covered == Interval.parse(DAY1, "2024-01-04")
    assert_accounted(results, tiny)


def test_a_partition_folder_that_is_no_date_places_its_posts_by_their_own_time(tiny):
    lake = Lake(tiny.lake)
    put(lake, x_file("2024-13-45"), [{"data": [tweet("60", "odd folder $eth", f"{DAY2}T09:00:00.000Z"),
                                                tweet("61", "no time either", "never")]}])
    results, _ = stage(lake, None)
    assert staged_posts(tiny)["60"][0] == DAY2
    undated = duckdb.sql(f"SELECT reason, raw_file FROM '{tiny.lake}/staged/posts/{UNDATED_FILE}'").fetchall()
    assert undated == [("bad_timestamp", x_file("2024-13-45"))]
    assert result(results, "posts").reasons["bad_timestamp"] == 2  # the tiny lake's one, and this one
    assert_accounted(results, tiny)
    assert run(tiny).status == "ok"


def test_every_hostile_input_at_once_runs_to_a_publish_through_the_command_line(tiny):
    lake = Lake(tiny.lake)
    bad_like = tweet("70", "lots $btc", f"{DAY1}T06:00:00.000Z")
    bad_like["public_metrics"]["like_count"] = "lots"
    put(lake, x_file(DAY1), ["[1,2]", {"data": "notalist"}, {"data": [bad_like, tweet("71", "ok $eth", f"{DAY1}T08:00:00Z"),
                                                                      tweet("72", "far $eth", "9999-12-31T00:00:00Z")]}])
    put(lake, x_file("2024-13-45"), [{"data": [tweet("73", "$btc", f"{DAY2}T09:00:00.000Z")]}])
    put(lake, f"raw/reddit/reddit/posts/date={DAY1}/p.jsonl.gz",
        [{"kind": "Listing", "data": {"children": [reddit_child("t3_x", "t", "", "abc", score="many")]}}])
    Path(tiny.lake, "raw/folder/coingecko/coins_list.json").mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRYPTOPULSE_")}
    env.update(CRYPTOPULSE_LAKE=tiny.lake, CRYPTOPULSE_WAREHOUSE=tiny.warehouse)
    done = subprocess.run([str(Path(sys.executable).with_name("cryptopulse")), "run"], capture_output=True, text=True,
                          env=env, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    con = duckdb.connect(tiny.warehouse, read_only=True)
    reasons = dict(con.execute("SELECT reason, count(*) FROM quarantine WHERE dataset = 'posts' GROUP BY ALL").fetchall())
    checks = dict(con.execute("SELECT check_name, passed FROM quality_results WHERE check_name LIKE 'accounting%'").fetchall())
    con.close()
    assert {k: reasons.get(k) for k in ("not_an_object", "bad_type:data", "bad_type:public_metrics.like_count",
                                        "timestamp_out_of_range", "bad_type:data.created_utc")} == {
        "not_an_object": 1, "bad_type:data": 1, "bad_type:public_metrics.like_count": 1, "timestamp_out_of_range": 1,
        "bad_type:data.created_utc": 1}
    assert checks == {"accounting(posts)": True, "accounting(coin_hourly)": True}


def test_a_record_staging_loses_still_counts_as_received_and_the_gate_stops_the_publish(tiny, monkeypatch):
    def lossy(con, window):  # a staging bug: a good post vanishes between reading and writing
        POSTS.classify(con, window)
        con.execute("DELETE FROM post_records WHERE post_id = '1'")

    monkeypatch.setattr("cryptopulse.staging.run.POSTS", dataclasses.replace(POSTS, classify=lossy))
    with pytest.raises(GateFailed) as failed:
        run(tiny)
    assert "fct_post.accounting(posts)" in [f.label for f in failed.value.failures]
    day1 = json.loads(Path(tiny.lake, f"staged/posts/date={DAY1}/_stats.json").read_text())
    assert day1["received"] == day1["staged"] + day1["quarantined"] + day1["duplicates"] + 1
    assert not Path(tiny.lake, "published").exists() or not any(Path(tiny.lake, "published").rglob("*.parquet"))


def test_interval_runs_equal_one_whole_run_with_strays_and_implausible_dates(small, tmp_path):
    lake = Lake(small.lake)
    whole = raw_extent(lake)  # the dataset's days, from its raw zone (a whole run below covers the same)
    days = whole.days()
    first, mid = days[2].isoformat(), days[len(days) // 2].isoformat()
    put(lake, x_file(first, "stray"), [{"data": [
        tweet("s1", "stray forward $btc", f"{days[9].isoformat()}T10:00:00Z"),
        tweet("s2", "stray back $btc", f"{days[0].isoformat()}T10:00:00Z"),
        tweet("s3", "margin $btc", f"{days[3].isoformat()}T00:10:00Z"),
        tweet("s4", "future $btc", "2099-12-31T00:00:00Z"),
        tweet("s5", "past $btc", "1900-01-01T00:00:00Z"),
    ]}])
    put(lake, x_file(mid, "stray"), [{"data": [tweet("s6", "stray $eth", f"{days[-1].isoformat()}T23:00:00Z")]}])
    put(lake, x_file("2024-13-45", "nopart"), [{"data": [tweet("s7", "no valid partition $btc", f"{days[5]}T12:00:00Z")]}])
    union = run(small)
    assert union.interval == whole
    union_tables = table_hashes(small.warehouse)

    split = settings_for(tmp_path / "split")
    shutil.copytree(Path(small.lake) / "raw", tmp_path / "split" / "lake" / "raw")
    for part in whole.batches(7):
        run(split, part)
    assert table_hashes(split.warehouse) == union_tables
    con = duckdb.connect(small.warehouse, read_only=True)
    strays = con.execute("SELECT reason, count(*) FROM quarantine WHERE raw_file LIKE '%/stray.jsonl.gz' GROUP BY ALL ORDER BY ALL")
    assert strays.fetchall() == [("outside_partition", 3), ("timestamp_out_of_range", 2)]  # s3 is within the margin: staged
    assert con.execute("SELECT count(*) FROM fct_post WHERE post_id = 's7'").fetchone()[0] == 1  # read by its batch too
    con.close()


def test_staging_leaves_no_temporary_files_and_removes_those_of_a_killed_run(tiny, tmp_path, monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "system-temp"))
    (tmp_path / "system-temp").mkdir()
    lake = Lake(tiny.lake)
    killed = subprocess.run(
        [sys.executable, "-c", (
            "import os, signal, sys; from cryptopulse.lake import Lake\n"
            f"lake = Lake({tiny.lake!r})\n"
            "with lake.scratch('stage-posts') as d:\n"
            "    (d / 'data').write_text('half')\n"
            "    with lake.writing('staged/posts/date=2024-01-01/_stats.json') as out:\n"
            "        open(out, 'w').write('{half')\n"
            "        os.kill(os.getpid(), signal.SIGKILL)\n"
        )],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}, timeout=60,
    )
    assert killed.returncode == -9
    scratch = lake.scratch_root()
    assert len(list(scratch.iterdir())) == 2  # what the killed run left behind
    alive = scratch / f"stage-posts.{socket.gethostname()}.{os.getpid()}.running"
    alive.mkdir()  # a running process's folder stays
    stage(lake, None)
    assert [p.name for p in scratch.iterdir()] == [alive.name]
    assert list((tmp_path / "system-temp").iterdir()) == []
    hidden = [p for p in Path(tiny.lake).rglob(".*") if p.is_file()]
    assert hidden == []


def test_the_plausible_window_setting_reaches_staging_through_the_pipeline(tiny):
    lake = Lake(tiny.lake)
    put(lake, x_file(DAY2), [{"data": [tweet("61", "old $btc", "2015-06-01T00:00:00Z")]}])
    stage_step(tiny.model_copy(update={"plausible_since": dt.date(2016, 1, 1)}), None)
    assert [(d, r) for d, r, _ in held(tiny, x_file(DAY2))] == [(DAY2, "timestamp_out_of_range")]
    stage_step(tiny.model_copy(update={"plausible_since": dt.date(2010, 1, 1)}), None)
    assert [(d, r) for d, r, _ in held(tiny, x_file(DAY2))] == [(DAY2, "outside_partition")]  # plausible, but far from its file
