"""`cryptopulse ingest coingecko|x|reddit` as a user runs it: the real command against local fake APIs, then `run`.

Each command runs in its own process (the installed `cryptopulse` script) with keys in its environment, so
these tests also prove that no secret reaches stdout, stderr, logs or any file in the lake.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from cryptopulse.sources.x import coin_query
from fakeapi import SECRET, FakeAPI, Faults, coingecko_routes, make_reddit_posts, make_tweets, reddit_routes, x_routes

CRYPTOPULSE = str(Path(sys.executable).with_name("cryptopulse"))
COINS = ["bitcoin", "ethereum"]
TODAY = dt.datetime.now(dt.UTC).date()
START, END = TODAY - dt.timedelta(days=3), TODAY  # inside X's 7-day window and CoinGecko's 365-day free history
BEGIN = dt.datetime.combine(TODAY - dt.timedelta(days=6), dt.time(), dt.UTC)
NOW = dt.datetime.now(dt.UTC)


@pytest.fixture(scope="module")
def world():
    """One fake server for the three APIs, and the posts it serves."""
    server = FakeAPI()
    coingecko_routes(server, COINS, key=SECRET)
    tweets = {coin_query("btc", "Bitcoin"): make_tweets(coin_query("btc", "Bitcoin"), BEGIN, NOW, every_minutes=40, salt=1),
              coin_query("eth", "Ethereum"): make_tweets(coin_query("eth", "Ethereum"), BEGIN, NOW, every_minutes=120, salt=2)}
    x_routes(server, tweets, token=SECRET)
    listings = {"CryptoCurrency": make_reddit_posts("CryptoCurrency", BEGIN, NOW, every_minutes=90)}
    reddit_routes(server, listings, "cid", SECRET)
    yield server, tweets, listings
    server.close()


def env_for(server: FakeAPI, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CRYPTOPULSE_", "COINGECKO_", "X_", "REDDIT_"))}
    env.update({
        "COINGECKO_DEMO_API_KEY": SECRET, "X_BEARER_TOKEN": SECRET, "REDDIT_CLIENT_ID": "cid", "REDDIT_CLIENT_SECRET": SECRET,
        "CRYPTOPULSE_COINGECKO_BASE_URL": server.url + "/api/v3", "CRYPTOPULSE_X_BASE_URL": server.url,
        "CRYPTOPULSE_REDDIT_BASE_URL": server.url, "CRYPTOPULSE_REDDIT_AUTH_URL": server.url + "/api/v1/access_token",
        "CRYPTOPULSE_REDDIT_USER_AGENT": "cryptopulse/0.1.0 (by /u/cryptopulse_tests)",
        **extra,
    })
    return env


def cryptopulse(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([CRYPTOPULSE, *args], capture_output=True, text=True, env=env, timeout=300)


def lake_bytes(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file())


def test_ingest_commands_land_data_that_runs_into_the_warehouse_without_leaking_keys(tmp_path, world):
    server, tweets, listings = world
    lake, warehouse = tmp_path / "lake", tmp_path / "wh.duckdb"
    env = env_for(server)
    window = ["--start", str(START), "--end", str(END), "--lake", str(lake)]
    server.inject(r"/api/v3/coins/[^/]+/market_chart/range", Faults.status(503, retry_after="0"))  # retried, not fatal

    results = [
        cryptopulse(env, "ingest", "coingecko", "--coins", ",".join(COINS), *window, "--calls-per-minute", "6000", "--json"),
        cryptopulse(env, "ingest", "x", "--coins", ",".join(COINS), *window, "--calls-per-minute", "6000", "--json"),
        cryptopulse(env, "ingest", "reddit", "--subreddits", "CryptoCurrency", *window, "--calls-per-minute", "6000", "--json"),
    ]
    for r in results:
        assert r.returncode == 0, r.stderr
    reports = [json.loads(r.stdout) for r in results]
    assert [r["source"] for r in reports] == ["coingecko", "x", "reddit"]
    assert reports[0]["retries"] >= 1
    assert all(r["records"] > 0 and r["files_written"] > 0 for r in reports)

    ran = cryptopulse(env, "run", *window, "--warehouse", str(warehouse), "--json")
    assert ran.returncode == 0, ran.stderr
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        posts = dict(con.execute("SELECT source, count(*) FROM fct_post GROUP BY ALL").fetchall())
        hours = dict(con.execute("SELECT coin_id, count(*) FROM fct_coin_hourly GROUP BY ALL").fetchall())
    finally:
        con.close()
    in_window = [t for ts in tweets.values() for t in ts if str(START) <= t["created_at"][:10] < str(END)]
    lo, hi = (dt.datetime.combine(d, dt.time(), dt.UTC).timestamp() for d in (START, END))
    assert posts == {"x": len(in_window), "reddit": sum(lo <= c["data"]["created_utc"] < hi for c in listings["CryptoCurrency"])}
    assert hours == {"bitcoin": 3 * 24, "ethereum": 3 * 24}

    everything = "".join(r.stdout + r.stderr for r in [*results, ran]).encode() + lake_bytes(lake)
    assert SECRET.encode() not in everything


def test_a_rerun_of_an_ingest_fetches_nothing_new_and_changes_no_posts(tmp_path, world):
    server, _, _ = world
    lake = tmp_path / "lake"
    env = env_for(server)
    args = ["ingest", "reddit", "--subreddits", "CryptoCurrency", "--start", str(START), "--end", str(END),
            "--lake", str(lake), "--calls-per-minute", "6000", "--json"]
    first = json.loads(cryptopulse(env, *args).stdout)
    before = lake_bytes(lake / "raw/reddit/reddit/posts")
    second = json.loads(cryptopulse(env, *args).stdout)
    assert first["records"] > 0 and second["records"] == 0
    assert lake_bytes(lake / "raw/reddit/reddit/posts") == before


def test_replay_ingests_recorded_payloads_without_any_server(tmp_path, world):
    server, _, _ = world
    live = tmp_path / "live"
    args = ["--subreddits", "CryptoCurrency", "--start", str(START), "--end", str(END), "--json"]
    fetched = cryptopulse(env_for(server), "ingest", "reddit", *args, "--lake", str(live), "--calls-per-minute", "6000")
    assert fetched.returncode == 0, fetched.stderr
    offline = env_for(server, CRYPTOPULSE_REDDIT_BASE_URL="http://127.0.0.1:9", REDDIT_CLIENT_ID="", REDDIT_CLIENT_SECRET="")
    replayed = cryptopulse(offline, "ingest", "reddit", *args, "--lake", str(tmp_path / "replayed"),
                           "--replay", str(live / "raw/reddit/reddit/posts"))
    assert replayed.returncode == 0, replayed.stderr
    assert json.loads(replayed.stdout)["records"] == json.loads(fetched.stdout)["records"] > 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ingest", "coingecko", "--start", "2026-01-01", "--end", "2026-01-02"], "name the coins"),
        (["ingest", "coingecko", "--coins", "bitcoin", "--start", "2026-13-01", "--end", "2026-01-02"], "--start"),
        (["ingest", "x", "--coins", "bitcoin", "--query", "no-equals-sign"], "NAME=QUERY"),
        (["ingest", "reddit", "--subreddits", "Bitcoin", "--calls-per-minute", "0"], "--calls-per-minute"),
        (["ingest", "reddit", "--subreddits", "Bitcoin", "--replay", "/nonexistent/folder"], "/nonexistent/folder"),
    ],
)
def test_user_mistakes_are_one_line_errors_with_exit_code_2(tmp_path, world, args, message):
    server, _, _ = world
    result = cryptopulse(env_for(server), *args, "--lake", str(tmp_path / "lake"))
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_credentials_say_which_variables_to_set(tmp_path, world):
    server, _, _ = world
    env = env_for(server, REDDIT_CLIENT_ID="", REDDIT_CLIENT_SECRET="", X_BEARER_TOKEN="")
    reddit = cryptopulse(env, "ingest", "reddit", "--subreddits", "Bitcoin", "--lake", str(tmp_path / "lake"))
    x = cryptopulse(env, "ingest", "x", "--query", "btc=$BTC", "--lake", str(tmp_path / "lake"))
    assert reddit.returncode == 2 and "REDDIT_CLIENT_ID" in reddit.stderr
    assert x.returncode == 2 and "X_BEARER_TOKEN" in x.stderr
