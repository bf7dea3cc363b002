"""Import prices and coins: chart points → `market_chart` JSON per month (`<coin_id>@<file-slug>.json.gz`);
`/coins/list` and `/coins/markets` files → `raw/import/coingecko/coins_{list,markets}.json`."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from typing import Any

from cryptopulse.lake import Lake
from cryptopulse.sources.importers import land
from cryptopulse.sources.importers.detect import Parsed
from cryptopulse.sources.importers.errors import ImportFileError
from cryptopulse.sources.importers.messy import clean_id, parse_number, parse_timestamp
from cryptopulse.sources.importers.reading import Row
from cryptopulse.sources.importers.report import ImportReport


def require_volume(parsed: Parsed) -> None:
    """Staging needs a volume for every point: a chart file without any volume column cannot be imported."""
    if not any(("volume" in r.values or "volume_base" in r.values) for r in parsed.rows if r.problem is None):
        raise ImportFileError(f"{parsed.path}: no volume column (map one with --map COLUMN=volume)")


def import_chart(lake: Lake, parsed: Parsed, coin: str, report: ImportReport, dry_run: bool = False) -> None:
    """Type every point, count duplicate timestamps and rejects, and land one `market_chart` body per month (unless
    `dry_run`)."""
    has_cap = any("market_cap" in r.values for r in parsed.rows)
    by_month: dict[str, dict[int, tuple[float, float, float | None]]] = defaultdict(dict)
    seen: set[int] = set()
    for row in parsed.rows:
        report.read += 1
        point = _point(row, has_cap, report)
        if point is None:
            continue
        ts_ms = point[0]
        if ts_ms in seen:
            report.duplicates += 1
            continue
        seen.add(ts_ms)
        by_month[_month(ts_ms)][ts_ms] = point[1:]
        report.loaded += 1
        report.show({"coin": coin, "timestamp": _iso(ts_ms), "price": point[1], "volume": point[2],
                     **({"market_cap": point[3]} if has_cap else {})})
    if not has_cap:
        report.notes.append("the file has no market cap: charts are landed without `market_caps` (market cap NULL)")
    if dry_run:
        return
    slug = land.file_slug(parsed.path)
    files = {f"{land.CHARTS}/month={month}/{coin}@{slug}.json.gz": land.gz_json(_chart(points, has_cap))
             for month, points in sorted(by_month.items())}
    report.landed = land.replace_files(lake, slug, files)


def _point(row: Row, has_cap: bool, report: ImportReport) -> tuple[int, float, float, float | None] | None:
    if row.problem:
        report.reject(row, row.problem)
        return None
    v = row.values
    ts = parse_timestamp(v.get("timestamp"))
    if ts is None:
        report.reject(row, "bad_timestamp", f"timestamp {v.get('timestamp')!r}")
        return None
    price = parse_number(v.get("price"))
    volume = parse_number(v.get("volume")) if "volume" in v else _times(parse_number(v.get("volume_base")), price)
    cap = parse_number(v.get("market_cap")) if has_cap else None
    for name, value in (("price", price), ("volume", volume), *((("market_cap", cap),) if has_cap else ())):
        if value is None:
            report.reject(row, "bad_number", f"{name} {v.get(name)!r}")
            return None
    return round(ts.timestamp() * 1000), price, volume, cap  # type: ignore[return-value]


def _times(a: float | None, b: float | None) -> float | None:
    return a * b if a is not None and b is not None else None


def _month(ts_ms: int) -> str:
    return _iso(ts_ms)[:7]


def _iso(ts_ms: int) -> str:
    return dt.datetime.fromtimestamp(ts_ms / 1000, tz=dt.UTC).isoformat().replace("+00:00", "Z")


def _chart(points: dict[int, tuple[float, float, float | None]], has_cap: bool) -> dict[str, Any]:
    ordered = sorted(points.items())
    chart: dict[str, Any] = {"prices": [[ts, p] for ts, (p, _, _) in ordered]}
    if has_cap:
        chart["market_caps"] = [[ts, c] for ts, (_, _, c) in ordered]
    chart["total_volumes"] = [[ts, v] for ts, (_, v, _) in ordered]
    return chart


def import_coins(lake: Lake, parsed: Parsed, report: ImportReport, dry_run: bool = False) -> None:
    """A coin list or markets file → one array at the fixed import path (the last imported list of a kind wins)."""
    seen: set[str] = set()
    coins = []
    for row in parsed.rows:
        report.read += 1
        coin_id = clean_id(row.values.get("id"))
        if row.problem or not coin_id:
            report.reject(row, row.problem or "missing_id")
            continue
        if coin_id in seen:
            report.duplicates += 1
            continue
        seen.add(coin_id)
        coins.append({**row.values, "id": coin_id})
        report.loaded += 1
        report.show({k: coins[-1].get(k) for k in ("id", "symbol", "name", "market_cap_rank") if k in coins[-1]})
    if dry_run:
        return
    relpath = land.COINS_LIST if parsed.shape == "coins_list" else land.COINS_MARKETS
    lake.write_bytes(relpath, json.dumps(coins, ensure_ascii=False).encode())
    report.landed = [relpath]
