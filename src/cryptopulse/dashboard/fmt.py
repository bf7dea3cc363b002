"""Numbers and times as the dashboard prints them (prices keep significant digits, UTC is always named)."""

from __future__ import annotations

import datetime as dt
import math


def price(value: float | None) -> str:
    """A USD price with at least four significant digits: $67,123.45, $0.0001234."""
    if value is None or math.isnan(value):
        return "–"
    if abs(value) >= 1:
        return f"${value:,.2f}"
    digits = max(2, 3 - math.floor(math.log10(abs(value)))) if value else 2
    return f"${value:.{digits}f}"


def usd(value: float | None) -> str:
    """A large USD amount, abbreviated: $1.23 B."""
    if value is None or math.isnan(value):
        return "–"
    for size, unit in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"${value / size:,.2f} {unit}"
    return f"${value:,.2f}"


def pct(value: float | None, digits: int = 2) -> str:
    if value is None or math.isnan(value):
        return "–"
    return f"{value:+.{digits}f} %"


def utc(ts: dt.datetime | str | None) -> str:
    """A timestamp as 'YYYY-MM-DD HH:MM UTC' (naive timestamps in the lake are UTC)."""
    if ts is None or ts != ts:  # None or NaT
        return "–"
    if isinstance(ts, str):
        ts = dt.datetime.fromisoformat(ts)
    if ts.tzinfo is not None:
        ts = ts.astimezone(dt.UTC).replace(tzinfo=None)
    return f"{ts:%Y-%m-%d %H:%M} UTC"


def p_value(p: float) -> str:
    """A p-value readable at any size: 0.032, 4.3e-05, < 1e-300."""
    if p < 1e-300:
        return "< 1e-300"
    return f"{p:.2g}" if p < 0.001 else f"{p:.3f}"
