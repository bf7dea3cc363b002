"""Tiny hand-written raw zones for tests: every row is literal, so expected results can be too."""

from __future__ import annotations

import gzip
import json

from cryptopulse.lake import Lake

COINS_LIST = [
    {"id": "bitcoin", "symbol": "btc", "name": "Bitcoin"},
    {"id": "ethereum", "symbol": "eth", "name": "Ethereum"},
    {"id": "harmony", "symbol": "one", "name": "Harmony"},
    {"id": "bitcoin-cash", "symbol": "bch", "name": "Bitcoin Cash"},
    {"id": "ethereum-wormhole", "symbol": "eth", "name": "Ethereum (Wormhole)"},
]
COINS_MARKETS = [
    {"id": "bitcoin", "symbol": "btc", "name": "Bitcoin", "market_cap_rank": 1},
    {"id": "ethereum", "symbol": "eth", "name": "Ethereum", "market_cap_rank": 2},
    {"id": "harmony", "symbol": "one", "name": "Harmony", "market_cap_rank": 150},
    {"id": "bitcoin-cash", "symbol": "bch", "name": "Bitcoin Cash", "market_cap_rank": 19},
]
H = 3_600_000  # one hour in ms
T0 = 1_704_067_200_000  # 2024-01-01T00:00:00Z


def tweet(i: str, text: str, created_at: str, author: str = "1") -> dict:
    return {
        "id": i,
        "text": text,
        "created_at": created_at,
        "author_id": author,
        "lang": "en",
        "public_metrics": {"retweet_count": 1, "reply_count": 0, "like_count": 2, "quote_count": 0},
    }


def page(tweets: list[dict]) -> str:
    users = [{"id": a, "username": f"user{a}", "name": f"User {a}"} for a in sorted({t.get("author_id") for t in tweets})]
    return json.dumps({"data": tweets, "includes": {"users": users}, "meta": {"result_count": len(tweets)}})


def chart(points: list[tuple[object, object, object, object]]) -> dict:
    return {
        "prices": [[ts, p] for ts, p, _, _ in points],
        "market_caps": [[ts, m] for ts, _, m, _ in points],
        "total_volumes": [[ts, v] for ts, _, _, v in points],
    }


def write_tiny_lake(lake: Lake) -> None:
    """Two days (2024-01-01 and 02) of two priced coins, seven good posts, one of each malformed kind."""
    lake.write_bytes("raw/test/coingecko/coins_list.json", json.dumps(COINS_LIST).encode())
    lake.write_bytes("raw/test/coingecko/coins_markets.json", json.dumps(COINS_MARKETS).encode())
    for coin, base in (("bitcoin", 42000.0), ("ethereum", 2300.0)):
        points = [(T0 + h * H + 5000, base + h, base * 19e6, 1e9 + h) for h in range(48)]
        points.insert(3, (T0 + 2 * H + 1000, base - 1, base * 19e6, 1e9))  # earlier point in hour 2: superseded
        lake.write_bytes(f"raw/test/coingecko/market_chart/month=2024-01/{coin}.json.gz",
                         gzip.compress(json.dumps(chart(points)).encode(), mtime=0))
    bad = chart([(T0 + 5000, 1.0, 1.0, 1.0), (T0 + H + 5000, -1.0, 1.0, 1.0), ("oops", 1.0, 1.0, 1.0)])
    lake.write_bytes("raw/test/coingecko/market_chart/month=2024-01/unknown-coin.json.gz",
                     gzip.compress(json.dumps(bad).encode(), mtime=0))
    day1 = [
        tweet("1", "$BTC and $ETH both pumping, great day", "2024-01-01T01:15:00.000Z"),
        tweet("2", "One more day of #bitcoin hodl. Link in bio", "2024-01-01T02:00:00.000Z"),
        tweet("3", "ethereum ethereum ETH $eth", "2024-01-01T23:59:59.000Z", author="2"),
        tweet("", "no id here $btc", "2024-01-01T03:00:00.000Z"),
        tweet("4", "bad time $btc", "not-a-date"),
    ]
    day2 = [
        tweet("5", "sol y playa, nothing about coins", "2024-01-02T10:00:00.000Z"),
        tweet("6", "   ", "2024-01-02T11:00:00.000Z"),
        tweet("7", "$harmony? no: $ONE and #one to the moon", "2024-01-02T12:30:00.000Z", author="3"),
        tweet("8", "Bitcoin Cash is not bitcoin. bitcoin cash!", "2024-01-02T13:00:00.000Z", author="3"),
        tweet("9", "Bitcoin Cash pumps", "2024-01-02T14:00:00.000Z", author="3"),
    ]
    for day, tweets in (("2024-01-01", day1), ("2024-01-02", day2)):
        lines = [page(tweets)]
        if day == "2024-01-02":
            lines.append(page(tweets[-1:]))  # a repeated page: post 7 arrives twice
        lake.write_bytes(f"raw/test/x/posts/date={day}/part-0000.jsonl.gz",
                         gzip.compress("\n".join(lines).encode(), mtime=0))


def reddit_child(name: str, title: str, body: str, created_utc: float | None, score: int = 5, comments: int = 2) -> dict:
    return {
        "kind": "t3",
        "data": {
            "name": name,
            "title": title,
            "selftext": body,
            "author": "hodler42",
            "author_fullname": "t2_abc",
            "created_utc": created_utc,
            "score": score,
            "num_comments": comments,
            "subreddit": "CryptoCurrency",
        },
    }


def write_reddit(lake: Lake) -> None:
    """One day of r/CryptoCurrency/new: three posts, one without a timestamp, one page fetched twice."""
    listing = {
        "kind": "Listing",
        "data": {
            "after": "t3_c",
            "children": [
                reddit_child("t3_a", "Is $ETH undervalued?", "Thinking about bitcoin too.", 1704110400.0, score=120, comments=45),
                reddit_child("t3_b", "Daily discussion", "", 1704114000.0),
                reddit_child("t3_c", "broken", "no time", None),
            ],
        },
    }
    line = json.dumps(listing)
    lake.write_bytes("raw/reddit/reddit/posts/date=2024-01-01/part-0000.jsonl.gz",
                     gzip.compress((line + "\n" + line).encode(), mtime=0))
