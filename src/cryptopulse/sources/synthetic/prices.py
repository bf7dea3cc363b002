"""Hourly coin markets with a planted sentiment lead, rendered as CoinGecko market_chart bodies."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from cryptopulse.sources.synthetic.catalog import Coin, Truth

PHI = 0.5  # AR(1) coefficient of the latent hourly sentiment
MAX_LEAD = 6
T_DF = 4  # student-t degrees of freedom of return shocks (fat tails)
JUMP_RATE = 0.0007
STABLE_PHI = 0.97
DUP_HOUR_RATE = 0.01  # hours that carry a second point
BAD_POINT_RATE = 1.2e-5  # per point, for each malformed kind
PRICE_MALFORMED_KINDS = ("price_negative", "price_null", "price_bad_timestamp")
ARRAYS = ("prices", "market_caps", "total_volumes")


@dataclass
class MarketState:
    """What one month hands to the next, per coin: latent sentiment history, log price, peg deviation."""

    s_hist: np.ndarray  # (coins, MAX_LEAD) last sentiments, oldest first
    logp: np.ndarray
    peg: np.ndarray
    hour: int = 0  # hours simulated so far

    @classmethod
    def initial(cls, coins: list[Coin], seed: int) -> MarketState:
        rng = np.random.default_rng([seed, 0, 3])
        s0 = rng.standard_normal(len(coins))
        s_hist = np.empty((len(coins), MAX_LEAD))
        s_hist[:, -1] = s0
        for k in range(MAX_LEAD - 2, -1, -1):  # a stationary AR(1) past, run backwards in distribution
            s_hist[:, k] = PHI * s_hist[:, k + 1] + np.sqrt(1 - PHI**2) * rng.standard_normal(len(coins))
        logp = np.log([c.price0 for c in coins])
        return cls(s_hist=s_hist, logp=logp, peg=np.zeros(len(coins)))


@dataclass
class MonthSeries:
    """One month of hourly series for every coin, arrays shaped (coins, hours)."""

    start: datetime
    sentiment: np.ndarray
    abs_z: np.ndarray  # |return| / sigma: drives post volume
    price: np.ndarray
    market_cap: np.ndarray
    volume: np.ndarray
    supply: np.ndarray


def simulate_month(
    coins: list[Coin], truths: list[Truth], state: MarketState, month: int, start: datetime, hours: int, seed: int
) -> MonthSeries:
    """Advance every coin by `hours` hours, updating `state` in place."""
    n = len(coins)
    shocks = [_shocks(seed, i, month, hours) for i in range(n)]
    sentiment = _ar1(state.s_hist[:, -1], np.stack([s[0] for s in shocks]), PHI)
    s_ext = np.concatenate([state.s_hist, sentiment], axis=1)
    price = np.empty((n, hours))
    returns = np.empty((n, hours))
    for i, (coin, truth) in enumerate(zip(coins, truths)):
        _, eps, jumps, peg_noise = shocks[i]
        if coin.stable:
            peg = _ar1(state.peg[i : i + 1], peg_noise[None, :] * coin.sigma, STABLE_PHI)[0]
            returns[i] = np.diff(np.log1p(np.concatenate([[state.peg[i]], peg])))
            price[i], state.peg[i] = 1.0 + peg, peg[-1]
            continue
        returns[i] = coin.sigma * (_standard_returns(truth, s_ext[i], eps, hours) + jumps)
        logp = state.logp[i] + np.cumsum(returns[i])
        price[i], state.logp[i] = np.exp(logp), logp[-1]
    years = (state.hour + np.arange(1, hours + 1)) / 8760.0
    supply = _column(coins, "supply0") * np.exp(_column(coins, "supply_growth") * years[None, :])
    market_cap = price * supply
    abs_z = np.minimum(np.abs(returns) / _return_scale(coins), 10.0)
    vol_noise = np.random.default_rng([seed, 4, month]).standard_normal((n, hours))
    volume = market_cap * _column(coins, "turnover") * np.exp(0.2 * vol_noise) * (0.6 + 0.5 * abs_z)
    state.s_hist = s_ext[:, -MAX_LEAD:]
    state.hour += hours
    return MonthSeries(start, sentiment, abs_z, price, market_cap, volume, supply)


def _standard_returns(truth: Truth, s_ext: np.ndarray, eps: np.ndarray, hours: int) -> np.ndarray:
    """Unit-scale returns: rho * s_{t-L} + sqrt(1-rho^2) * eps_t when planted, else eps_t."""
    if truth.lead_hours is None:
        return eps
    lagged = s_ext[MAX_LEAD - truth.lead_hours : MAX_LEAD - truth.lead_hours + hours]
    rho = truth.strength
    return rho * lagged + np.sqrt(1 - rho**2) * eps


def _column(coins: list[Coin], name: str) -> np.ndarray:
    return np.array([getattr(c, name) for c in coins])[:, None]


def _return_scale(coins: list[Coin]) -> np.ndarray:
    """The typical hourly |return| scale: sigma, or the std of a peg deviation's hourly change."""
    stable_scale = np.sqrt(2 * (1 - STABLE_PHI))
    return np.array([c.sigma * (stable_scale if c.stable else 1.0) for c in coins])[:, None]


def _shocks(seed: int, coin: int, month: int, hours: int) -> tuple[np.ndarray, ...]:
    """Sentiment innovations, unit-variance student-t return shocks, jumps and peg noise."""
    rng = np.random.default_rng([seed, 1, coin, month])
    eta = rng.standard_normal(hours)
    eps = rng.standard_t(T_DF, hours) / np.sqrt(T_DF / (T_DF - 2))
    jumps = (rng.random(hours) < JUMP_RATE) * rng.normal(0.0, 8.0, hours)
    peg_noise = rng.standard_normal(hours)
    return eta, eps, jumps, peg_noise


def _ar1(start: np.ndarray, innovations: np.ndarray, phi: float) -> np.ndarray:
    """x_t = phi x_{t-1} + sqrt(1-phi^2) e_t, row-wise, from x_0 = start (stationary unit variance)."""
    out = np.empty_like(innovations)
    prev, k = start, np.sqrt(1 - phi**2)
    for t in range(innovations.shape[1]):
        prev = phi * prev + k * innovations[:, t]
        out[:, t] = prev
    return out


@dataclass
class ChartStats:
    """What rendering market charts planted: points, malformed points by kind, duplicate hours."""

    points: int = 0
    files: int = 0
    malformed: Counter = field(default_factory=Counter)
    second_points: int = 0
    same_timestamp: int = 0


def render_chart(series: MonthSeries, coin: int, month: int, seed: int, stats: ChartStats, force_malformed: bool = False) -> bytes:
    """The JSON body of one coin's market_chart for one month, with duplicates and malformed points."""
    rng = np.random.default_rng([seed, 2, coin, month])
    hours = series.price.shape[1]
    hour_ms = int(series.start.timestamp()) * 1000 + np.arange(hours, dtype=np.int64) * 3_600_000
    jitter = np.clip(np.exp(rng.normal(2.5, 1.2, hours)), 1.0, 3000.0)
    ts = hour_ms + (jitter * 1000).astype(np.int64)
    values = [series.price[coin], series.market_cap[coin], series.volume[coin]]
    dup = rng.random(hours) < DUP_HOUR_RATE
    same = dup & (rng.random(hours) < 0.5)
    ts, values, is_extra = _with_second_points(rng, ts, hour_ms, values, dup, same)
    stats.second_points += int(dup.sum())
    stats.same_timestamp += int(same.sum())
    columns = [[[t, v] for t, v in zip(ts.tolist(), arr.tolist())] for arr in values]
    bad = _pick_malformed(rng, np.flatnonzero(~is_extra), force_malformed)
    _corrupt(columns, bad, rng)
    for kind, positions in bad.items():
        stats.malformed[kind] += len(positions)
    stats.points += len(ts)
    body = dict(zip(ARRAYS, columns))
    return json.dumps(body, separators=(",", ":")).encode()


def _with_second_points(
    rng: np.random.Generator, ts: np.ndarray, hour_ms: np.ndarray, values: list[np.ndarray], dup: np.ndarray, same: np.ndarray
):
    """Insert, before each duplicated hour's real point, an earlier (or same-timestamp) stale point."""
    counts = 1 + dup.astype(np.int64)
    idx = np.repeat(np.arange(len(ts)), counts)
    first = np.ones(len(idx), dtype=bool)
    first[1:] = idx[1:] != idx[:-1]
    is_extra = np.zeros(len(idx), dtype=bool)
    is_extra[:-1] = first[:-1] & ~first[1:]  # the first of a pair is the stale one
    out_ts = ts[idx].copy()
    extra_hours = idx[is_extra]
    earlier = hour_ms[extra_hours] + (rng.random(len(extra_hours)) * (ts[extra_hours] - hour_ms[extra_hours])).astype(np.int64)
    out_ts[is_extra] = np.where(same[extra_hours], ts[extra_hours], earlier)
    out_values = []
    for arr, noise in zip(values, (0.003, 0.003, 0.05)):
        v = arr[idx].copy()
        v[is_extra] *= 1.0 + rng.normal(0.0, noise, int(is_extra.sum()))
        out_values.append(v)
    return out_ts, out_values, is_extra


def _pick_malformed(rng: np.random.Generator, candidates: np.ndarray, force: bool) -> dict[str, list[int]]:
    """Distinct positions to corrupt, per kind (at least one of each when `force`)."""
    counts = rng.poisson(BAD_POINT_RATE * len(candidates), len(PRICE_MALFORMED_KINDS)) + int(force)
    total = min(int(counts.sum()), len(candidates))
    chosen = rng.choice(candidates, total, replace=False).tolist()
    out, at = {}, 0
    for kind, k in zip(PRICE_MALFORMED_KINDS, counts.tolist()):
        out[kind], at = chosen[at : at + k], at + k
    return out


def _corrupt(columns: list[list[list]], bad: dict[str, list[int]], rng: np.random.Generator) -> None:
    """A negative price, a null in one array, or a non-numeric (ISO string) timestamp in all three."""
    for pos in bad["price_negative"]:
        columns[0][pos][1] = -abs(columns[0][pos][1])
    for pos in bad["price_null"]:
        columns[int(rng.integers(0, 3))][pos][1] = None
    for pos in bad["price_bad_timestamp"]:
        iso = np.datetime64(columns[0][pos][0], "ms").astype(str) + "Z"
        for col in columns:
            col[pos][0] = iso


def render_unknown_coin(start: datetime, hours: int, seed: int) -> tuple[bytes, int]:
    """A well-formed chart for a coin id absent from coins_list.json, and its number of points."""
    rng = np.random.default_rng([seed, 5])
    hour_ms = int(start.timestamp()) * 1000 + np.arange(hours, dtype=np.int64) * 3_600_000
    ts = (hour_ms + rng.integers(1_000, 120_000, hours)).tolist()
    price = (0.42 * np.exp(np.cumsum(rng.normal(0, 0.01, hours)))).tolist()
    cap = [p * 3.1e8 for p in price]
    vol = [c * 0.03 for c in cap]
    body = {name: [[t, v] for t, v in zip(ts, arr)] for name, arr in zip(ARRAYS, (price, cap, vol))}
    return json.dumps(body, separators=(",", ":")).encode(), hours
