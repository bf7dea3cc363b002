"""X source against a local fake: exactly the window's posts despite faults, since_id cursor, resume after a kill, quota, secrets."""

from __future__ import annotations

import collections
import datetime as dt
import gzip
import json
import logging
from pathlib import Path

import pytest

from cryptopulse.lake import Lake
from cryptopulse.sources.coingecko.settings import COINS_LIST_PATH
from cryptopulse.sources.http import SourceError
from cryptopulse.sources.landing import land_json
from cryptopulse.sources.x import ReplayClient, XClient, coin_queries, coin_query, ingest_x
from fakeapi import SECRET, FakeAPI, Faults, KilledAfter, make_tweets, real_coins_list, x_routes
from test_sources_http import Sleeps, only_local

NOW = dt.datetime(2024, 3, 10, 12, 0, tzinfo=dt.UTC)
START = dt.date(2024, 3, 4)
BTC = coin_query("btc", "Bitcoin")
ETH = coin_query("eth", "Ethereum")
QUERIES = {"bitcoin": BTC, "ethereum": ETH}
SEARCH = r"/2/tweets/search/recent"


def corpus_until(until: dt.datetime) -> dict[str, list[dict]]:
    begin = dt.datetime(2024, 3, 2, tzinfo=dt.UTC)
    return {BTC: make_tweets(BTC, begin, until, every_minutes=10, salt=1), ETH: make_tweets(ETH, begin, until, every_minutes=45, salt=2)}


@pytest.fixture
def corpus():
    return corpus_until(NOW)


@pytest.fixture
def quota():
    return {}


@pytest.fixture
def api(monkeypatch, corpus, quota):
    server = FakeAPI()
    x_routes(server, corpus, token=SECRET, quota=quota)
    monkeypatch.setenv("X_BEARER_TOKEN", SECRET)
    monkeypatch.setenv("CRYPTOPULSE_X_BASE_URL", server.url)
    yield server
    server.close()


def client(**options) -> XClient:
    defaults = {"calls_per_minute": 60_000, "timeout": 1.0, "backoff_base": 0.01, "backoff_max": 0.05, "sleep": Sleeps()}
    return only_local(XClient(**{**defaults, **options}))


def ingest(lake: Lake, **kwargs):
    return ingest_x(lake, **{"queries": QUERIES, "start": START, "now": NOW, "client": client(), **kwargs})


def expected_ids(corpus: dict[str, list[dict]], now: dt.datetime = NOW) -> set[str]:
    lo, hi = f"{START}T00:00:00", (now - dt.timedelta(seconds=10)).strftime("%Y-%m-%dT%H:%M:%S")
    return {t["id"] for tweets in corpus.values() for t in tweets if lo <= t["created_at"][:19] < hi}


def landed(lake: Lake) -> list[tuple[str, dict]]:
    """(file, page) for every landed page line."""
    return [(path, json.loads(line)) for path in lake.glob("raw/x/x/posts/date=*/*.jsonl.gz")
            for line in gzip.decompress(lake.read_bytes(path)).splitlines()]


def landed_ids(lake: Lake) -> list[str]:
    return [t["id"] for _, page in landed(lake) for t in page["data"]]


def test_coin_query_uses_cashtag_and_hashtags():
    assert coin_query("btc", "Bitcoin") == "($BTC OR #bitcoin OR #btc) -is:retweet lang:en"
    assert coin_query("shib", "Shiba Inu") == "($SHIB OR #shibainu OR #shib) -is:retweet lang:en"


def test_coin_queries_come_from_the_coingecko_files_in_the_lake(tmp_path):
    lake = Lake(tmp_path)
    land_json(lake, COINS_LIST_PATH, real_coins_list(["bitcoin", "solana"]), {})
    assert coin_queries(lake, ["solana"]) == {"solana": "($SOL OR #solana OR #sol) -is:retweet lang:en"}
    with pytest.raises(SourceError, match="ingest CoinGecko first"):
        coin_queries(lake, ["dogecoin"])


def test_exactly_the_windows_posts_land_once_despite_faults(tmp_path, api, corpus):
    faults = [
        Faults.transform(lambda body, req: {"meta": {"result_count": 0, "next_token": req.params["next_token"]}}),  # empty page
        Faults.repeat(),
        Faults.status(429, headers={"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(int(NOW.timestamp()))}),
        Faults.status(503), Faults.hang(2.0), Faults.truncated(), Faults.invalid_json(), Faults.status(500, retry_after="0"),
    ]
    for i, fault in enumerate(faults):
        api.inject(SEARCH, fault, after=1 + 2 * i)
    lake = Lake(tmp_path)
    report = ingest(lake)
    ids = landed_ids(lake)
    assert collections.Counter(ids).most_common(1)[0][1] == 1  # no duplicates…
    assert set(ids) == expected_ids(corpus)  # …and no gaps
    assert report.records == len(ids) and report.retries == 6 and report.repeated == 100
    for path, page in landed(lake):  # a page spanning days is landed as one line per day: staging's day pruning sees all
        assert {f"date={t['created_at'][:10]}/" for t in page["data"]} == {path.split("/")[4] + "/"}
        assert page["meta"]["result_count"] == len(page["data"])
        assert {u["id"] for u in page["includes"]["users"]} == {t["author_id"] for t in page["data"]}
        assert page["_request"]["url"] == "/2/tweets/search/recent"
        assert page["_request"]["params"]["query"] in (BTC, ETH) and page["includes"]["users"]
        assert page["_request"]["params"]["tweet.fields"] == "created_at,public_metrics,lang,author_id"
    assert {r.params["max_results"] for r in api.requests} == {"100"}
    assert {r.params["start_time"] for r in api.requests} == {"2024-03-04T00:00:00Z"}


def test_a_rerun_asks_only_for_posts_newer_than_the_cursor(tmp_path, api, corpus):
    lake = Lake(tmp_path)
    ingest(lake)
    newest = {q: max(int(t["id"]) for t in corpus[q] if t["id"] in expected_ids(corpus)) for q in (BTC, ETH)}
    cursors = json.loads(lake.read_bytes("raw/x/_state/cursors.json"))
    assert cursors == {q: {"newest": str(n)} for q, n in newest.items()}
    later = NOW + dt.timedelta(hours=3)
    corpus.update(corpus_until(later))
    first = len(api.requests)
    report = ingest(lake, now=later)
    rerun = api.requests[first:]
    assert [(r.params["query"], r.params["since_id"]) for r in rerun] == [(q, str(n)) for q, n in newest.items()]
    assert report.records == len(expected_ids(corpus, later)) - len(expected_ids(corpus))
    assert sorted(landed_ids(lake)) == sorted(expected_ids(corpus, later))


@pytest.mark.parametrize("pages_before_kill", [2, 4, 7])
def test_a_killed_run_then_a_rerun_equals_an_uninterrupted_run(tmp_path, api, pages_before_kill):
    whole, resumed = Lake(tmp_path / "whole"), Lake(tmp_path / "resumed")
    ingest(whole)
    with pytest.raises(KeyboardInterrupt):
        ingest(resumed, client=KilledAfter(client(), "search_recent", pages_before_kill))
    whole_requests, first = len(api.requests) - pages_before_kill, len(api.requests)
    ingest(resumed)
    assert sorted(landed_ids(resumed)) == sorted(landed_ids(whole))  # same posts, none twice
    assert json.loads(resumed.read_bytes("raw/x/_state/cursors.json")) == json.loads(whole.read_bytes("raw/x/_state/cursors.json"))
    assert len(api.requests) - first <= whole_requests + 1  # pages landed before the kill are not fetched again


def test_quota_headers_pause_until_the_reset(tmp_path, api, quota):
    quota.update(remaining=2, reset_in=40)
    sleeps = Sleeps()
    ingest(Lake(tmp_path), client=client(sleep=sleeps))
    assert any(35 < s <= 41 for s in sleeps)


def test_the_token_never_reaches_logs_errors_or_the_lake(tmp_path, api, caplog, monkeypatch):
    caplog.set_level(logging.DEBUG)
    api.inject(SEARCH, Faults.status(503), Faults.hang(2.0))
    lake = Lake(tmp_path)
    ingest(lake)
    assert {r.headers["authorization"] for r in api.requests} == {f"Bearer {SECRET}"}
    assert SECRET not in caplog.text
    files = [p for p in Path(tmp_path).rglob("*") if p.is_file()]
    assert {p.suffix for p in files} >= {".gz", ".json"}  # landed pages and the cursor state
    for path in files:
        text = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        assert SECRET.encode() not in text, path
    monkeypatch.setenv("X_BEARER_TOKEN", SECRET + "-expired")
    with pytest.raises(SourceError, match=r"HTTP 401.*check X_BEARER_TOKEN") as refused:
        ingest(Lake(tmp_path / "other"))
    assert SECRET not in str(refused.value)


def test_a_missing_token_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("X_BEARER_TOKEN", raising=False)
    with pytest.raises(SourceError, match="X_BEARER_TOKEN is not set"):
        XClient()


def test_the_replay_client_serves_landed_pages_like_the_live_api(tmp_path, api):
    live, replayed = Lake(tmp_path / "live"), Lake(tmp_path / "replayed")
    ingest(live)
    ingest(replayed, client=ReplayClient(tmp_path / "live/raw/x/x/posts"))
    assert sorted(landed_ids(replayed)) == sorted(landed_ids(live))


def test_landed_coingecko_x_and_reddit_data_reach_the_warehouse(tmp_path, monkeypatch):
    """End to end: fake APIs → live clients → raw zone → `pipeline.run` → fct_coin_hourly and fct_post."""
    import duckdb

    from cryptopulse.config import load_settings
    from cryptopulse.interval import Interval
    from cryptopulse.pipeline import run
    from cryptopulse.sources.coingecko import CoinGeckoClient, ingest_coingecko
    from cryptopulse.sources.reddit import RedditClient, ingest_reddit
    from fakeapi import coingecko_routes, make_reddit_posts, reddit_routes

    coins = ["bitcoin", "ethereum"]
    server = FakeAPI()
    coingecko_routes(server, coins, key=SECRET)
    begin = dt.datetime(2024, 3, 2, tzinfo=dt.UTC)
    tweets = {coin_query("btc", "Bitcoin"): make_tweets(BTC, begin, NOW, every_minutes=30, salt=1),
              coin_query("eth", "Ethereum"): make_tweets(ETH, begin, NOW, every_minutes=90, salt=2)}
    x_routes(server, tweets, token=SECRET)
    listings = {"CryptoCurrency": make_reddit_posts("CryptoCurrency", begin, NOW, every_minutes=60)}
    reddit_routes(server, listings, "cid", SECRET)
    for name, value in {"COINGECKO_DEMO_API_KEY": SECRET, "X_BEARER_TOKEN": SECRET, "REDDIT_CLIENT_ID": "cid",
                        "REDDIT_CLIENT_SECRET": SECRET, "CRYPTOPULSE_COINGECKO_BASE_URL": server.url + "/api/v3",
                        "CRYPTOPULSE_X_BASE_URL": server.url, "CRYPTOPULSE_REDDIT_BASE_URL": server.url,
                        "CRYPTOPULSE_REDDIT_AUTH_URL": server.url + "/api/v1/access_token",
                        "CRYPTOPULSE_REDDIT_USER_AGENT": "cryptopulse/0.1.0 (by /u/cryptopulse_tests)"}.items():
        monkeypatch.setenv(name, value)
    fast = {"calls_per_minute": 60_000, "timeout": 1.0, "backoff_base": 0.01, "backoff_max": 0.05}
    settings = load_settings(lake=str(tmp_path / "lake"), warehouse=str(tmp_path / "warehouse.duckdb"))
    lake = Lake(settings.lake)
    interval = Interval(dt.date(2024, 3, 4), dt.date(2024, 3, 10))
    try:
        server.inject(r"/api/v3/coins/[^/]+/market_chart/range", Faults.status(503), Faults.truncated())
        server.inject(SEARCH, Faults.status(429, retry_after="0"), after=1)
        ingest_coingecko(lake, coins, start=interval.start, end=interval.end, now=NOW, client=only_local(CoinGeckoClient(**fast)))
        ingest_x(lake, coins=coins, start=interval.start, end=interval.end, now=NOW, client=only_local(XClient(**fast)))
        ingest_reddit(lake, ["CryptoCurrency"], start=interval.start, end=interval.end, client=only_local(RedditClient(**fast)))
    finally:
        server.close()

    report = run(settings, interval)

    assert report.status == "ok"
    con = duckdb.connect(settings.warehouse, read_only=True)
    try:
        prices = con.execute("SELECT source, coin_id, count(*) FROM fct_coin_hourly GROUP BY ALL ORDER BY ALL").fetchall()
        posts = dict(con.execute("SELECT source, count(*) FROM fct_post GROUP BY ALL").fetchall())
        mentions = con.execute("SELECT count(*) FROM bridge_post_coin WHERE source = 'x'").fetchone()[0]
    finally:
        con.close()
    assert prices == [("coingecko", "bitcoin", 6 * 24), ("coingecko", "ethereum", 6 * 24)]
    in_days = [t for ts in tweets.values() for t in ts if "2024-03-04" <= t["created_at"][:10] < "2024-03-10"]
    lo, hi = (dt.datetime.combine(d, dt.time(), dt.UTC).timestamp() for d in (interval.start, interval.end))
    assert posts == {"x": len(in_days), "reddit": sum(lo <= c["data"]["created_utc"] < hi for c in listings["CryptoCurrency"])}
    assert mentions > 0  # the real tweet texts name bitcoin, and the CoinGecko files made it a tracked coin
