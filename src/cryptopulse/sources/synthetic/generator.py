"""Generate the synthetic reference dataset into a lake's raw zone, streaming month by month."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import timedelta

from cryptopulse.lake.store import Lake
from cryptopulse.sources.synthetic import catalog, posts, prices
from cryptopulse.sources.synthetic.catalog import END, UNKNOWN_COIN_ID

ROOT = "raw/synthetic"
CHART_DIR = f"{ROOT}/coingecko/market_chart"
POSTS_DIR = f"{ROOT}/x/posts"
FORMAT_VERSION = 1

Progress = Callable[[str, int, int], None]

# What each `malformed` count counts (all are records as written to the files):
COUNT_DEFINITIONS = {
    "post_missing_id": "tweet objects without an 'id' key",
    "post_bad_timestamp": "tweet objects whose created_at is not a parseable timestamp",
    "post_empty_text": "tweet objects whose text is the empty string",
    "price_negative": "market_chart points (one timestamp across the three arrays) with a negative price",
    "price_null": "market_chart points with a null value in exactly one of the three arrays",
    "price_bad_timestamp": "market_chart points whose timestamp is an ISO string in all three arrays",
    "unknown_coin_points": f"points in the one market_chart file of '{UNKNOWN_COIN_ID}' (not in coins_list.json)",
    "duplicate_posts": "tweet objects in repeated page lines (each repeats an id written on the line before)",
}


@dataclass(frozen=True)
class GenerateReport:
    """What `generate` wrote: sizes, planted duplicates and malformed records, bots, the date range."""

    scale: float
    seed: int
    start: str
    end: str
    coins: int
    coin_hours: int
    price_points: int  # points in tracked coins' charts, second points and malformed ones included
    posts: int  # distinct tweet objects, malformed included, repeated-page copies not
    pages: int  # page lines, repeated ones included
    files: int  # every file written, manifest included
    duplicates_planted: int  # tweet objects in repeated pages (== malformed["duplicate_posts"])
    malformed: dict[str, int]  # kind -> records, see COUNT_DEFINITIONS
    price_second_points: dict[str, int]  # hours with two points; of those, identical timestamps
    post_kinds: dict[str, int]  # original / retweet / ambiguous_only / bot, and multi_coin
    mention_kinds: dict[str, int]  # mention occurrences by how they are written
    ambiguous_bare_posts: int  # posts using SOL/ONE/LINK/DOT/UNI words bare: not mentions
    bots: list[str] = field(default_factory=list)  # author ids of the spam bots

    def as_dict(self) -> dict:
        return asdict(self)


def generate(lake: Lake, scale: float = 1.0, seed: int = 42, progress: Progress | None = None) -> GenerateReport:
    """Write a deterministic synthetic raw zone (same scale and seed: byte-identical files)."""
    plan = catalog.make_plan(scale)
    coins = catalog.build_coins(plan.n_coins, seed)
    truths = catalog.plant_truth(coins, seed)
    ctx = posts.PostContext.build(plan, coins, seed)
    state = prices.MarketState.initial(coins, seed)
    charts, post_stats = prices.ChartStats(), posts.PostStats()
    months = list(plan.months())
    day, last = 0, None
    for month, start, end in months:
        hours = int((end - start).total_seconds() // 3600)
        series = prices.simulate_month(coins, truths, state, month, start, hours, seed)
        _write_charts(lake, coins, series, month, seed, charts)
        day = _write_posts(lake, ctx, series, day, plan.days, post_stats, progress)
        last = series
        _report(progress, "prices", month + 1, len(months))
    unknown_points = _write_unknown(lake, plan, seed)
    _write_catalog(lake, coins, truths, last)
    report = _build_report(plan, seed, coins, ctx, charts, post_stats, unknown_points)
    _write_json(lake, f"{ROOT}/manifest.json", _manifest(report))
    return report


def _report(progress: Progress | None, step: str, done: int, total: int) -> None:
    if progress is not None:
        progress(step, done, total)


def _write_charts(
    lake: Lake, coins: list[catalog.Coin], series: prices.MonthSeries, month: int, seed: int, stats: prices.ChartStats
) -> None:
    """One market_chart file per coin for the month (the first one gets one of each malformed kind)."""
    folder = f"{CHART_DIR}/month={series.start:%Y-%m}"
    for i, coin in enumerate(coins):
        body = prices.render_chart(series, i, month, seed, stats, force_malformed=(month == 0 and i == 0))
        lake.write_bytes(f"{folder}/{coin.id}.json.gz", gzip.compress(body, 6, mtime=0))
        stats.files += 1


def _write_posts(
    lake: Lake, ctx: posts.PostContext, series: prices.MonthSeries, day: int, days: int, stats: posts.PostStats, progress: Progress | None
) -> int:
    """The post files of each day in the month; returns the index of the next day."""
    for offset in range(0, series.price.shape[1], 24):
        start = series.start + timedelta(hours=offset)
        hours = slice(offset, offset + 24)
        files = posts.day_files(ctx, day, start, series.sentiment[:, hours], series.abs_z[:, hours], stats, force_malformed=day == 0)
        for name, data in files:
            lake.write_bytes(f"{POSTS_DIR}/{name}", data)
        day += 1
        _report(progress, "posts", day, days)
    return day


def _write_unknown(lake: Lake, plan: catalog.Plan, seed: int) -> int:
    """The chart of a coin absent from coins_list.json, for the longest month; returns its points."""
    _, start, end = max(plan.months(), key=lambda m: m[2] - m[1])
    body, points = prices.render_unknown_coin(start, int((end - start).total_seconds() // 3600), seed)
    lake.write_bytes(f"{CHART_DIR}/month={start:%Y-%m}/{UNKNOWN_COIN_ID}.json.gz", gzip.compress(body, 6, mtime=0))
    return points


def _write_catalog(lake: Lake, coins: list[catalog.Coin], truths: list[catalog.Truth], last: prices.MonthSeries) -> None:
    """coins_list.json, coins_markets.json (as of the last hour) and ground_truth.json."""
    final = {
        "price": last.price[:, -1],
        "market_cap": last.market_cap[:, -1],
        "volume": last.volume[:, -1],
        "supply": last.supply[:, -1],
    }
    updated = (END - timedelta(minutes=55)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    _write_json(lake, f"{ROOT}/coingecko/coins_list.json", catalog.coins_list(coins))
    _write_json(lake, f"{ROOT}/coingecko/coins_markets.json", catalog.coins_markets(coins, final, updated))
    _write_json(lake, f"{ROOT}/ground_truth.json", catalog.ground_truth(coins, truths))


def _write_json(lake: Lake, relpath: str, body: object) -> None:
    lake.write_bytes(relpath, (json.dumps(body, ensure_ascii=False, indent=1) + "\n").encode())


def _build_report(
    plan: catalog.Plan,
    seed: int,
    coins: list[catalog.Coin],
    ctx: posts.PostContext,
    charts: prices.ChartStats,
    stats: posts.PostStats,
    unknown_points: int,
) -> GenerateReport:
    malformed = Counter({k: 0 for k in COUNT_DEFINITIONS})
    malformed.update(stats.malformed)
    malformed.update(charts.malformed)
    malformed["unknown_coin_points"] = unknown_points
    malformed["duplicate_posts"] = stats.duplicate_posts
    n_json = 4  # coins_list, coins_markets, ground_truth, manifest
    return GenerateReport(
        scale=plan.scale,
        seed=seed,
        start=plan.start.strftime("%Y-%m-%d"),
        end=END.strftime("%Y-%m-%d"),
        coins=len(coins),
        coin_hours=len(coins) * plan.hours,
        price_points=charts.points,
        posts=stats.posts,
        pages=stats.pages,
        files=charts.files + 1 + stats.files + n_json,
        duplicates_planted=stats.duplicate_posts,
        malformed=dict(malformed),
        price_second_points={"hours": charts.second_points, "same_timestamp": charts.same_timestamp},
        post_kinds={k: stats.kinds[k] for k in (*posts.POST_KINDS, "multi_coin")},
        mention_kinds={k: stats.mentions[k] for k in posts.MENTION_KINDS},
        ambiguous_bare_posts=stats.ambiguous_bare_posts,
        bots=[ctx.authors.ids[i] for i in ctx.authors.bot_users.tolist()],
    )


def _manifest(report: GenerateReport) -> dict:
    """The manifest: the report, marked synthetic, stamped with the data's end (not the wall clock)."""
    return {
        "synthetic": True,
        "generator": "cryptopulse.sources.synthetic",
        "format_version": FORMAT_VERSION,
        "generated_at": END.strftime("%Y-%m-%dT%H:%M:%SZ"),
        **report.as_dict(),
        "count_definitions": COUNT_DEFINITIONS,
    }
