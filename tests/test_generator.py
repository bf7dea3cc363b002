"""The synthetic generator: documented layout and shapes, determinism, exact counts, planted realism."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from cryptopulse.lake import Lake
from cryptopulse.sources.synthetic import GenerateReport, generate

SCALE = 0.01
SEED = 42
RAW = "raw/synthetic"
CREATED_AT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$")
AMBIGUOUS_BARE = re.compile(r"(?<![$#\w])(one|link|sol|dot|uni)\b")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerateReport]:
    root = tmp_path_factory.mktemp("gen") / "lake"
    return root, generate(Lake(str(root)), scale=SCALE, seed=SEED)


@pytest.fixture(scope="module")
def root(run: tuple[Path, GenerateReport]) -> Path:
    return run[0]


@pytest.fixture(scope="module")
def manifest(root: Path) -> dict:
    return json.loads((root / RAW / "manifest.json").read_text())


@pytest.fixture(scope="module")
def pages(root: Path) -> list[dict]:
    lines = []
    for path in sorted((root / RAW / "x/posts").rglob("*.jsonl.gz")):
        lines += gzip.decompress(path.read_bytes()).decode().splitlines()
    return [json.loads(line) for line in lines]


@pytest.fixture(scope="module")
def tweets(pages: list[dict]) -> list[dict]:
    return [t for page in pages for t in page["data"]]


@pytest.fixture(scope="module")
def distinct(tweets: list[dict]) -> list[dict]:
    """Tweets with repeated-page copies removed (posts without an id are never repeated)."""
    seen, out = set(), []
    for t in tweets:
        if "id" in t and t["id"] in seen:
            continue
        seen.add(t.get("id"))
        out.append(t)
    return out


@pytest.fixture(scope="module")
def markets(root: Path) -> list[dict]:
    return json.loads((root / RAW / "coingecko/coins_markets.json").read_text())


def chart(root: Path, coin_id: str) -> dict[str, list]:
    """All months of one coin's market chart, arrays concatenated."""
    body: dict[str, list] = defaultdict(list)
    for path in sorted((root / RAW / "coingecko/market_chart").glob(f"month=*/{coin_id}.json.gz")):
        for name, points in json.loads(gzip.decompress(path.read_bytes())).items():
            body[name] += points
    return body


def hourly(body: dict[str, list]) -> dict[int, tuple[float, float]]:
    """Valid points, the later one per hour winning: hour -> (price, volume)."""
    out = {}
    for (t, p), (_, v) in zip(body["prices"], body["total_volumes"]):
        if isinstance(t, int) and p is not None and v is not None and p > 0:
            out[t // 3_600_000] = (p, v)
    return out


def detector(markets: list[dict]) -> dict[str, re.Pattern]:
    """Per coin id, a regex for its cashtag, hashtags and name (`Bitcoin Cash` is not Bitcoin)."""
    out = {}
    for c in markets:
        tags = {re.escape(c["symbol"]), re.sub(r"[^a-z0-9]", "", c["name"].lower())}
        name = re.escape(c["name"]) + (r"(?! cash)" if c["id"] == "bitcoin" else "")
        out[c["id"]] = re.compile(rf"\${re.escape(c['symbol'])}\b|#({'|'.join(tags)})\b|\b{name}\b", re.I)
    return out


def test_files_follow_the_documented_layout(root: Path, markets: list[dict], manifest: dict) -> None:
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    months = {"2024-05"}
    expected_charts = {f"{RAW}/coingecko/market_chart/month={m}/{c['id']}.json.gz" for m in months for c in markets}
    expected_charts.add(f"{RAW}/coingecko/market_chart/month=2024-05/unknown-coin-xyz.json.gz")
    days = {f"2024-05-{d:02d}" for d in range(11, 32)}
    expected_posts = {f"{RAW}/x/posts/date={d}/part-0000.jsonl.gz" for d in days}
    singles = {
        f"{RAW}/{name}" for name in ("coingecko/coins_list.json", "coingecko/coins_markets.json", "ground_truth.json", "manifest.json")
    }
    assert set(files) == expected_charts | expected_posts | singles
    assert manifest["files"] == len(files)
    assert manifest["synthetic"] is True
    assert (manifest["start"], manifest["end"], manifest["coins"]) == ("2024-05-11", "2024-06-01", 5)


def test_catalog_has_decoys_and_ranked_markets(root: Path, markets: list[dict]) -> None:
    listed = json.loads((root / RAW / "coingecko/coins_list.json").read_text())
    ids = [c["id"] for c in listed]
    assert ids == sorted(ids) and "unknown-coin-xyz" not in ids
    assert sum(c["symbol"] == "eth" for c in listed) >= 2 and sum(c["symbol"] == "btc" for c in listed) >= 2
    assert [c["market_cap_rank"] for c in markets] == [1, 2, 3, 4, 5]
    assert {c["id"] for c in markets} == {"bitcoin", "ethereum", "tether", "binancecoin", "solana"}
    assert all(m["market_cap"] > 0 and m["current_price"] > 0 for m in markets)


def test_market_chart_points_are_ms_and_float_except_the_planted_malformed(root: Path, markets: list[dict], manifest: dict) -> None:
    kinds: Counter = Counter()
    for coin in markets:
        body = chart(root, coin["id"])
        assert list(body) == ["prices", "market_caps", "total_volumes"]
        for points in zip(*body.values()):
            ts = {p[0] for p in points}
            assert len(ts) == 1, "the three arrays share timestamps position by position"
            if not isinstance(points[0][0], int):
                kinds["price_bad_timestamp"] += 1
                datetime.fromisoformat(points[0][0])  # an ISO string, not a number
            elif any(p[1] is None for p in points):
                kinds["price_null"] += 1
            elif points[0][1] < 0:
                kinds["price_negative"] += 1
            else:
                assert all(isinstance(p[1], float) and p[1] > 0 for p in points)
                assert 1_700_000_000_000 < points[0][0] < 1_800_000_000_000
    unknown = chart(root, "unknown-coin-xyz")["prices"]
    kinds["unknown_coin_points"] = len(unknown)
    expected = {k: v for k, v in manifest["malformed"].items() if k.startswith(("price_", "unknown_"))}
    assert kinds == expected
    assert all(v >= 1 for v in expected.values())


def test_each_hour_has_a_point_and_some_have_two(root: Path, manifest: dict) -> None:
    prices = chart(root, "bitcoin")["prices"]
    hours = Counter(t // 3_600_000 for t, _ in prices if isinstance(t, int))
    assert 21 * 24 - manifest["malformed"]["price_bad_timestamp"] <= len(hours) <= 21 * 24
    same = Counter(t for t, _ in prices)
    assert max(hours.values()) == 2 and max(same.values()) <= 2
    assert manifest["price_second_points"]["hours"] > manifest["price_second_points"]["same_timestamp"] > 0


def test_pages_have_data_includes_and_meta(pages: list[dict]) -> None:
    for page in pages:
        assert set(page) == {"data", "includes", "meta"}
        data, meta = page["data"], page["meta"]
        assert 0 < len(data) <= 100 and meta["result_count"] == len(data)
        ids = [int(t["id"]) for t in data if "id" in t]
        assert ids == sorted(ids, reverse=True), "newest first"
        assert meta["newest_id"] == str(ids[0]) and meta["oldest_id"] == str(ids[-1])
        users = {u["id"] for u in page["includes"]["users"]}
        assert users == {t["author_id"] for t in data}
        for t in data:
            assert set(t["public_metrics"]) == {"retweet_count", "reply_count", "like_count", "quote_count"}


def test_manifest_counts_match_the_post_files(tweets: list[dict], distinct: list[dict], manifest: dict) -> None:
    malformed = manifest["malformed"]
    assert len(tweets) == manifest["posts"] + manifest["duplicates_planted"]
    assert len(distinct) == manifest["posts"]
    assert malformed["duplicate_posts"] == manifest["duplicates_planted"] == len(tweets) - len(distinct) >= 1
    found = Counter()
    for t in distinct:
        found["post_missing_id"] += "id" not in t
        found["post_empty_text"] += t["text"] == ""
        found["post_bad_timestamp"] += not CREATED_AT.match(t["created_at"])
    assert found == {k: v for k, v in malformed.items() if k.startswith("post_")}
    assert all(v >= 1 for v in found.values())
    assert sum(bool(AMBIGUOUS_BARE.search(t["text"])) for t in distinct) == manifest["ambiguous_bare_posts"] > 0


def test_same_seed_gives_identical_bytes_and_another_seed_differs(root: Path, tmp_path: Path) -> None:
    def digests(lake_root: Path) -> dict[str, str]:
        return {
            str(p.relative_to(lake_root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(lake_root.rglob("*")) if p.is_file()
        }

    generate(Lake(str(tmp_path / "again")), scale=SCALE, seed=SEED)
    generate(Lake(str(tmp_path / "other")), scale=SCALE, seed=SEED + 1)
    same, other = digests(tmp_path / "again"), digests(tmp_path / "other")
    assert same == digests(root)
    assert set(other) == set(same)
    assert sum(other[k] != same[k] for k in same) >= len(same) - 2


def test_retweets_multi_coin_posts_and_bots_have_realistic_shares(distinct: list[dict], markets: list[dict], manifest: dict) -> None:
    texts = [t["text"] for t in distinct]
    retweets = sum(t.startswith("RT @") for t in texts)
    emptied = manifest["malformed"]["post_empty_text"]  # an emptied retweet no longer starts with "RT @"
    assert manifest["post_kinds"]["retweet"] - emptied <= retweets <= manifest["post_kinds"]["retweet"]
    assert 0.26 < retweets / len(texts) < 0.34
    patterns = detector(markets).values()
    multi = sum(sum(bool(p.search(t)) for p in patterns) >= 2 for t in texts)
    assert 0.07 < multi / len(texts) < 0.13
    bots = set(manifest["bots"])
    assert 5 <= len(bots) <= 10
    spam = [t["text"] for t in distinct if t["author_id"] in bots]
    assert all("AIRDROP" in s for s in spam) and len(set(spam)) <= len(bots) < len(spam) / 10


def test_ambiguous_words_alone_are_no_mentions(distinct: list[dict], markets: list[dict]) -> None:
    patterns = detector(markets).values()
    noise = [t["text"] for t in distinct if t["text"] in ("sol y playa ☀️🏖️", "link in bio", "just one of those days")]
    assert noise and not any(p.search(t) for p in patterns for t in noise)


def test_ground_truth_plants_some_coins_and_not_stablecoins(root: Path, markets: list[dict]) -> None:
    truth = json.loads((root / RAW / "ground_truth.json").read_text())
    assert set(truth) == {c["id"] for c in markets}
    assert truth["tether"] == {"lead_hours": None, "strength": 0.0}
    for coin in ("bitcoin", "ethereum"):
        assert 1 <= truth[coin]["lead_hours"] <= 6 and 0.2 <= truth[coin]["strength"] <= 0.4


def test_volume_and_post_counts_rise_with_absolute_returns(root: Path, distinct: list[dict], markets: list[dict]) -> None:
    series = hourly(chart(root, "bitcoin"))
    hours = sorted(series)
    price = np.array([series[h][0] for h in hours])
    volume = np.array([series[h][1] for h in hours])
    abs_r = np.abs(np.diff(np.log(price)))
    assert np.corrcoef(abs_r, volume[1:])[0, 1] > 0.3
    mentions = detector(markets)["bitcoin"]
    per_hour = Counter(
        int(datetime.fromisoformat(t["created_at"]).timestamp()) // 3600
        for t in distinct
        if CREATED_AT.match(t["created_at"]) and mentions.search(t["text"])
    )
    counts = np.array([per_hour[h] for h in hours[1:]])
    assert np.corrcoef(abs_r, counts)[0, 1] > 0.3


def test_the_report_counts_what_the_files_hold(
    run: tuple[Path, GenerateReport], markets: list[dict], pages: list[dict], tweets: list[dict], distinct: list[dict], manifest: dict
) -> None:
    root, report = run
    files = [p for p in root.rglob("*") if p.is_file()]
    points = sum(len(chart(root, c["id"])["prices"]) for c in markets)
    days = sorted(p.parent.name.removeprefix("date=") for p in (root / RAW / "x/posts").glob("date=*/*.jsonl.gz"))
    assert (report.coins, report.coin_hours, report.price_points) == (len(markets), len(markets) * 24 * len(days), points)
    assert (report.posts, report.pages, report.files) == (len(distinct), len(pages), len(files))
    assert report.duplicates_planted == len(tweets) - len(distinct)
    assert (report.start, report.end) == (days[0], "2024-06-01") and days[-1] == "2024-05-31"
    assert (report.scale, report.seed) == (SCALE, SEED)
    assert {k: manifest[k] for k in report.as_dict()} == report.as_dict()  # the manifest records the report
    assert manifest["generated_at"] == "2024-06-01T00:00:00Z"
