"""A token bucket per caller (key id, or client address for anonymous reads), kept in this process."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

MAX_BUCKETS = 10_000


@dataclass
class _Bucket:
    tokens: float
    stamp: float


class RateLimiter:
    """`rate` requests per second on average, `burst` at once, per caller."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, caller: str) -> float:
        """Spend one token of `caller`'s bucket: 0 if allowed, else the seconds until a token is back."""
        now = time.monotonic()
        with self._lock:
            bucket = self._buckets.get(caller)
            if bucket is None:
                if len(self._buckets) >= MAX_BUCKETS:
                    self._forget_full(now)
                bucket = self._buckets[caller] = _Bucket(float(self.burst), now)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.stamp) * self.rate)
            bucket.stamp = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return 0.0
            return (1 - bucket.tokens) / self.rate

    def _forget_full(self, now: float) -> None:
        """Drop callers whose bucket has refilled (they lose nothing), so unknown callers cannot grow memory."""
        full = [c for c, b in self._buckets.items() if b.tokens + (now - b.stamp) * self.rate >= self.burst]
        for caller in full:
            del self._buckets[caller]


def retry_after(wait: float) -> str:
    """`wait` seconds as a Retry-After value (whole seconds, at least 1)."""
    return str(max(1, math.ceil(wait)))
