"""CoinGecko source against a local fake: exact hourly rows despite faults, cursors, resume after a kill, plans, secrets."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import logging
from pathlib import Path

import pytest

from cryptopulse.lake import Lake
from cryptopulse.sources.coingecko import CoinGeckoClient, ReplayClient, ingest_coingecko
from cryptopulse.sources.http import SourceError
from fakeapi import SECRET, FakeAPI, Faults, KilledAfter, chart_points
from test_sources_http import Sleeps, only_local

COINS = ["bitcoin", "ethereum", "solana"]
NOW = dt.datetime(2024, 3, 10, 12, 0, tzinfo=dt.UTC)
START, END = dt.date(2024, 1, 1), dt.date(2024, 3, 10)
CHART = r"/api/v3/coins/[^/]+/market_chart/range"
MONTHS = {  # month → (from, to) in Unix seconds, as the source asks for them
    "2024-01": (1704067200, 1706745599),
    "2024-02": (1706745600, 1709251199),
    "2024-03": (1709251200, int(NOW.timestamp())),
}


@pytest.fixture
def api(monkeypatch):
    server = FakeAPI()
    from fakeapi import coingecko_routes

    coingecko_routes(server, COINS, key=SECRET)
    monkeypatch.setenv("COINGECKO_DEMO_API_KEY", SECRET)
    monkeypatch.delenv("COINGECKO_PRO_API_KEY", raising=False)
    monkeypatch.setenv("CRYPTOPULSE_COINGECKO_BASE_URL", server.url + "/api/v3")
    yield server
    server.close()


def client(**options) -> CoinGeckoClient:
    defaults = {"calls_per_minute": 60_000, "timeout": 1.0, "backoff_base": 0.01, "backoff_max": 0.05, "sleep": Sleeps()}
    return only_local(CoinGeckoClient(**{**defaults, **options}))


def ingest(lake: Lake, **kwargs):
    kwargs = {"coins": COINS, "start": START, "end": END, "now": NOW, "client": client(), **kwargs}
    return ingest_coingecko(lake, **kwargs)


def bodies(lake: Lake) -> dict[str, object]:
    """Every landed CoinGecko file, decoded, without its `_request` metadata."""
    out = {}
    for path in lake.glob("raw/coingecko/coingecko/**"):
        if path.endswith((".json", ".json.gz")):
            data = lake.read_bytes(path)
            body = json.loads(gzip.decompress(data) if path.endswith(".gz") else data)
            out[path] = {k: v for k, v in body.items() if k != "_request"} if isinstance(body, dict) else body
    return out


def chart_path(month: str, coin: str) -> str:
    return f"raw/coingecko/coingecko/market_chart/month={month}/{coin}.json.gz"


def expected_charts(coins: list[str] = COINS) -> dict[str, list[int]]:
    return {chart_path(m, c): chart_points(c, lo, hi) for c in coins for m, (lo, hi) in MONTHS.items()}


def landed_charts(lake: Lake) -> dict[str, list[int]]:
    return {p: [ts for ts, _ in b["prices"]] for p, b in bodies(lake).items() if "/market_chart/" in p}


def test_every_hour_lands_exactly_once_despite_faults(tmp_path, api):
    api.inject(r"/api/v3/coins/list", Faults.status(503))
    api.inject(r"/api/v3/coins/markets", Faults.status(429, retry_after="0.01"))
    faults = [Faults.status(429), Faults.status(429, retry_after="0"), Faults.status(500), Faults.status(502),
              Faults.status(503), Faults.hang(2.0), Faults.truncated(), Faults.invalid_json(), Faults.cut()]
    for i, fault in enumerate(faults):  # spread over the run: every other chart request fails once
        api.inject(CHART, fault, after=2 * i)
    lake = Lake(tmp_path)
    report = ingest(lake)

    assert landed_charts(lake) == expected_charts()
    assert sum(len(v) for v in expected_charts().values()) == 3 * (744 + 696 + 9 * 24 + 12)  # jitter keeps 12:00 out of March
    for points in landed_charts(lake).values():
        assert len(points) == len(set(points)) and points == sorted(points)
    assert report.retries == len(faults) + 2
    assert report.files_written == 2 + 9 and report.pages == 2 + 9
    listed = bodies(lake)["raw/coingecko/coingecko/coins_list.json"]
    assert report.records == sum(len(v) for v in expected_charts().values()) + len(listed) + 3
    markets = bodies(lake)["raw/coingecko/coingecko/coins_markets.json"]
    assert [m["id"] for m in markets] == ["bitcoin", "ethereum", "solana"]
    assert {"image", "current_price", "market_cap_rank", "total_volume", "last_updated"} <= set(markets[0])
    assert {c["id"] for c in listed} >= set(COINS) and set(listed[0]) == {"id", "symbol", "name"}


def test_each_chart_carries_its_request_without_the_key(tmp_path, api):
    lake = Lake(tmp_path)
    ingest(lake)
    body = json.loads(gzip.decompress(lake.read_bytes(chart_path("2024-02", "bitcoin"))))
    assert body["_request"]["url"] == "/coins/bitcoin/market_chart/range"
    assert body["_request"]["params"] == {"vs_currency": "usd", "from": 1706745600, "to": 1709251199}
    assert body["_request"]["source"] == "coingecko" and body["_request"]["fetched_at"].endswith("Z")
    assert json.loads(lake.read_bytes("raw/coingecko/coingecko/_requests/coins_list.json"))["url"] == "/coins/list"


def test_a_rerun_fetches_only_the_current_month(tmp_path, api):
    lake = Lake(tmp_path)
    ingest(lake)
    cursors = json.loads(lake.read_bytes("raw/coingecko/_state/cursors.json"))
    assert cursors == {c: {"since": "2024-01", "through": "2024-02"} for c in COINS}
    first = len(api.requests)
    report = ingest(lake)
    charts = [r for r in api.requests[first:] if r.path.endswith("/range")]
    assert sorted((r.path.split("/")[4], r.params["from"]) for r in charts) == [(c, "1709251200") for c in sorted(COINS)]
    assert report.skipped == 2 * len(COINS)
    assert landed_charts(lake) == expected_charts()


def test_an_earlier_start_backfills_only_the_older_months(tmp_path, api):
    lake = Lake(tmp_path)
    ingest(lake, start=dt.date(2024, 2, 1))
    first = len(api.requests)
    ingest(lake)
    months = [r.params["from"] for r in api.requests[first:] if r.path.endswith("/range")]
    assert sorted(months) == sorted(["1709251200", "1704067200"] * 3)
    assert landed_charts(lake) == expected_charts()
    assert json.loads(lake.read_bytes("raw/coingecko/_state/cursors.json"))["solana"] == {"since": "2024-01", "through": "2024-02"}


def test_a_killed_run_then_a_rerun_equals_an_uninterrupted_run(tmp_path, api):
    whole, resumed = Lake(tmp_path / "whole"), Lake(tmp_path / "resumed")
    ingest(whole)
    with pytest.raises(KeyboardInterrupt):
        ingest(resumed, client=KilledAfter(client(), "market_chart_range", 4))
    assert len(landed_charts(resumed)) == 4
    first = len(api.requests)
    ingest(resumed)
    charts = [r for r in api.requests[first:] if r.path.endswith("/range")]
    assert len(charts) == 9 - 4 + 1  # the five never fetched, and ethereum's March again (not complete)
    assert bodies(resumed) == bodies(whole)


def test_a_free_plan_refuses_history_older_than_365_days_before_any_request(tmp_path, api):
    with pytest.raises(SourceError, match="free/demo plans only serve the last 365 days"):
        ingest(Lake(tmp_path), start=dt.date(2023, 3, 1))
    assert api.requests == []


def test_a_plan_error_from_the_server_is_clear_not_retried_and_keeps_the_key_secret(tmp_path, api, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("COINGECKO_DEMO_API_KEY", SECRET + "-wrong")  # the fake echoes the key it got
    with pytest.raises(SourceError) as refused:
        ingest(Lake(tmp_path))
    message = str(refused.value)
    assert "GET /coins/list refused (HTTP 401, demo plan)" in message and "365 days" in message
    assert SECRET not in message and SECRET not in caplog.text
    assert len(api.requests) == 1


def test_a_429_naming_the_plan_is_a_plan_error(tmp_path, api):
    body = {"status": {"error_code": 10012, "error_message": "Your request exceeds the allowed time range. Upgrade your plan."}}
    api.inject(CHART, Faults.status(429, body=body))
    with pytest.raises(SourceError, match=r"HTTP 429, demo plan\)\. CoinGecko free/demo plans"):
        ingest(Lake(tmp_path))


def test_the_key_never_reaches_logs_errors_or_the_lake(tmp_path, api, caplog):
    caplog.set_level(logging.DEBUG)
    api.inject(CHART, Faults.status(500), Faults.invalid_json(), Faults.hang(2.0))
    lake = Lake(tmp_path)
    ingest(lake)
    assert all(r.headers.get("x-cg-demo-api-key") == SECRET for r in api.requests)  # sent on every request…
    assert SECRET not in caplog.text  # …and shown nowhere
    for path in Path(tmp_path).rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert SECRET.encode() not in (gzip.decompress(data) if path.suffix == ".gz" else data), path


def test_a_pro_key_goes_to_the_pro_header_without_the_history_limit(tmp_path, api, monkeypatch):
    monkeypatch.delenv("COINGECKO_DEMO_API_KEY")
    monkeypatch.setenv("COINGECKO_PRO_API_KEY", SECRET)
    from fakeapi import coingecko_routes

    pro = FakeAPI()
    coingecko_routes(pro, COINS, key=SECRET, key_header="x-cg-pro-api-key")
    try:
        live = client(base_url=pro.url + "/api/v3")
        assert live.plan == "pro"
        ingest(Lake(tmp_path), coins=["bitcoin"], start=dt.date(2023, 1, 1), end=dt.date(2023, 2, 1), client=live)
        assert {r.headers.get("x-cg-pro-api-key") for r in pro.requests} == {SECRET}
    finally:
        pro.close()


def test_top_n_tracks_the_largest_coins_by_market_cap(tmp_path, api):
    lake = Lake(tmp_path)
    ingest(lake, coins=None, top=2)
    markets_requests = [r for r in api.requests if r.path.endswith("/markets")]
    assert markets_requests[0].params == {"vs_currency": "usd", "order": "market_cap_desc", "per_page": "2", "page": "1"}
    assert [m["id"] for m in bodies(lake)["raw/coingecko/coingecko/coins_markets.json"]] == ["bitcoin", "ethereum"]
    assert landed_charts(lake) == expected_charts(["bitcoin", "ethereum"])


def test_an_unknown_coin_id_is_a_clear_error(tmp_path, api):
    with pytest.raises(SourceError, match=r"unknown coin id.*btc"):
        ingest(Lake(tmp_path), coins=["btc"])


def test_the_replay_client_serves_recorded_payloads_like_the_live_one(tmp_path, api):
    live, replayed = Lake(tmp_path / "live"), Lake(tmp_path / "replayed")
    ingest(live)
    report = ingest(replayed, client=ReplayClient(tmp_path / "live/raw/coingecko/coingecko"))
    assert bodies(replayed) == bodies(live)
    assert report.requests == 2 + 9
