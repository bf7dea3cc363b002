"""The read API in process: keys and limits, conditional GET, bad input, formats, paging, and answers equal to SQL."""

from __future__ import annotations

import io
import itertools
import json
import shutil
import uuid
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from httpx import Response
from pytest import MonkeyPatch

from conftest import SMALL_SCALE, settings_for
from cryptopulse.api.app import create_app
from cryptopulse.api.keys import KEYS_FILE, create_key, revoke_key
from cryptopulse.api.settings import load_api_settings
from cryptopulse.cli import app as cli_app
from cryptopulse.config import Settings
from cryptopulse.lake import Lake
from cryptopulse.read import open_snapshot

_BUILT: dict[str, Settings] = {}  # one published lake per test process, shared by every test_api* module
DAY = "start=2024-05-20&end=2024-05-21"


@pytest.fixture(scope="session")
def api_lake(small_raw: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings over a lake published by `cryptopulse demo --scale 0.01` (run, enrich, analyze); read-only for tests."""
    if "lake" not in _BUILT:
        from typer.testing import CliRunner

        root = tmp_path_factory.mktemp("api")
        shutil.copytree(small_raw, root / "lake")
        settings = settings_for(root)
        args = ["demo", "--scale", str(SMALL_SCALE), "--lake", settings.lake, "--warehouse", settings.warehouse]
        result = CliRunner().invoke(cli_app, args)
        assert result.exit_code == 0, result.output
        _BUILT["lake"] = settings
    return _BUILT["lake"]


def client_for(settings: Settings, **api: object) -> TestClient:
    """A client of a fresh app over `settings` (key file re-read on every request, no rate limit, unless told otherwise)."""
    defaults = {"key_refresh": 0, "version_check": 0, "rate": 1e6, "burst": 1_000_000}
    return TestClient(create_app(settings, load_api_settings({}, **{**defaults, **api})),
                      raise_server_exceptions=False)


@pytest.fixture
def key(api_lake: Settings, request: pytest.FixtureRequest) -> dict[str, str]:
    """Headers with a fresh key of this test's own."""
    _, secret = create_key(Lake(api_lake.lake), f"{request.node.originalname[:50]}-{uuid.uuid4().hex[:8]}")
    return {"X-API-Key": secret}


@pytest.fixture(scope="module")
def client(api_lake: Settings) -> TestClient:
    """One app for the tests that need no settings of their own (each test brings its own key)."""
    return client_for(api_lake)


def sql(settings: Settings, query: str, *params: object) -> list[tuple]:
    """An independent read of the published version (plain SQL, not the API's queries)."""
    with open_snapshot(Lake(settings.lake)) as snapshot:
        return snapshot.cursor().execute(query, list(params)).fetchall()


def assert_error(response: Response, status: int, field: str | None = None) -> dict:
    """A one-line JSON error with this status (and field), never a traceback."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "status", "field"} and body["status"] == status
    assert "\n" not in body["error"] and "Traceback" not in body["error"]
    if field is not None:
        assert body["field"] == field and field in body["error"]
    return body


# -- access ------------------------------------------------------------------------------------------------------

def test_health_needs_no_key_and_names_the_published_version(client: TestClient, api_lake: Settings) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    manifest = json.loads(Lake(api_lake.lake).read_bytes("published/_manifest.json"))
    assert response.json() == {"status": "ok", "version": str(manifest["version"])}


def test_no_key_bad_key_and_revoked_key_get_401(client: TestClient, api_lake: Settings, key: dict[str, str]) -> None:
    assert_error(client.get("/v1/coins"), 401)
    assert_error(client.get("/v1/coins", headers={"X-API-Key": key["X-API-Key"][:-1] + "x"}), 401)
    assert_error(client.get("/v1/coins", headers={"X-API-Key": "not-a-key"}), 401)
    assert client.get("/v1/coins", headers=key).status_code == 200
    assert client.get("/v1/coins", headers={"Authorization": f"Bearer {key['X-API-Key']}"}).status_code == 200
    revoke_key(Lake(api_lake.lake), key["X-API-Key"].split("_")[1])
    assert_error(client.get("/v1/coins", headers=key), 401)


def test_keys_are_stored_hashed(api_lake: Settings, key: dict[str, str]) -> None:
    stored = Lake(api_lake.lake).read_bytes(KEYS_FILE).decode()
    secret_part = key["X-API-Key"].split("_", 2)[2]
    assert key["X-API-Key"].split("_")[1] in stored and secret_part not in stored


def test_over_the_rate_limit_gets_429_with_retry_after(api_lake: Settings, key: dict[str, str]) -> None:
    client = client_for(api_lake, rate=0.5, burst=3)
    assert [client.get("/v1/coins", headers=key).status_code for _ in range(3)] == [200, 200, 200]
    refused = client.get("/v1/coins", headers=key)
    assert_error(refused, 429)
    assert int(refused.headers["Retry-After"]) >= 1
    _, other = create_key(Lake(api_lake.lake), "another-caller")
    assert client.get("/v1/coins", headers={"X-API-Key": other}).status_code == 200  # buckets are per key


def test_anonymous_reads_when_the_operator_turns_them_on(api_lake: Settings) -> None:
    assert client_for(api_lake, anonymous=True).get("/v1/coins").status_code == 200


def test_cors_origin_is_allowed_only_when_configured(api_lake: Settings, key: dict[str, str]) -> None:
    origin = {"Origin": "https://dash.example", **key}
    assert "access-control-allow-origin" not in client_for(api_lake).get("/v1/coins", headers=origin).headers
    allowed = client_for(api_lake, cors_origins="https://dash.example").get("/v1/coins", headers=origin)
    assert allowed.headers["access-control-allow-origin"] == "https://dash.example"


def test_if_none_match_gives_304_without_a_body(client: TestClient, key: dict[str, str]) -> None:
    first = client.get(f"/v1/coins/bitcoin/market/hourly?{DAY}", headers=key)
    assert first.status_code == 200 and first.headers["ETag"].startswith(f'"{first.headers["X-Published-Version"]}-')
    again = client.get(f"/v1/coins/bitcoin/market/hourly?{DAY}", headers={**key, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["X-Published-Version"] == first.headers["X-Published-Version"]
    other = client.get(f"/v1/coins/ethereum/market/hourly?{DAY}", headers={**key, "If-None-Match": first.headers["ETag"]})
    assert other.status_code == 200  # an ETag names one answer, not the whole version


# -- bad input ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("url", "status", "field"), [
    (f"/v1/coins/no-such-coin/market/hourly?{DAY}", 404, "coin_id"),
    (f"/v1/coins/no-such-coin/posts?{DAY}", 404, "coin_id"),
    ("/v1/market/monthly?start=2024-05-01&end=2024-06-01&coin_id=bitcoin&coin_id=nope", 404, "coin_id"),
    ("/v1/coins/bitcoin/market/hourly?start=2024-05-20&end=2024-13-01", 422, "end"),
    ("/v1/coins/bitcoin/market/daily?start=yesterday&end=2024-05-21", 422, "start"),
    ("/v1/coins/bitcoin/market/daily?end=2024-05-21", 422, "start"),
    ("/v1/coins/bitcoin/market/daily?start=2024-05-21&end=2024-05-20", 422, "end"),
    ("/v1/coins/bitcoin/market/hourly?start=2020-01-01&end=2024-05-20", 422, "end"),
    ("/v1/coins/bitcoin/social?start=2024-05-20&end=2024-05-21&grain=minute", 422, "grain"),
    (f"/v1/coins/bitcoin/posts?{DAY}&limit=100000", 422, "limit"),
    (f"/v1/coins/bitcoin/posts?{DAY}&cursor=bm90LWEtY3Vyc29y", 422, "cursor"),
    ("/v1/social/dominance?day=2024-02-30", 422, "day"),
    (f"/v1/coins/bitcoin/market/hourly?{DAY}&format=xml", 422, "format"),
    ("/v1/nothing-here", 404, None),
])
def test_bad_input_is_one_json_line_naming_the_field(
    client: TestClient, key: dict[str, str], url: str, status: int, field: str | None
) -> None:
    assert_error(client.get(url, headers=key), status, field)


def test_a_cursor_only_fits_its_own_query(client: TestClient, key: dict[str, str]) -> None:
    page = client.get(f"/v1/coins/bitcoin/posts?{DAY}&limit=2", headers=key).json()
    assert page["next_cursor"]
    assert_error(client.get(f"/v1/coins/ethereum/posts?{DAY}&limit=2&cursor={page['next_cursor']}", headers=key), 422, "cursor")


def test_an_unexpected_failure_is_a_json_500_without_traceback(client: TestClient, key: dict[str, str], monkeypatch: MonkeyPatch) -> None:
    from cryptopulse.read import queries

    monkeypatch.setattr(queries, "coins", lambda cur: 1 / 0)
    body = assert_error(client.get("/v1/coins", headers=key), 500)
    assert "ZeroDivision" not in body["error"]


def test_a_slow_query_is_interrupted_with_503(api_lake: Settings, key: dict[str, str], monkeypatch: MonkeyPatch) -> None:
    from cryptopulse.read import queries

    monkeypatch.setattr(queries, "coins", lambda cur: cur.sql("SELECT sum(i) FROM range(10000000000000) AS t(i)").to_arrow_table())
    refused = client_for(api_lake, query_timeout=0.3).get("/v1/coins", headers=key)
    assert_error(refused, 503)
    assert "too long" in refused.json()["error"]


def test_a_table_not_yet_published_is_a_404_naming_it(api_lake: Settings, key: dict[str, str], tmp_path: Path) -> None:
    shutil.copytree(Path(api_lake.lake) / "published", tmp_path / "lake" / "published")
    lake = Lake(tmp_path / "lake")
    manifest = json.loads(lake.read_bytes("published/_manifest.json"))
    manifest["tables"].pop("mart_coin_daily")
    lake.write_bytes("published/_manifest.json", json.dumps(manifest).encode())
    lake.write_bytes(KEYS_FILE, Lake(api_lake.lake).read_bytes(KEYS_FILE))
    client = client_for(settings_for(tmp_path))
    body = assert_error(client.get("/v1/social/dominance?day=2024-05-20", headers=key), 404)
    assert "mart_coin_daily is not published yet" in body["error"]
    assert client.get("/v1/coins", headers=key).status_code == 200


def test_nothing_published_is_a_503(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    _, secret = create_key(Lake(settings.lake), "early")
    client = client_for(settings)
    assert client.get("/health").json() == {"status": "ok", "version": None}
    assert "nothing published yet" in assert_error(client.get("/v1/coins", headers={"X-API-Key": secret}), 503)["error"]


# -- answers -----------------------------------------------------------------------------------------------------

def test_hourly_and_daily_market_stats_equal_sql(client: TestClient, api_lake: Settings, key: dict[str, str]) -> None:
    hourly = client.get("/v1/coins/ethereum/market/hourly?start=2024-05-20&end=2024-05-23", headers=key).json()
    expected = sql(api_lake, "SELECT strftime(ts_hour, '%Y-%m-%dT%H:%M:%SZ'), price_usd FROM fct_coin_hourly "
                             "WHERE coin_id = 'ethereum' AND ts_hour >= '2024-05-20' AND ts_hour < '2024-05-23' ORDER BY 1")
    assert expected
    assert [(r["ts_hour"], r["price_usd"]) for r in hourly["rows"]] == expected
    daily = client.get("/v1/coins/ethereum/market/daily?start=2024-05-20&end=2024-05-23", headers=key).json()
    highs = sql(api_lake, "SELECT strftime(date, '%Y-%m-%d'), max(price_usd), count(*) FROM fct_coin_hourly "
                          "WHERE coin_id = 'ethereum' AND date BETWEEN '2024-05-20' AND '2024-05-22' GROUP BY 1 ORDER BY 1")
    assert [(r["date"], r["high_usd"], r["hours"]) for r in daily["rows"]] == highs


def test_monthly_aggregate_and_dominance_equal_sql(client: TestClient, api_lake: Settings, key: dict[str, str]) -> None:
    monthly = client.get("/v1/market/monthly?start=2024-05-01&end=2024-06-01", headers=key).json()
    expected = sql(api_lake, "SELECT m.coin_id, m.max_price_usd FROM agg_coin_monthly m JOIN dim_coin USING (coin_id) "
                             "WHERE is_tracked AND month = '2024-05-01' ORDER BY 1")
    assert expected and sorted((r["coin_id"], r["max_price_usd"]) for r in monthly["rows"]) == expected
    shares = client.get("/v1/social/dominance?day=2024-05-20", headers=key).json()["rows"]
    assert sum(r["social_dominance"] for r in shares) >= 0.99  # shares of one day's posts (a post may name two coins)
    expected = sql(api_lake, "SELECT coin_id, posts FROM mart_coin_daily WHERE date = '2024-05-20'")
    assert {(r["coin_id"], r["posts"]) for r in shares} == set(expected)


def test_social_series_counts_the_coins_posts(client: TestClient, api_lake: Settings, key: dict[str, str]) -> None:
    days = client.get("/v1/coins/bitcoin/social?start=2024-05-20&end=2024-05-22", headers=key).json()["rows"]
    hours = client.get("/v1/coins/bitcoin/social?start=2024-05-20&end=2024-05-22&grain=hour", headers=key).json()["rows"]
    assert [d["period"] for d in days] == ["2024-05-20T00:00:00Z", "2024-05-21T00:00:00Z"] and len(hours) == 48
    unflagged = sql(api_lake, "SELECT count(*) FROM bridge_post_coin b JOIN fct_post_sentiment s USING (source, post_id) "
                              "WHERE b.coin_id = 'bitcoin' AND b.date IN ('2024-05-20', '2024-05-21') AND NOT s.is_flagged")[0][0]
    assert sum(d["posts"] for d in days) == sum(h["posts"] for h in hours) == unflagged > 0


def test_csv_and_parquet_hold_the_json_rows(client: TestClient, key: dict[str, str]) -> None:
    url = f"/v1/coins/bitcoin/market/hourly?{DAY}"
    rows = client.get(url, headers=key).json()["rows"]
    csv_body = client.get(url, headers={**key, "Accept": "text/csv"})
    assert csv_body.headers["content-type"].startswith("text/csv")
    lines = csv_body.text.strip().splitlines()
    assert lines[0] == '"ts_hour","price_usd","market_cap_usd","volume_usd"' and len(lines) == len(rows) + 1 > 1
    parquet = client.get(url + "&format=parquet", headers=key)
    assert parquet.headers["content-type"] == "application/vnd.apache.parquet"
    assert pq.read_table(io.BytesIO(parquet.content)).column("price_usd").to_pylist() == [r["price_usd"] for r in rows]


def test_csv_defuses_spreadsheet_formulas(client: TestClient, key: dict[str, str], monkeypatch: MonkeyPatch) -> None:
    from cryptopulse.read import queries

    monkeypatch.setattr(queries, "coins", lambda cur: cur.sql("SELECT '=HYPERLINK(1)' AS coin_id, '-1' AS symbol").to_arrow_table())
    assert client.get("/v1/coins?format=csv", headers=key).text.splitlines()[1] == '"\'=HYPERLINK(1)","\'-1"'


def test_post_pages_hold_every_post_once_even_across_ties(client: TestClient, api_lake: Settings, key: dict[str, str]) -> None:
    expected = sql(api_lake, "SELECT strftime(created_at, '%Y-%m-%dT%H:%M:%SZ'), source, post_id FROM bridge_post_coin b "
                             "JOIN fct_post p USING (source, post_id, date) WHERE b.coin_id = 'bitcoin' "
                             "AND p.created_at >= '2024-05-20' AND p.created_at < '2024-05-21' ORDER BY created_at, source, post_id")
    ties = [i for i, (a, b) in enumerate(itertools.pairwise(expected)) if a[0] == b[0]]
    assert ties, "no two posts of this day share an instant: the data no longer tests ties"
    limit = ties[0] + 1  # the first page ends inside a tie
    url, pages, cursor = f"/v1/coins/bitcoin/posts?{DAY}&limit={limit}", [], ""
    while True:
        page = client.get(url + cursor, headers=key).json()
        pages.append([(p["created_at"], p["source"], p["post_id"]) for p in page["rows"]])
        if page["next_cursor"] is None:
            break
        cursor = f"&cursor={page['next_cursor']}"
    assert len(pages) >= 2 and pages[0][-1][0] == pages[1][0][0]
    assert [post for page in pages for post in page] == expected


def test_runs_come_from_the_run_log(client: TestClient, api_lake: Settings, key: dict[str, str]) -> None:
    from cryptopulse.lake.runlog import recent_runs

    runs = client.get("/v1/runs", headers=key).json()["rows"]
    assert [r["run_id"] for r in runs] == [r["run_id"] for r in recent_runs(Lake(api_lake.lake))] and runs
    assert {r["status"] for r in runs} <= {"ok", "gate_failed", "failed", "refused"}


def test_freshness_names_each_source(client: TestClient, api_lake: Settings, key: dict[str, str]) -> None:
    rows = client.get("/v1/freshness", headers=key).json()["rows"]
    newest_post = sql(api_lake, "SELECT strftime(max(created_at), '%Y-%m-%dT%H:%M:%SZ') FROM fct_post")[0][0]
    assert {(r["dataset"], r["source"]) for r in rows} == {("coin_hourly", "synthetic"), ("posts", "synthetic")}
    assert next(r for r in rows if r["dataset"] == "posts")["newest"] == newest_post
    assert all(r["stale"] is False for r in rows)


# -- command line ------------------------------------------------------------------------------------------------

def test_api_key_commands(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    runner, lake = CliRunner(), ["--lake", str(tmp_path / "lake")]
    created = runner.invoke(cli_app, ["api-key", "create", "carol", *lake])
    assert created.exit_code == 0
    secret = created.stdout.strip().splitlines()[0]
    assert secret.startswith("cpk_") and secret not in (tmp_path / "lake" / KEYS_FILE).read_text()
    listed = runner.invoke(cli_app, ["api-key", "list", *lake])
    assert "carol" in listed.stdout and "active" in listed.stdout and secret not in listed.stdout
    again = runner.invoke(cli_app, ["api-key", "create", "carol", *lake])
    assert again.exit_code == 2 and "revoke it first" in again.output
    assert runner.invoke(cli_app, ["api-key", "revoke", "carol", *lake]).exit_code == 0
    assert "revoked" in runner.invoke(cli_app, ["api-key", "list", *lake]).stdout
    bad = runner.invoke(cli_app, ["api-key", "create", "no spaces", *lake])
    assert bad.exit_code == 2 and len(bad.output.strip().splitlines()) == 1


def test_invalid_api_settings_are_one_line(monkeypatch: MonkeyPatch) -> None:
    from typer.testing import CliRunner

    monkeypatch.setenv("CRYPTOPULSE_API_RATE", "fast")
    result = CliRunner().invoke(cli_app, ["serve"])
    assert result.exit_code == 2 and "CRYPTOPULSE_API_RATE" in result.output and "Traceback" not in result.output


def test_lead_lag_and_granger_split_the_latest_analysis(client: TestClient, api_lake: Settings, key: dict[str, str]) -> None:
    xcorr = client.get("/v1/coins/bitcoin/lead-lag", headers=key).json()["rows"]
    granger = client.get("/v1/coins/bitcoin/granger", headers=key).json()["rows"]
    counts = dict(sql(api_lake, "SELECT test LIKE 'granger%', count(*) FROM analysis_lead_lag WHERE coin_id = 'bitcoin' GROUP BY 1"))
    assert len(xcorr) == counts[False] > 0 and len(granger) == counts[True] > 0
    assert {r["test"] for r in xcorr} == {"xcorr"} and all(r["test"].startswith("granger_") for r in granger)
