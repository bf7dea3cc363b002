"""Reddit source against a local fake: OAuth, exact posts despite faults, stop at the cursor, resume after a kill, secrets."""

from __future__ import annotations

import collections
import datetime as dt
import gzip
import json
import logging
from pathlib import Path

import pytest

from cryptopulse.lake import Lake
from cryptopulse.sources.http import SourceError
from cryptopulse.sources.reddit import RedditClient, ReplayClient, ingest_reddit
from fakeapi import SECRET, FakeAPI, Faults, KilledAfter, make_reddit_posts, reddit_routes
from test_sources_http import Sleeps, only_local

NOW = dt.datetime(2024, 3, 10, 12, 0, tzinfo=dt.UTC)
START, END = dt.date(2024, 3, 4), dt.date(2024, 3, 11)
SUBS = ["CryptoCurrency", "Bitcoin"]
CLIENT_ID = "client-id-42"
AGENT = "cryptopulse/0.1.0 (by /u/cryptopulse_tests)"
NEW = r"/r/[^/]+/new"


def corpus_until(until: dt.datetime) -> dict[str, list[dict]]:
    begin = dt.datetime(2024, 3, 1, tzinfo=dt.UTC)
    return {"CryptoCurrency": make_reddit_posts("CryptoCurrency", begin, until, every_minutes=10),
            "Bitcoin": make_reddit_posts("Bitcoin", begin, until, every_minutes=50)}


@pytest.fixture
def corpus():
    return corpus_until(NOW)


@pytest.fixture
def quota():
    return {}


@pytest.fixture
def api(monkeypatch, corpus, quota):
    server = FakeAPI()
    server.token = reddit_routes(server, corpus, CLIENT_ID, SECRET, quota=quota)
    monkeypatch.setenv("REDDIT_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("REDDIT_CLIENT_SECRET", SECRET)
    monkeypatch.setenv("CRYPTOPULSE_REDDIT_BASE_URL", server.url)
    monkeypatch.setenv("CRYPTOPULSE_REDDIT_AUTH_URL", server.url + "/api/v1/access_token")
    monkeypatch.delenv("CRYPTOPULSE_REDDIT_USER_AGENT", raising=False)
    yield server
    server.close()


def client(**options) -> RedditClient:
    defaults = {"user_agent": AGENT, "calls_per_minute": 60_000, "timeout": 1.0, "backoff_base": 0.01, "backoff_max": 0.05,
                "sleep": Sleeps()}
    return only_local(RedditClient(**{**defaults, **options}))


def ingest(lake: Lake, **kwargs):
    return ingest_reddit(lake, **{"subreddits": SUBS, "start": START, "end": END, "client": client(), **kwargs})


def expected_names(corpus: dict[str, list[dict]]) -> set[str]:
    lo = dt.datetime.combine(START, dt.time(), dt.UTC).timestamp()
    return {c["data"]["name"] for posts in corpus.values() for c in posts if c["data"]["created_utc"] >= lo}


def landed(lake: Lake) -> list[tuple[str, dict]]:
    return [(path, json.loads(line)) for path in lake.glob("raw/reddit/reddit/posts/date=*/*.jsonl.gz")
            for line in gzip.decompress(lake.read_bytes(path)).splitlines()]


def landed_names(lake: Lake) -> list[str]:
    return [c["data"]["name"] for _, page in landed(lake) for c in page["data"]["children"]]


def test_exactly_the_windows_posts_land_once_despite_faults(tmp_path, api, corpus):
    api.inject(r"/api/v1/access_token", Faults.status(503))
    faults = [
        Faults.transform(lambda body, req: {"kind": "Listing", "data": {"after": req.params.get("after"), "children": []}}),  # empty
        Faults.repeat(),
        Faults.status(429, headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": "3"}),
        Faults.status(500), Faults.status(502), Faults.hang(2.0), Faults.truncated(), Faults.invalid_json(), Faults.cut(),
    ]
    for i, fault in enumerate(faults):
        api.inject(NEW, fault, after=1 + 2 * i)
    lake = Lake(tmp_path)
    sleeps = Sleeps()
    report = ingest(lake, client=client(sleep=sleeps))
    names = landed_names(lake)
    assert collections.Counter(names).most_common(1)[0][1] == 1
    assert set(names) == expected_names(corpus)
    assert report.records == len(names) and report.retries == 7 + 1 and report.repeated == 100
    assert 3.0 in sleeps  # the 429 waited for the reset the headers announced
    for path, page in landed(lake):  # one line per day of posts
        days = {dt.datetime.fromtimestamp(c["data"]["created_utc"], dt.UTC).date() for c in page["data"]["children"]}
        assert {f"date={d}" for d in days} == {path.split("/")[4]}
        assert page["kind"] == "Listing" and page["_request"]["url"] in ("/r/CryptoCurrency/new", "/r/Bitcoin/new")
    assert {r.headers["user-agent"] for r in api.requests} == {AGENT}
    assert {r.params["limit"] for r in api.requests if r.path.endswith("/new")} == {"100"}


def test_paging_stops_at_the_cursor_on_a_rerun(tmp_path, api, corpus):
    lake = Lake(tmp_path)
    ingest(lake)
    before = set(landed_names(lake))
    later = NOW + dt.timedelta(hours=2)
    corpus.update(corpus_until(later))
    first = len(api.requests)
    report = ingest(lake)
    listings = [r.path for r in api.requests[first:] if r.path.startswith("/r/")]
    assert listings == ["/r/CryptoCurrency/new", "/r/Bitcoin/new"]  # one page each, then stop at the cursor
    assert report.records == len(expected_names(corpus) - before) > 0
    assert sorted(landed_names(lake)) == sorted(expected_names(corpus))


@pytest.mark.parametrize("pages_before_kill", [2, 5])
def test_a_killed_run_then_a_rerun_equals_an_uninterrupted_run(tmp_path, api, pages_before_kill):
    whole, resumed = Lake(tmp_path / "whole"), Lake(tmp_path / "resumed")
    ingest(whole)
    with pytest.raises(KeyboardInterrupt):
        ingest(resumed, client=KilledAfter(client(), "new", pages_before_kill))
    ingest(resumed)
    assert sorted(landed_names(resumed)) == sorted(landed_names(whole))
    cursors = json.loads(resumed.read_bytes("raw/reddit/_state/cursors.json"))
    assert cursors == json.loads(whole.read_bytes("raw/reddit/_state/cursors.json"))
    assert set(cursors) == {"cryptocurrency", "bitcoin"} and "pending" not in cursors["bitcoin"]


def test_an_expired_token_is_renewed_once(tmp_path, api):
    live = client()
    ingest(Lake(tmp_path), client=live, subreddits=["Bitcoin"])
    api.token["token"] = "tok-SECRET-renewed"
    ingest(Lake(tmp_path), client=live, subreddits=["Bitcoin"])
    assert api.token["issued"] == 2


def test_quota_headers_pause_until_the_reset(tmp_path, api, quota):
    quota.update(remaining=3, reset_in=45)
    sleeps = Sleeps()
    ingest(Lake(tmp_path), client=client(sleep=sleeps))
    assert any(44 < s <= 45 for s in sleeps)


def test_a_user_agent_is_required(api):
    with pytest.raises(SourceError, match="unique User-Agent is required"):
        RedditClient(user_agent="  ")


def test_missing_or_wrong_credentials_are_clear_errors(tmp_path, api, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("REDDIT_CLIENT_SECRET", SECRET + "-wrong")
    with pytest.raises(SourceError, match="refused the app credentials") as refused:
        ingest(Lake(tmp_path))
    assert SECRET not in str(refused.value)
    monkeypatch.delenv("REDDIT_CLIENT_SECRET")
    with pytest.raises(SourceError, match="set REDDIT_CLIENT_ID and REDDIT_CLIENT_SECRET"):
        RedditClient(user_agent=AGENT)


def test_secrets_and_the_token_never_reach_logs_or_the_lake(tmp_path, api, caplog):
    caplog.set_level(logging.DEBUG)
    api.inject(NEW, Faults.status(503), Faults.hang(2.0))
    ingest(Lake(tmp_path))
    assert SECRET not in caplog.text and "tok-SECRET-abc" not in caplog.text
    for path in Path(tmp_path).rglob("*"):
        if path.is_file():
            data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
            assert b"SECRET" not in data, path


def test_the_replay_client_serves_landed_listings_like_the_live_api(tmp_path, api):
    live, replayed = Lake(tmp_path / "live"), Lake(tmp_path / "replayed")
    ingest(live)
    ingest(replayed, client=ReplayClient(tmp_path / "live/raw/reddit/reddit/posts"))
    assert sorted(landed_names(replayed)) == sorted(landed_names(live))

