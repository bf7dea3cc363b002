"""CoinGecko source: the coin list, market ranks and hourly price history, landed per coin per calendar month."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import time
from collections.abc import Iterator
from typing import Any, Protocol

from cryptopulse.interval import Interval
from cryptopulse.lake import Lake
from cryptopulse.sources.coingecko import settings as s
from cryptopulse.sources.coingecko.helpers import CoinGeckoClient, ReplayClient, as_list
from cryptopulse.sources.cursors import CursorStore
from cryptopulse.sources.http import Fetched, SourceError
from cryptopulse.sources.landing import IngestReport, land_json

__all__ = ["CoinGeckoClient", "ReplayClient", "ingest_coingecko", "land_catalog", "land_coin_history", "month_windows"]

log = logging.getLogger("cryptopulse.sources.coingecko")


class Client(Protocol):
    plan: str
    retries: int
    requests: int

    def coins_list(self) -> Fetched: ...
    def coins_markets(self, page: int, per_page: int, ids: list[str] | None = None) -> Fetched: ...
    def market_chart_range(self, coin_id: str, start: dt.datetime, end: dt.datetime) -> Fetched: ...


def ingest_coingecko(
    lake: Lake,
    coins: list[str] | None = None,
    top: int | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    client: Client | None = None,
    now: dt.datetime | None = None,
) -> IngestReport:
    """Land `/coins/list`, `/coins/markets` for the tracked coins, and their hourly charts for [start, end).

    Tracked coins are `coins` plus the `top` N by market cap. History is fetched in whole calendar
    months; a coin's cursor records the months already landed complete, so a rerun fetches only the
    rest (the current, unfinished month is always fetched again).
    """
    if not coins and not top:
        raise SourceError("coingecko: name the coins to ingest or give --top N")
    if start is None or end is None:
        raise SourceError("coingecko: give both start and end dates")
    now = now or dt.datetime.now(dt.UTC)
    if client is None:
        with CoinGeckoClient() as live:
            return ingest_coingecko(lake, coins, top, start, end, live, now)
    _check_history(client.plan, start, now)
    report = IngestReport(source=s.SOURCE)
    with _measured(client, report):
        listed = _land_coins_list(lake, client, report)
        tracked = _land_markets(lake, client, list(coins or []), top, listed, report)
        cursors = CursorStore(lake, s.SOURCE)
        for coin_id in tracked:
            _land_history(lake, client, cursors, coin_id, Interval(start, end), now, report)
    log.info("coingecko: %d coins, %d pages, %d points, %d files, %d retries in %.1f s",
             len(tracked), report.pages, report.records, len(report.files), report.retries, report.seconds)
    return report


def land_catalog(lake: Lake, client: Client, coins: list[str] | None = None, top: int | None = None) -> tuple[list[str], IngestReport]:
    """Land `/coins/list` and `/coins/markets` for the tracked coins; return their ids in rank order.

    With `land_coin_history`, `ingest_coingecko` in pieces: an orchestrator lands the catalogue once, then
    each coin's history as a task of its own.
    """
    if not coins and not top:
        raise SourceError("coingecko: name the coins to ingest or give --top N")
    report = IngestReport(source=s.SOURCE)
    with _measured(client, report):
        listed = _land_coins_list(lake, client, report)
        tracked = _land_markets(lake, client, list(coins or []), top, listed, report)
    return tracked, report


def land_coin_history(lake: Lake, client: Client, coin_id: str, start: dt.date, end: dt.date,
                      now: dt.datetime | None = None) -> IngestReport:
    """Land one coin's hourly chart for the months of [start, end) its cursor lacks (see `ingest_coingecko`)."""
    now = now or dt.datetime.now(dt.UTC)
    _check_history(client.plan, start, now)
    report = IngestReport(source=s.SOURCE)
    with _measured(client, report):
        _land_history(lake, client, CursorStore(lake, s.SOURCE), coin_id, Interval(start, end), now, report)
    return report


@contextlib.contextmanager
def _measured(client: Client, report: IngestReport) -> Iterator[None]:
    """Record in `report` the requests, retries and seconds the block spent."""
    started, retries0, requests0 = time.perf_counter(), client.retries, client.requests
    yield
    report.retries, report.requests = client.retries - retries0, client.requests - requests0
    report.seconds = time.perf_counter() - started


def _check_history(plan: str, start: dt.date, now: dt.datetime) -> None:
    floor = (now - dt.timedelta(days=s.FREE_HISTORY_DAYS)).date()
    if plan in ("public", "demo") and start < floor:
        raise SourceError(f"coingecko: start {start} is before {floor}. {s.PLAN_HINT}")


def _land_coins_list(lake: Lake, client: Client, report: IngestReport) -> set[str]:
    fetched = client.coins_list()
    coins = as_list(fetched.body)
    land_json(lake, s.COINS_LIST_PATH, coins, fetched.request)
    _count(report, s.COINS_LIST_PATH, len(coins))
    return {c["id"] for c in coins if isinstance(c, dict) and c.get("id")}


def _land_markets(lake: Lake, client: Client, coins: list[str], top: int | None, listed: set[str], report: IngestReport) -> list[str]:
    """Land the market rows of the tracked coins (ranked), and return their ids in rank order."""
    unknown = sorted(set(coins) - listed)
    if unknown:
        raise SourceError(f"coingecko: unknown coin id(s) {', '.join(unknown)} (ids, not symbols: see /coins/list)")
    rows: dict[str, dict[str, Any]] = {}
    requests: list[dict[str, Any]] = []
    if top:
        per_page = min(top, s.MARKETS_PAGE_SIZE)
        for page in range(1, -(-top // per_page) + 1):
            fetched = client.coins_markets(page, per_page)
            requests.append(fetched.request)
            batch = as_list(fetched.body)
            rows.update((r["id"], r) for r in batch[: top - len(rows)])
            if len(batch) < per_page:
                break
    missing = [c for c in coins if c not in rows]
    for i in range(0, len(missing), s.MARKETS_PAGE_SIZE):
        fetched = client.coins_markets(1, s.MARKETS_PAGE_SIZE, ids=missing[i : i + s.MARKETS_PAGE_SIZE])
        requests.append(fetched.request)
        rows.update((r["id"], r) for r in as_list(fetched.body))
    ranked = sorted(rows.values(), key=lambda r: (r.get("market_cap_rank") is None, r.get("market_cap_rank") or 0, r["id"]))
    land_json(lake, s.COINS_MARKETS_PATH, ranked, {**requests[0], "pages": len(requests)} if requests else {})
    report.pages += len(requests) - 1
    _count(report, s.COINS_MARKETS_PATH, len(ranked))
    absent = [c for c in coins if c not in rows]
    if absent:
        log.warning("coingecko: no market data for %s; their history is still fetched", ", ".join(absent))
    return [r["id"] for r in ranked] + absent


def month_windows(interval: Interval, now: dt.datetime) -> list[tuple[str, dt.datetime, dt.datetime]]:
    """(`YYYY-MM`, first instant, first instant of the next month) for each calendar month the interval touches, up to now."""
    windows = []
    for month in interval.widen_to_months().months():
        first = dt.datetime.strptime(month, "%Y-%m").replace(tzinfo=dt.UTC)
        after = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        if first < now:
            windows.append((month, first, after))
    return windows


def _land_history(
    lake: Lake, client: Client, cursors: CursorStore, coin_id: str, interval: Interval, now: dt.datetime, report: IngestReport
) -> None:
    """Fetch the months the coin's cursor lacks: newer ones oldest first, then older ones newest first.

    That order keeps the landed complete months one contiguous range (`since` … `through`), so an
    interrupted run leaves a cursor that is exactly right.
    """
    cursor = cursors.get(coin_id)
    windows = month_windows(interval, now)
    newer = [w for w in windows if cursor is None or w[0] > cursor["through"]]
    older = [w for w in reversed(windows) if cursor is not None and w[0] < cursor["since"]]
    report.skipped += len(windows) - len(newer) - len(older)
    floor = now - dt.timedelta(days=s.FREE_HISTORY_DAYS) + dt.timedelta(hours=1)
    for month, first, after in newer + older:
        lo = max(first, floor) if client.plan in ("public", "demo") else first
        hi = min(after - dt.timedelta(seconds=1), now)
        fetched = client.market_chart_range(coin_id, lo, hi)
        path = s.MARKET_CHART_PATH.format(month=month, coin_id=coin_id)
        land_json(lake, path, fetched.body, fetched.request)
        _count(report, path, len(fetched.body.get("prices", [])))
        if lo == first and after <= now:
            cursor = _extend(cursor, month)
            cursors.set(coin_id, cursor)


def _extend(cursor: dict[str, str] | None, month: str) -> dict[str, str] | None:
    """The cursor with `month` added when it touches the landed range (else unchanged: it will be fetched again)."""
    if cursor is None:
        return {"since": month, "through": month}
    if month == _shift(cursor["through"], 1):
        return {**cursor, "through": month}
    if month == _shift(cursor["since"], -1):
        return {**cursor, "since": month}
    return cursor


def _shift(month: str, n: int) -> str:
    year, m = divmod(int(month[:4]) * 12 + int(month[5:]) - 1 + n, 12)
    return f"{year:04d}-{m + 1:02d}"


def _count(report: IngestReport, path: str, records: int) -> None:
    report.pages += 1
    report.records += records
    report.files.append(path)
