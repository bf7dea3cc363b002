"""The sidebar every page shares: coin picker, UTC date range, and the published version being shown."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import streamlit as st

from cryptopulse.dashboard import fmt
from cryptopulse.dashboard.data import Published

DEFAULT_DAYS = 30


@dataclass(frozen=True)
class Selection:
    """The coin and the half-open range of UTC days [start, end) the pages show."""

    coin_id: str
    label: str
    start: dt.date
    end: dt.date

    @property
    def last_day(self) -> dt.date:
        return self.end - dt.timedelta(days=1)

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def describe(self) -> str:
        return f"{self.label}, {self.start:%Y-%m-%d} → {self.last_day:%Y-%m-%d} (UTC days)"


def sidebar(pub: Published) -> Selection | None:
    """Draw the coin picker and date range; None when no tracked coin is published."""
    _version_caption(pub)
    coins = pub.query("coins")
    extent = pub.query("date_extent").iloc[0]
    if coins.empty or extent["first_day"] is None:
        st.sidebar.info("no tracked coin published yet — run `cryptopulse run`")
        return None
    labels = {r.coin_id: f"{r.name} ({r.symbol.upper()})" for r in coins.itertuples()}
    if st.session_state.get("coin") not in labels:
        st.session_state["coin"] = next(iter(labels))
    coin = st.sidebar.selectbox("Coin", list(labels), format_func=labels.get, key="coin", bind="query-params")
    first, last = extent["first_day"], extent["last_day"]
    chosen = st.session_state.get("dates")
    if not chosen or not all(first <= d <= last for d in chosen):
        st.session_state["dates"] = (max(first, last - dt.timedelta(days=DEFAULT_DAYS - 1)), last)
    picked = st.sidebar.date_input("Dates (UTC, inclusive)", min_value=first, max_value=last, key="dates", format="YYYY-MM-DD",
                                   bind="query-params")
    start, stop = (picked[0], picked[-1]) if picked else (first, last)  # one day while the second is being picked
    st.sidebar.caption(f"Published data: {first:%Y-%m-%d} → {last:%Y-%m-%d}. All times are UTC.")
    return Selection(coin, labels[coin], start, stop + dt.timedelta(days=1))


def _version_caption(pub: Published) -> None:
    snap = pub.snapshot
    st.sidebar.markdown(f"**Published version {snap.version}**  \nrun `{snap.run_id}`, published {fmt.utc(snap.published_at)}")
