"""Half-open intervals of whole UTC days, the unit every step works on."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

EARLIEST_DAY, LATEST_DAY = dt.date(1970, 1, 1), dt.date(2100, 1, 1)  # days a user may name (--start, --end)


class IntervalError(ValueError):
    """A date or interval the user gave that cannot be used."""


@dataclass(frozen=True, order=True)
class Interval:
    """Days `start` ≤ d < `end` (UTC)."""

    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise IntervalError(f"empty interval: end {self.end} must be after start {self.start}")

    @classmethod
    def parse(cls, start: str, end: str) -> Interval:
        return cls(parse_day(start, "--start"), parse_day(end, "--end"))

    @classmethod
    def covering(cls, first: dt.date, last: dt.date) -> Interval:
        """The interval holding the days `first` … `last` inclusive."""
        return cls(first, last + dt.timedelta(days=1))

    @property
    def start_ts(self) -> dt.datetime:
        return dt.datetime.combine(self.start, dt.time())

    @property
    def end_ts(self) -> dt.datetime:
        return dt.datetime.combine(self.end, dt.time())

    @property
    def n_days(self) -> int:
        return (self.end - self.start).days

    def days(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=i) for i in range(self.n_days)]

    def batches(self, n_days: int) -> list[Interval]:
        """Consecutive intervals of `n_days` days (the last one shorter) that together are this one."""
        if n_days < 1:
            raise IntervalError(f"a batch must hold at least one day, got {n_days}")
        starts = self.days()[::n_days]
        return [Interval(s, min(s + dt.timedelta(days=n_days), self.end)) for s in starts]

    def months(self) -> list[str]:
        """`YYYY-MM` of every month the interval touches."""
        return sorted({d.strftime("%Y-%m") for d in self.days()})

    def widen_to_months(self) -> Interval:
        """The smallest interval of whole months that contains this one."""
        start = self.start.replace(day=1)
        last = self.end - dt.timedelta(days=1)
        end = (last.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        return Interval(start, end)

    def __str__(self) -> str:
        return f"[{self.start}, {self.end})"


def parse_day(text: str, what: str = "date") -> dt.date:
    try:
        day = dt.date.fromisoformat(text)
    except (TypeError, ValueError):
        raise IntervalError(f"{what} '{text}' is not a date in YYYY-MM-DD form") from None
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise IntervalError(f"{what} {day} is out of range: give a day from {EARLIEST_DAY} to {LATEST_DAY}")
    return day
