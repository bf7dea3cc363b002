"""Property (issue 13): whatever raw X pages, Reddit listings and CoinGecko charts hold, staging never raises and
accounts for every record exactly once: received = staged + duplicates + quarantined, per day and per run, and
received is the number of records the files hold (counted here, from what was written)."""

from __future__ import annotations

import gzip
import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cryptopulse.lake import Lake
from cryptopulse.staging import stage
from rawfiles import COINS_LIST, COINS_MARKETS, T0

DAYS = ("2024-01-01", "2024-01-02", "2024-01-03")
text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=6)
scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False, allow_infinity=False), text)
anything = st.recursive(scalars, lambda inner: st.lists(inner, max_size=2) | st.dictionaries(text, inner, max_size=2), max_leaves=4)
timestamps = st.one_of(
    st.sampled_from(["2024-01-01T10:00:00.000Z", "2024-01-02T23:59:59Z", "2024-01-03T00:30:00+01:00", "2023-12-31T23:00:00Z",
                     "2024-01-20T00:00:00Z", "1900-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "yesterday", ""]),
    anything,
)
counts = st.one_of(st.integers(0, 1000), st.sampled_from(["12", "lots", 1e30, -1, 2.5]), anything)


def maybe(**fields: st.SearchStrategy) -> st.SearchStrategy:
    """Objects holding any subset of `fields`."""
    return st.fixed_dictionaries({}, optional=fields)


tweets = maybe(
    id=st.one_of(st.sampled_from(["1", "2", "3", ""]), anything),
    text=st.one_of(st.sampled_from(["$btc up", "  ", "[thread] eth"]), anything),
    created_at=timestamps,
    author_id=st.one_of(st.just("7"), anything),
    lang=anything,
    public_metrics=st.one_of(maybe(like_count=counts, retweet_count=counts), anything),
)
children = maybe(
    kind=st.just("t3"),
    data=st.one_of(
        maybe(name=st.one_of(st.sampled_from(["t3_a", "t3_b"]), anything), title=st.one_of(st.just("btc"), anything),
              selftext=anything, author=anything, created_utc=st.one_of(st.sampled_from([1704110400.0, "1704110400", 0, 1e300]),
                                                                        anything),
              score=counts, num_comments=counts, subreddit=anything),
        anything,
    ),
)
points = st.one_of(st.tuples(st.one_of(st.sampled_from([T0 + 60_000, T0 + 3_600_000, T0 + 30 * 86_400_000, 0]), anything),
                             st.one_of(st.floats(0, 1e6), anything)).map(list), anything)
arrays = st.one_of(st.lists(points, max_size=4), anything)
charts = st.one_of(maybe(prices=arrays, market_caps=arrays, total_volumes=arrays), anything)


def page_lines(records: st.SearchStrategy, listing: bool) -> st.SearchStrategy:
    """Lines of a JSON Lines file of pages (X) or listings (Reddit); some lines are no page, or no JSON at all."""
    wrap = (lambda rs: {"kind": "Listing", "data": {"children": rs}}) if listing else (lambda rs: {"data": rs})
    line = st.one_of(
        st.lists(st.one_of(records, anything), max_size=4).map(wrap),
        maybe(data=anything) if not listing else maybe(data=st.one_of(maybe(children=anything), anything)),
        anything,
    ).map(json.dumps)
    return st.lists(st.one_of(line, st.just('{"data": [{"id": ')), max_size=4)


def held(line: str, listing: bool) -> int:
    """How many records a line holds: its page's records, or 1 when the line is no page."""
    try:
        page = json.loads(line)
    except ValueError:
        return 1
    if not isinstance(page, dict):
        return 1
    data = page.get("data")
    if listing:
        if data is None:
            return 0
        if not isinstance(data, dict):
            return 1
        data = data.get("children")
    return 1 if data is not None and not isinstance(data, list) else len(data or [])


def chart_points(chart: object) -> int:
    """How many records a chart file holds: its points, or 1 when it is no chart."""
    if not isinstance(chart, dict):
        return 1
    arrays = [chart.get(k) for k in ("prices", "market_caps", "total_volumes")]
    if any(a is not None and not isinstance(a, list) for a in arrays):
        return 1
    return max((len(a) for a in arrays if a is not None), default=0)


def write_lake(root: Path, x: list[list[str]], reddit: list[list[str]], prices: list[object]) -> Lake:
    lake = Lake(str(root))
    lake.write_bytes("raw/test/coingecko/coins_list.json", json.dumps(COINS_LIST).encode())
    lake.write_bytes("raw/test/coingecko/coins_markets.json", json.dumps(COINS_MARKETS).encode())
    for i, lines in enumerate(x):
        lake.write_bytes(f"raw/test/x/posts/date={DAYS[i % 3]}/p{i}.jsonl.gz", gzip.compress("\n".join(lines).encode()))
    for i, lines in enumerate(reddit):
        lake.write_bytes(f"raw/test/reddit/posts/date={DAYS[i % 3]}/r{i}.jsonl.gz", gzip.compress("\n".join(lines).encode()))
    for i, chart in enumerate(prices):
        coin = ("bitcoin", "ethereum", "nocoin")[i % 3]
        lake.write_bytes(f"raw/test/coingecko/market_chart/month=2024-01/{coin}@{i}.json.gz", gzip.compress(json.dumps(chart).encode()))
    return lake


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    x=st.lists(page_lines(tweets, listing=False), max_size=3),
    reddit=st.lists(page_lines(children, listing=True), max_size=2),
    prices=st.lists(charts, max_size=3),
)
def test_staging_accounts_for_every_record_whatever_it_holds(x, reddit, prices):
    expected = {
        "posts": sum(held(line, False) for lines in x for line in lines) + sum(held(line, True) for lines in reddit for line in lines),
        "coin_hourly": sum(chart_points(c) for c in prices),
    }
    with tempfile.TemporaryDirectory() as tmp:
        lake = write_lake(Path(tmp) / "lake", x, reddit, prices)
        results, covered = stage(lake, None)
        got = {r.dataset: r for r in results}
        for dataset, n in expected.items():
            if covered is None:
                assert n == 0
                continue
            r = got[dataset]
            assert r.received == n, (dataset, r)
            assert r.received == r.staged + r.duplicates + r.quarantined, r
        for path in Path(tmp, "lake", "staged").glob("*/date=*/_stats.json"):
            s = json.loads(path.read_text())
            assert s["received"] == s["staged"] + s["duplicates"] + s["quarantined"], (path, s)
